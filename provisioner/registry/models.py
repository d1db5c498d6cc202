"""Domains a school manages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.db import UTCDateTime, db, utcnow
from provisioner.schools.models import School
from provisioner.zones.models import DnsProviderConfig


class Domain(db.Model):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)  # IDNA, lower case
    unicode_name: Mapped[str] = mapped_column(String(253))
    registrable_name: Mapped[str] = mapped_column(String(253), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("dns_providers.id"))
    expires_on: Mapped[date | None]
    expiry_source: Mapped[str | None] = mapped_column(String(20))
    expiry_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_registry_expiry: Mapped[bool] = mapped_column(default=False)
    auto_renew: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(lazy="joined")
    provider: Mapped[DnsProviderConfig | None] = relationship(lazy="joined")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "unicode_name": self.unicode_name,
            "school_urn": self.school.urn,
            "provider": self.provider.name if self.provider else None,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
        }
