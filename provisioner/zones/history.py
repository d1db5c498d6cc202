"""What the product did to each zone: snapshots and applied plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.db import UTCDateTime, db, utcnow
from provisioner.registry.models import Domain


class ZoneChange(db.Model):
    """One applied plan, with the live zone before it, for history and rollback."""

    __tablename__ = "zone_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # cli, request, rollback
    reference: Mapped[str | None] = mapped_column(String(64))  # request id, case...
    checksum: Mapped[str] = mapped_column(String(64))
    plan: Mapped[dict] = mapped_column(JSON)
    before: Mapped[list] = mapped_column(JSON)  # live records before the apply
    after: Mapped[list] = mapped_column(JSON)  # records the plan produced
    forced_reason: Mapped[str | None] = mapped_column(Text)
    atomic: Mapped[bool] = mapped_column(default=True)
    verification: Mapped[dict | None] = mapped_column(JSON)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rolled_back_by_id: Mapped[int | None] = mapped_column(ForeignKey("zone_changes.id"))

    domain: Mapped[Domain] = relationship()

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "domain": self.domain.name,
            "source": self.source,
            "reference": self.reference,
            "checksum": self.checksum,
            "changes": self.plan.get("changes", []),
            "atomic": self.atomic,
            "verification": self.verification,
            "applied_at": self.applied_at.isoformat(),
            "rolled_back_by": self.rolled_back_by_id,
        }


class ZoneDrift(db.Model):
    """The last drift found for a domain, so technicians hear of each new drift once."""

    __tablename__ = "zone_drift"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), unique=True)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
