"""Registers the hosting operations with the jobs registry (imported by workers)."""

from __future__ import annotations

from datetime import time, timedelta

from provisioner.errors import ProvisionerError
from provisioner.hosting import operations
from provisioner.hosting import usage as usage_module
from provisioner.jobs.registry import on_final_failure, register_handler, register_periodic

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


def collect_usage(now) -> None:
    """Daily: usage of every account, and the 80/95/100% warnings."""
    measured, failures = usage_module.collect_all(operations.app_runner())
    if failures:
        # the job is marked failed (and retried next run) with every reason
        raise ProvisionerError(
            f"usage collected for {measured} accounts, not for {len(failures)}: "
            + "; ".join(failures)
        )


register_periodic("hosting.usage", collect_usage, daily_at=time(2, 30))
