"""The embedded executor: worker threads polling the database, no extra servers.

Runs inside `provisioner serve` (start_background) and in `provisioner worker`
when no broker is configured; any number of such processes may share one
database. Commits in the same process wake the threads at once; other
processes' commits are seen at the next poll.
"""

from __future__ import annotations

import logging
import random
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from provisioner.db import db
from provisioner.jobs import claim as claiming
from provisioner.jobs.registry import REGISTRY, load_task_modules
from provisioner.jobs.runner import execute
from provisioner.jobs.runtime import runtime, worker_name
from provisioner.jobs.timing import Clock, SystemClock

log = logging.getLogger("provisioner.jobs")


class EmbeddedExecutor:
    def __init__(
        self,
        app: Flask,
        *,
        threads: int = 2,
        poll_interval: float = 1.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ):
        self.app = app
        self.threads = threads
        self.poll_interval = poll_interval
        self.clock = clock or SystemClock()
        self.rng = rng
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.name = worker_name("embedded")

    def run_once(self, owner: str | None = None) -> int | None:
        """Claim and run one operation; returns its id, or None if nothing was ready."""
        with self.app.app_context():
            engine = db.engine
        op_id = claiming.claim(
            engine,
            owner or self.name,
            self.clock.now(),
            sorted(REGISTRY.handlers),
            claiming.CLAIM_LEASE,
        )
        if op_id is not None:
            execute(self.app, op_id, owner or self.name, self.clock, self.rng)
        return op_id

    def run_until_idle(self, on_done=None) -> int:
        """Run operations until none is ready now (tests, `worker --until-idle`)."""
        count = 0
        while (op_id := self.run_once()) is not None:
            count += 1
            if on_done:
                on_done(op_id)
        return count

    def _loop(self, index: int) -> None:
        owner = f"{self.name}/{index}"
        wake = runtime(self.app).wake
        while not self.stopping.is_set():
            try:
                if self.run_once(owner) is not None:
                    continue
            except SQLAlchemyError as exc:  # database down or busy: keep the thread alive
                log.error("worker %s cannot reach the database: %s", owner, exc)
                self.stopping.wait(max(self.poll_interval, 5.0))
                continue
            except Exception:  # a bug must not silently shrink the pool: log it, carry on
                log.exception("worker %s: unexpected error outside any handler", owner)
                self.stopping.wait(max(self.poll_interval, 5.0))
                continue
            wake.wait(self.poll_interval)
            wake.clear()

    def _listen(self) -> None:
        """PostgreSQL: wake at once when another process commits an operation."""
        import psycopg

        from provisioner.jobs.service import NOTIFY_CHANNEL

        with self.app.app_context():
            url = db.engine.url.set(drivername="postgresql")
        wake = runtime(self.app).wake
        while not self.stopping.is_set():
            try:
                with psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True
                ) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self.stopping.is_set():
                        for _note in conn.notifies(timeout=1.0, stop_after=1):
                            wake.set()
            except psycopg.OperationalError as exc:  # polling still works; listen again soon
                log.warning("LISTEN failed, relying on polling: %s", exc)
                self.stopping.wait(self.poll_interval)

    def start(self) -> None:
        with self.app.app_context():
            dialect = db.engine.dialect.name
        if dialect == "postgresql":
            listener = threading.Thread(target=self._listen, name="jobs-listen", daemon=True)
            listener.start()
            self._threads.append(listener)
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"provisioner-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; operations in progress finish (or their lease lapses)."""
        self.stopping.set()
        runtime(self.app).wake.set()
        for thread in self._threads:
            thread.join(timeout)


def start_background(app: Flask) -> dict:
    """Start the worker threads (unless Celery runs operations) and the scheduler thread."""
    from provisioner.jobs.scheduler import Scheduler

    load_task_modules()
    started: dict = {}
    if not runtime(app).uses_celery:
        executor = EmbeddedExecutor(app, threads=int(app.config.get("JOBS_THREADS", 2)))
        executor.start()
        started["executor"] = executor
    scheduler = Scheduler(app)
    scheduler.start()
    started["scheduler"] = scheduler
    return started
