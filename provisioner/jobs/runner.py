"""Running one claimed operation: the single code path of every executor.

The handler's own database work (through db.session) commits in the same
transaction as the "succeeded" mark, and that mark is conditional on still
holding the lease: a worker that lost its lease (it stalled, another took
over) rolls its work back, so database effects happen exactly once. Effects
outside the database are the handler's to make idempotent.
"""

from __future__ import annotations

import logging
import random
import threading
import traceback
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from provisioner.db import db, utcnow
from provisioner.errors import ProvisionerError
from provisioner.jobs import claim as claiming
from provisioner.jobs.errors import PermanentError, RetryableError
from provisioner.jobs.models import FAILED, PENDING, RUNNING, SUCCEEDED, Operation, OperationLogLine
from provisioner.jobs.registry import REGISTRY, HandlerSpec
from provisioner.jobs.timing import Clock, backoff_delay

log = logging.getLogger("provisioner.jobs")
OPS = Operation.__table__
LINES = OperationLogLine.__table__


@dataclass
class OperationContext:
    """What a handler gets: its payload, a log, and how to know it lost its lease."""

    id: int
    kind: str
    payload: dict
    attempt: int
    resource_key: str
    case_id: int | None
    clock: Clock
    lease_lost: threading.Event = field(default_factory=threading.Event)
    _lines: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, line: str) -> None:
        """Add a line to the operation's log; it appears on the page within a second."""
        log.info("operation %s: %s", self.id, line)
        with self._lock:
            self._lines.append({"operation_id": self.id, "at": self.clock.now(), "line": line})

    def take_lines(self) -> list[dict]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines


def write_lines(engine, lines: list[dict]) -> None:
    if lines:
        with engine.begin() as conn:
            conn.execute(insert(LINES), lines)


