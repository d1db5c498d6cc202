"""Durable operations, their executors (embedded threads or Celery) and the scheduler.

Features use:
    from provisioner.jobs import enqueue, register_handler, register_periodic
    from provisioner.jobs import RetryableError, PermanentError, on_final_failure
and put their registrations in provisioner/<feature>/tasks.py, which every
worker, scheduler and `serve` imports before starting (registry.load_task_modules).

    enqueue(kind, payload, resource_key="zone:example.sch.uk", idempotency_key=...,
            case_id=..., requested_by=user.id, run_after=aware_datetime)
adds the row to the caller's session without committing (the outbox): the
operation exists if and only if the caller's change commits.

A handler is `handler(ctx) -> dict | None` with ctx.id, ctx.kind, ctx.payload,
ctx.attempt (1-based), ctx.resource_key, ctx.case_id, ctx.clock, ctx.log(line)
and ctx.lease_lost (an Event). Its db.session work commits together with the
"succeeded" mark; outside effects must be idempotent (it may run again after
a crash). Raise RetryableError (or a type given in retryable=) to back off and
retry, PermanentError to fail at once.
"""

from provisioner.jobs.errors import PermanentError, RetryableError
from provisioner.jobs.registry import on_final_failure, register_handler, register_periodic
from provisioner.jobs.service import enqueue

__all__ = [
    "PermanentError",
    "RetryableError",
    "enqueue",
    "on_final_failure",
    "register_handler",
    "register_periodic",
]
