"""Registers the hosting operations with the jobs registry (imported by workers)."""

from __future__ import annotations

from datetime import timedelta

from provisioner.hosting import operations
from provisioner.jobs.registry import on_final_failure, register_handler

# A failed playbook needs a person (it has already rolled back); a crashed worker's
# operation runs again, and the handler skips what was already done.
for _kind in operations.KINDS:
    register_handler(
        _kind,
        operations.handle,
        max_attempts=3,
        backoff_base=timedelta(seconds=30),
        # playbook runs take minutes; the heartbeat renews the lease meanwhile
        lease=timedelta(seconds=120),
    )
on_final_failure(operations.record_failure)
