"""The Celery executor: Redis carries operation ids, the database row stays the truth.

A message says only "look at operation N". The worker claims N with the same
conditional claim as the embedded executor, runs it through the same runner,
then keeps draining that resource's queue in order. Messages that find their
operation already taken, not due, or finished do nothing. Rows committed while
the broker was down, retries whose back-off has elapsed and operations whose
worker died are published again by the relay, a periodic job of the scheduler.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from celery import Celery
from flask import Flask
from kombu.exceptions import KombuError, OperationalError
from sqlalchemy import or_, select, update

from provisioner.db import db
from provisioner.jobs import claim as claiming
from provisioner.jobs.models import PENDING, Operation
from provisioner.jobs.registry import REGISTRY
from provisioner.jobs.runner import execute
from provisioner.jobs.runtime import runtime, worker_name
from provisioner.jobs.timing import Clock, SystemClock

log = logging.getLogger("provisioner.jobs.celery")
TASK = "provisioner.run_operation"
OPS = Operation.__table__
_LOCK = threading.Lock()


def celery_for(app: Flask) -> Celery:
    state = runtime(app)
    if state.celery is None:
        with _LOCK:
            if state.celery is None:
                state.celery = _build(app, state.broker_url)
    return state.celery


def _build(app: Flask, broker_url: str) -> Celery:
    celery = Celery("provisioner", broker=broker_url, set_as_current=False)
    celery.conf.update(
        task_default_queue=app.config.get("JOBS_QUEUE", "provisioner-operations"),
        task_ignore_result=True,
        # The row is the truth: a lost message is re-sent by the relay, so ack early
        # and let one worker hold at most one message it has not started.
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
    )
    owner = worker_name("celery")
    clock = SystemClock()

    @celery.task(name=TASK)
    def run_operation(op_id: int) -> None:
        run_and_drain(app, op_id, owner, clock)

    return celery


def run_and_drain(app: Flask, op_id: int, owner: str, clock: Clock) -> int:
    """Run operation `op_id` if it can start now, then the rest of its resource's queue."""
    with app.app_context():
        engine = db.engine
        resource = db.session.execute(select(OPS.c.resource_key).where(OPS.c.id == op_id)).scalar()
        db.session.remove()
    if resource is None:
        return 0
    kinds = sorted(REGISTRY.handlers)
    ran = 0
    claimed = claiming.claim(
        engine, owner, clock.now(), kinds, claiming.CLAIM_LEASE, operation_id=op_id
    )
    while claimed is not None:
        execute(app, claimed, owner, clock)
        ran += 1
        claimed = claiming.claim(
            engine, owner, clock.now(), kinds, claiming.CLAIM_LEASE, resource_key=resource
        )
    return ran


def publish(app: Flask, ids: list[int], *, force: bool = False) -> bool:
    """Send ids to the broker; False (and a log line) if it cannot be reached.

    After a failure, request threads stop trying for BROKER_RETRY_SECONDS so a
    dead broker does not add its connect timeout to every commit; the relay
    (force=True) keeps trying and sends whatever was committed meanwhile.
    """
    state = runtime(app)
    if not force and time.monotonic() < state.broker_down_until:
        return False
    celery = celery_for(app)
    try:
        for op_id in ids:
            celery.send_task(TASK, args=[op_id], retry=False)
    except (OperationalError, KombuError, OSError) as exc:
        pause = float(app.config.get("BROKER_RETRY_SECONDS", 10))
        state.broker_down_until = time.monotonic() + pause
        log.warning("broker unreachable, %d operation(s) wait for the relay: %s", len(ids), exc)
        return False
    state.broker_down_until = 0.0
    return True


def relay(
    app: Flask,
    now,
    *,
    grace: timedelta = timedelta(seconds=10),
    republish_after: timedelta = timedelta(minutes=5),
    limit: int = 500,
) -> list[int]:
    """Publish every operation that can start now but may have no message in the broker.

    A row is sent when it was committed more than `grace` ago and the relay has
    not sent it yet, or sent it more than `republish_after` ago; running rows
    whose lease expired (their worker died) are always sent.
    """
    with app.app_context():
        with db.engine.begin() as conn:
            ready = claiming.claimable_ids(conn, now, sorted(REGISTRY.handlers), limit)
            if not ready:
                return []
            stale = (
                conn.execute(
                    select(OPS.c.id).where(
                        OPS.c.id.in_(ready),
                        or_(
                            OPS.c.status != PENDING,
                            (OPS.c.published_at.is_(None) & (OPS.c.attempts > 0)),  # a due retry
                            (OPS.c.published_at.is_(None) & (OPS.c.next_attempt_at <= now - grace)),
                            OPS.c.published_at <= now - republish_after,
                        ),
                    )
                )
                .scalars()
                .all()
            )
        if stale and publish(app, list(stale), force=True):
            with db.engine.begin() as conn:
                conn.execute(update(OPS).where(OPS.c.id.in_(stale)).values(published_at=now))
            return list(stale)
    return []


def start_worker(
    app: Flask, *, concurrency: int = 2, pool: str = "threads", loglevel: str = "INFO"
) -> None:
    """Run a Celery worker in this process (blocks); `provisioner worker` calls this."""
    celery = celery_for(app)
    celery.worker_main(
        [
            "worker",
            f"--loglevel={loglevel}",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--hostname=provisioner-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
