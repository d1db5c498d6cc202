"""DNS providers as configured by technicians."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from provisioner.db import UTCDateTime, db, utcnow

PROVIDER_KINDS = ("rfc2136", "route53", "zonefile")


class DnsProviderConfig(db.Model):
    """A configured provider. Secrets stay in files named here, not in the database."""

    __tablename__ = "dns_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