class Heartbeat(threading.Thread):
    """Renews the lease and streams buffered log lines while a handler runs."""

    def __init__(self, engine, ctx: OperationContext, owner: str, spec: HandlerSpec, clock):
        super().__init__(name=f"heartbeat-{ctx.id}", daemon=True)
        self.engine, self.ctx, self.owner, self.spec, self.clock = engine, ctx, owner, spec, clock
        self.stopping = threading.Event()

    def run(self) -> None:
        renew_every = self.spec.lease.total_seconds() / 3
        since_renew = 0.0
        while not self.stopping.wait(0.5):
            since_renew += 0.5
            try:
                write_lines(self.engine, self.ctx.take_lines())
                if since_renew >= renew_every:
                    since_renew = 0.0
                    until = self.clock.now() + self.spec.lease
                    if not claiming.renew(self.engine, self.ctx.id, self.owner, until):
                        self.ctx.lease_lost.set()
            except SQLAlchemyError as exc:  # the database blinked: try again next tick
                log.warning("operation %s: could not renew its lease: %s", self.ctx.id, exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def execute(
    app: Flask, op_id: int, owner: str, clock: Clock, rng: random.Random | None = None
) -> str:
    """Run operation `op_id`, already claimed by `owner`; returns its new status."""
    with app.app_context():
        engine = db.engine
        row = db.session.execute(select(OPS).where(OPS.c.id == op_id)).one()
        db.session.rollback()  # end the read, so SQLite holds no snapshot while we work
        spec = REGISTRY.handlers[row.kind]
        if spec.lease != claiming.CLAIM_LEASE:
            claiming.renew(engine, op_id, owner, clock.now() + spec.lease)
        ctx = OperationContext(
            op_id,
            row.kind,
            dict(row.payload or {}),
            row.attempts,
            row.resource_key,
            row.case_id,
            clock,
        )
        ctx.log(f"attempt {row.attempts} of {row.max_attempts} started by {owner}")
        beat = Heartbeat(engine, ctx, owner, spec, clock)
        beat.start()
        try:
            status = _run_handler(spec, ctx, row, owner, clock, rng)
        finally:
            beat.stop()
            write_lines(engine, ctx.take_lines())
            db.session.remove()
        if status == FAILED:
            _final_failure_hooks(op_id)
        return status


def _mine(op_id: int, owner: str):
    return update(OPS).where(OPS.c.id == op_id, OPS.c.lease_owner == owner, OPS.c.status == RUNNING)


def _run_handler(spec, ctx, row, owner, clock, rng) -> str:
    try:
        result = spec.func(ctx)
    except RetryableError as exc:
        return _failed(ctx, row, owner, clock, rng, exc.message, retry=True)
    except PermanentError as exc:
        return _failed(ctx, row, owner, clock, rng, exc.message, retry=False)
    except spec.retryable as exc:
        return _failed(ctx, row, owner, clock, rng, f"{type(exc).__name__}: {exc}", retry=True)
    except ProvisionerError as exc:
        return _failed(ctx, row, owner, clock, rng, exc.message, retry=False)
    except Exception as exc:  # a bug in a handler: recorded in full, never retried blindly
        log.exception("operation %s (%s) raised an unexpected error", ctx.id, ctx.kind)
        for line in traceback.format_exc().rstrip().splitlines():
            ctx.log(line)
        return _failed(
            ctx, row, owner, clock, rng, f"unexpected error {type(exc).__name__}: {exc}", False
        )
    if result is not None and not isinstance(result, dict):
        db.session.rollback()
        return _failed(
            ctx,
            row,
            owner,
            clock,
            rng,
            f"handler for {ctx.kind} returned {type(result).__name__}, not a dict",
            False,
        )
    now = clock.now()
    done = db.session.execute(
        _mine(ctx.id, owner).values(
            status=SUCCEEDED,
            result=result or {},
            error=None,
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    if done.rowcount != 1:
        db.session.rollback()
        ctx.log("lease lost before the result was saved; the work is left to the new holder")
        return RUNNING
    ctx.log("succeeded")
    _commit_with_lines(ctx)
    return SUCCEEDED


def _commit_with_lines(ctx) -> None:
    # The last log lines commit with the new status: one write instead of two.
    lines = ctx.take_lines()
    if lines:
        db.session.execute(insert(LINES), lines)
    db.session.commit()


def _failed(ctx, row, owner, clock, rng, message: str, retry: bool) -> str:
    db.session.rollback()  # the handler's half-done database work goes
    now = clock.now()
    if retry and row.attempts < row.max_attempts:
        spec = REGISTRY.handlers[row.kind]
        wait = backoff_delay(row.attempts, spec.backoff_base, spec.backoff_cap, rng)
        values = dict(
            status=PENDING,
            next_attempt_at=now + wait,
            error=message,
            lease_owner=None,
            lease_expires_at=None,
            published_at=None,
        )
        outcome = PENDING
        ctx.log(f"failed, will retry in {wait.total_seconds():.0f}s: {message}")
    else:
        values = dict(
            status=FAILED, error=message, finished_at=now, lease_owner=None, lease_expires_at=None
        )
        outcome = FAILED
        why = "after the last attempt" if retry else "permanently"
        ctx.log(f"failed {why}: {message}")
    changed = db.session.execute(_mine(ctx.id, owner).values(**values))
    if changed.rowcount != 1:
        db.session.rollback()
        return RUNNING
    _commit_with_lines(ctx)
    return outcome


def _final_failure_hooks(op_id: int) -> None:
    operation = db.session.get(Operation, op_id)
    for hook in list(REGISTRY.final_failure_hooks):
        try:
            hook(operation)
        except Exception as exc:  # one feature's hook must not stop the others, or the worker
            db.session.rollback()
            message = exc.message if isinstance(exc, ProvisionerError) else repr(exc)
            log.exception("final-failure hook %s for operation %s failed", hook, op_id)
            with db.engine.begin() as conn:
                conn.execute(
                    insert(LINES),
                    [{"operation_id": op_id, "at": utcnow(), "line": f"hook failed: {message}"}],
                )
            operation = db.session.get(Operation, op_id)
    db.session.remove()
