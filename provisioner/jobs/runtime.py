"""Per-app state of background execution: which executor, and how to nudge it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

from flask import Flask

log = logging.getLogger("provisioner.jobs")
_LOCK = threading.Lock()


@dataclass
class JobsRuntime:
    broker_url: str | None
    # Set after a commit that enqueued work: embedded threads in this process wake at once.
    wake: threading.Event = field(default_factory=threading.Event)
    celery: object | None = None
    # monotonic time until which commits skip publishing (the broker was just unreachable)
    broker_down_until: float = 0.0

    @property
    def uses_celery(self) -> bool:
        return bool(self.broker_url)


def runtime(app: Flask) -> JobsRuntime:
    state = app.extensions.get("provisioner.jobs")
    if state is None:
        with _LOCK:
            state = app.extensions.get("provisioner.jobs")
            if state is None:
                state = JobsRuntime(broker_url=app.config.get("BROKER_URL"))
                app.extensions["provisioner.jobs"] = state
    return state


def worker_name(role: str = "worker") -> str:
    """Unique per thread and process, readable on the operations page."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def nudge(app: Flask, ids: list[int]) -> None:
    """Tell the executor that operations were committed. Best effort by design."""
    state = runtime(app)
    state.wake.set()
    if state.uses_celery:
        from provisioner.jobs.celery_executor import publish

        publish(app, ids)
