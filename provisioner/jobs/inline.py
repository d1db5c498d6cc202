"""Running one operation from the process that asked for it (the CLI, a page that
waits a little): claim it here if no worker has it yet, else wait for the worker.

The claim is the same leased claim the workers use, so the operation still runs
exactly once, and a crash here leaves it to a worker once the lease runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app

from provisioner.db import db
from provisioner.jobs.claim import CLAIM_LEASE, claim
from provisioner.jobs.models import TERMINAL, Operation
from provisioner.jobs.registry import REGISTRY, load_task_modules
from provisioner.jobs.runner import execute
from provisioner.jobs.runtime import worker_name
from provisioner.jobs.service import log_lines
from provisioner.jobs.timing import SystemClock


def run_and_wait(
    operation_id: int,
    *,
    timeout: float | None = None,
    poll: float = 0.2,
    on_line: Callable[[str], None] | None = None,
    owner: str = "inline",
) -> Operation:
    """The operation once it has finished, or as it is when `timeout` seconds have
    passed (None: wait as long as it takes). `on_line` gets its log as it grows."""
    load_task_modules()  # this process may not have registered the handler yet
    app, clock, name = current_app._get_current_object(), SystemClock(), worker_name(owner)
    give_up = None if timeout is None else time.monotonic() + timeout
    seen = 0
    while True:
        db.session.rollback()  # no open snapshot while another connection writes
        got = claim(
            db.engine,
            name,
            clock.now(),
            sorted(REGISTRY.handlers),
            CLAIM_LEASE,
            operation_id=operation_id,
        )
        if got is not None:
            execute(app, got, name, clock)
        if on_line is not None:
            for line in log_lines(operation_id, after_id=seen):
                on_line(line.line)
                seen = line.id
        operation = db.session.get(Operation, operation_id, populate_existing=True)
        if operation.status in TERMINAL:
            return operation
        if give_up is not None and time.monotonic() >= give_up:
            return operation
        time.sleep(poll)
