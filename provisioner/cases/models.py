"""Cases, their timeline and pauses, and the calendar versions their clocks run on."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.db import UTCDateTime, db, utcnow
from provisioner.schools.models import School, User

CHANNELS = ("phone", "email", "portal", "api", "system")
CATEGORIES = ("dns_change", "domain_registration", "domain_renewal", "hosting", "general")
STATUSES = ("new", "in_progress", "awaiting_school", "resolved", "closed")
OPEN_STATUSES = ("new", "in_progress", "awaiting_school")

CATEGORY_LABELS = {
    "dns_change": "DNS change",
    "domain_registration": "Domain registration",
    "domain_renewal": "Domain renewal",
    "hosting": "Hosting",
    "general": "General",
}
STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "awaiting_school": "Awaiting school",
    "resolved": "Resolved",
    "closed": "Closed",
}


class CalendarVersion(db.Model):
    """One loaded calendar file, kept verbatim; the newest is the one in force."""

    __tablename__ = "calendar_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship()


class CaseSequence(db.Model):
    """Last reference number handed out per year; one row, updated under its lock."""

    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    impact: Mapped[str | None] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clock_start: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    agreed_due: Mapped[date | None]
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_risk: Mapped[bool] = mapped_column(default=False)
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_risk_notified: Mapped[bool] = mapped_column(default=False)
    breached: Mapped[bool] = mapped_column(default=False)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_notified: Mapped[bool] = mapped_column(default=False)
    calendar_version_id: Mapped[int] = mapped_column(ForeignKey("calendar_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(lazy="joined")
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    calendar_version: Mapped[CalendarVersion] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    pauses: Mapped[list[CasePause]] = relationship(
        back_populates="case", order_by="CasePause.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_cases_open_due", "status", "due_at"),)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def open_pause(self) -> CasePause | None:
        return next((p for p in self.pauses if p.ended_at is None), None)


class CaseEvent(db.Model):
    """One line of a case's timeline. Internal notes are never shown to the school."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # created, reply, note, status, priority, assigned, pause, resume, recomputed,
    # at_risk, breached, resolved, operation
    kind: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(default=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class CasePause(db.Model):
    """Time awaiting the school: the clock does not run (service rule 5)."""

    __tablename__ = "case_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="pauses")
