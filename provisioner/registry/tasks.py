"""The registry's periodic jobs: weekly expiry refresh, daily renewal reminders."""

from __future__ import annotations

from datetime import time, timedelta

from provisioner.errors import ProvisionerError
from provisioner.jobs.registry import register_periodic
from provisioner.jobs.timing import LONDON
from provisioner.registry import scheduled

FIRST_SEND = time(7, 0)


class RemindersNotSent(ProvisionerError):
    code = "reminders_not_sent"
    status = 502


def expiry_refresh_job(now) -> None:
    scheduled.refresh_expiry_dates()


def reminders_job(now) -> None:
    # Hourly from 07:00 London: the day's reminders go out in the morning, and a run
    # whose sends failed is retried within the hour (sent reminders are never repeated).
    local = now.astimezone(LONDON)
    if local.time() < FIRST_SEND:
        return
    run = scheduled.send_due_reminders(local.date())
    if run.failed or run.not_attempted:
        # Recorded on the job row; the claims were released, so the next run retries.
        schools = sorted(run.failed) + run.not_attempted
        raise RemindersNotSent(
            f"renewal reminders not sent to {len(schools)} schools "
            f"({', '.join(schools[:5])}{'...' if len(schools) > 5 else ''}): "
            + "; ".join(sorted(set(run.failed.values()))[:3])
        )


# The refresh waits on registries' rate limits: give it a long lease.
register_periodic(
    "registry.expiry_refresh", expiry_refresh_job, every=timedelta(days=7), lease=timedelta(hours=2)
)
register_periodic(
    "registry.reminders", reminders_job, daily_at=time(7, 0), lease=timedelta(hours=1)
)
