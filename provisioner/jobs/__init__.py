"""Durable operations, their executors (embedded threads or Celery) and the scheduler.

Features use:
    from provisioner.jobs import enqueue, register_handler, register_periodic
    from provisioner.jobs import RetryableError, PermanentError, on_final_failure
and put their registrations in provisioner/<feature>/tasks.py, which every
worker and scheduler imports before starting.
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
