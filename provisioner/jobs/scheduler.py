"""The periodic-job scheduler, safe to run on many machines at once.

Each job has a row in job_runs. A scheduler runs a due job only after a
conditional UPDATE gives it the row's lease (due, and nobody holds a live
lease), so each due run happens once and never overlaps itself, whether one
`provisioner scheduler`, several `serve` processes, or cron's
`provisioner jobs run-due` are running. That makes Celery beat unnecessary:
the database is the lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from provisioner.db import db
from provisioner.errors import ProvisionerError
from provisioner.jobs.models import JobRun
from provisioner.jobs.registry import REGISTRY, PeriodicJob
from provisioner.jobs.runtime import worker_name
from provisioner.jobs.timing import Clock, SystemClock, next_daily, next_every

log = logging.getLogger("provisioner.jobs.scheduler")
J = JobRun.__table__


def first_due(job: PeriodicJob, now: datetime) -> datetime:
    # Interval jobs start at once; daily jobs wait for their next wall-clock time.
    return now if job.every else next_daily(job.daily_at, now, job.tz)


def following_due(job: PeriodicJob, due: datetime, now: datetime) -> datetime:
    if job.every:
        return next_every(due, job.every, now)
    return next_daily(job.daily_at, now, job.tz)


@dataclass
class RunOutcome:
    name: str
    status: str  # "succeeded", "failed" or "skipped" (not due, or run elsewhere)
    error: str | None = None


class _LeaseKeeper(threading.Thread):
    """Renews a running job's lease, so a long run is never taken for a dead one."""

    def __init__(self, app: Flask, job: PeriodicJob, owner: str, clock: Clock):
        super().__init__(name=f"lease-{job.name}", daemon=True)
        self.app, self.job, self.owner, self.clock = app, job, owner, clock
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            engine = db.engine
        while not self.stopping.wait(self.job.lease.total_seconds() / 3):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(J)
                        .where(J.c.name == self.job.name, J.c.lease_owner == self.owner)
                        .values(lease_expires_at=self.clock.now() + self.job.lease)
                    )
            except SQLAlchemyError as exc:  # the next tick tries again; the lease has slack
                log.warning("could not renew the lease of %s: %s", self.job.name, exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


class Scheduler:
    def __init__(self, app: Flask, *, clock: Clock | None = None, tick: float = 1.0):
        self.app = app
        self.clock = clock or SystemClock()
        self.tick = tick
        self.owner = worker_name("scheduler")
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _ensure_rows(self, conn, now: datetime) -> None:
        known = set(conn.execute(select(J.c.name)).scalars())
        rows = [
            {"name": job.name, "next_due_at": first_due(job, now), "runs": 0}
            for job in REGISTRY.periodic.values()
            if job.name not in known
        ]
        if not rows:
            return
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(pg_insert(J).on_conflict_do_nothing(), rows)
        elif dialect == "sqlite":
            conn.execute(sqlite_insert(J).on_conflict_do_nothing(), rows)
        else:
            conn.execute(insert(J), rows)

    def _take(self, job: PeriodicJob, now: datetime) -> datetime | None:
        """Win the job's lease if it is due; returns the due time we won, else None."""
        with self.app.app_context():
            engine = db.engine
        with engine.begin() as conn:
            due = conn.execute(select(J.c.next_due_at).where(J.c.name == job.name)).scalar()
            if due is None or due > now:
                return None
            won = conn.execute(
                update(J)
                .where(
                    J.c.name == job.name,
                    J.c.next_due_at == due,
                    (J.c.lease_owner.is_(None)) | (J.c.lease_expires_at < now),
                )
                .values(
                    lease_owner=self.owner,
                    lease_expires_at=now + job.lease,
                    last_started_at=now,
                    runs=J.c.runs + 1,
                )
            )
            return due if won.rowcount == 1 else None

    def run_due(self, only: list[str] | None = None, on_each=None) -> list[RunOutcome]:
        """One pass: run every due job this scheduler wins, one after another."""
        now = self.clock.now()
        with self.app.app_context():
            with db.engine.begin() as conn:
                self._ensure_rows(conn, now)
        outcomes = []
        for name in sorted(REGISTRY.periodic):
            if only and name not in only:
                continue
            outcome = self._run_one(REGISTRY.periodic[name], now)
            outcomes.append(outcome)
            if on_each:
                on_each(outcome)
        return outcomes

    def _run_one(self, job: PeriodicJob, now: datetime) -> RunOutcome:
        due = self._take(job, now)
        if due is None:
            return RunOutcome(job.name, "skipped")
        status, error = "succeeded", None
        keeper = _LeaseKeeper(self.app, job, self.owner, self.clock)
        keeper.start()
        with self.app.app_context():
            try:
                job.func(now)
            except ProvisionerError as exc:
                status, error = "failed", exc.message
                log.error("periodic job %s failed: %s", job.name, exc.message)
            except Exception as exc:  # recorded on the job row and in the log, then re-armed
                status, error = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("periodic job %s raised", job.name)
            finally:
                keeper.stop()
                db.session.remove()
            finished = self.clock.now()
            with db.engine.begin() as conn:
                conn.execute(
                    update(J)
                    .where(J.c.name == job.name, J.c.lease_owner == self.owner)
                    .values(
                        lease_owner=None,
                        lease_expires_at=None,
                        last_finished_at=finished,
                        last_status=status,
                        last_error=error,
                        next_due_at=following_due(job, due, finished),
                    )
                )
        return RunOutcome(job.name, status, error)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_due()
            except SQLAlchemyError as exc:  # database down or busy: try again next tick
                log.error("scheduler %s cannot reach the database: %s", self.owner, exc)
                self.stopping.wait(max(self.tick, 5.0))
            self.stopping.wait(self.tick)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread:
            self._thread.join()


def job_rows() -> list[JobRun]:
    return list(db.session.execute(select(JobRun).order_by(JobRun.name)).scalars())
