"""DNS change requests and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.cases.models import Case
from provisioner.db import UTCDateTime, db, utcnow
from provisioner.registry.models import Domain
from provisioner.schools.models import School, User

CHANNELS = ("portal", "api", "email", "phone", "system")  # system: a technician's undo
STATUSES = ("submitted", "approved", "applying", "applied", "verified", "rejected", "failed")
OPEN_STATUSES = ("submitted", "approved", "applying", "applied", "failed")
# Statuses a technician may approve from: failed -> approve again re-plans.
APPROVABLE = ("submitted", "failed")
STATUS_LABELS = {
    "submitted": "Waiting for review",
    "approved": "Approved",
    "applying": "Being applied",
    "applied": "Applied, checking",
    "verified": "Done",
    "rejected": "Rejected",
    "failed": "Failed",
}
IMPACTS = {
    "service_request": "A routine change (no one is affected yet)",
    "degraded": "Something works but badly, or there is a workaround",
    "multiple_users": "Several people cannot work normally",
    "critical": "Email or the website is down for the whole school",
}


class DnsChangeRequest(db.Model):
    __tablename__ = "dns_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # phone
    channel: Mapped[str] = mapped_column(String(10))
    changes: Mapped[list] = mapped_column(JSON)  # the API's shape, as asked (or edited)
    notes: Mapped[str] = mapped_column(Text, default="")
    apply_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    impact: Mapped[str] = mapped_column(String(30), default="service_request")
    short_notice: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    # The plan a technician approved (Plan.to_dict()) and its checksum: the apply
    # re-plans against the live zone and refuses unless it yields this checksum.
    plan: Mapped[dict | None] = mapped_column(JSON)
    plan_checksum: Mapped[str | None] = mapped_column(String(64))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forced_reason: Mapped[str | None] = mapped_column(Text)
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    # Set once the apply operation is enqueued, so the scheduler queues it once.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    zone_change_id: Mapped[int | None] = mapped_column(ForeignKey("zone_changes.id"))
    rollback_of_id: Mapped[int | None] = mapped_column(ForeignKey("dns_change_requests.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    domain: Mapped[Domain] = relationship(lazy="joined")
    school: Mapped[School] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    case: Mapped[Case] = relationship(lazy="joined")
    rollback_of: Mapped[DnsChangeRequest | None] = relationship(remote_side=[id])
    events: Mapped[list[DnsRequestEvent]] = relationship(
        back_populates="request", order_by="DnsRequestEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_dns_change_requests_due", "status", "apply_after"),)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class DnsRequestEvent(db.Model):
    """One step in a request's history, with the changes before and after an edit."""

    __tablename__ = "dns_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("dns_change_requests.id"), index=True)
    # submitted, edited, approved, scheduled, rejected, applying, applied, verified,
    # attempt_failed, failed, retried, rollback_requested
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[list | dict | None] = mapped_column(JSON)
    after: Mapped[list | dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DnsChangeRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")
