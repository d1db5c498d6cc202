"""Operations (the outbox), their log lines, and the periodic-job locks.

Models do no I/O; the claiming and state changes live in claim.py and runner.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from provisioner.db import UTCDateTime, db, utcnow

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ACTIVE = (PENDING, RUNNING)
TERMINAL = (SUCCEEDED, FAILED, CANCELLED)


class Operation(db.Model):
    """One durable request to act on the outside world.

    The row is written in the same transaction as the change that needs it, and
    it stays the source of truth whichever executor runs it. Operations on one
    resource_key run one at a time, in id order (the id is the FIFO sequence).
    """

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    resource_key: Mapped[str] = mapped_column(String(255))
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # The case this serves; no foreign key yet because cases are built in parallel.
    case_id: Mapped[int | None] = mapped_column(index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the Celery relay last sent this row's id; None = never sent by the relay.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        Index("ix_operations_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_operations_resource_key_status", "resource_key", "status"),
    )

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class OperationLogLine(db.Model):
    __tablename__ = "operation_log_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    line: Mapped[str] = mapped_column(Text)


class JobRun(db.Model):
    """The lock and bookkeeping of one periodic job, shared by every scheduler.

    A scheduler runs a job only after winning a conditional UPDATE on this row
    (due, and no live lease), so a job never runs twice at once, across machines.
    """

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(12))
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(default=0)
