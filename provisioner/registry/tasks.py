"""The registry's periodic jobs: weekly expiry refresh, daily renewal reminders."""

from __future__ import annotations

from datetime import time, timedelta

from provisioner.errors import ProvisionerError
from provisioner.jobs.registry import on_final_failure, register_handler, register_periodic
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


# ---------------------------------------------------------------- registration and renewal


def complete_request_handler(ctx) -> dict:
    from provisioner.jobs.errors import PermanentError, RetryableError
    from provisioner.registry import registrar_jobs
    from provisioner.registry.registrars import RegistrarError

    try:
        return registrar_jobs.run_completion(ctx.payload, now=ctx.clock.now())
    except RegistrarError as exc:
        ctx.log(exc.message)
        # AWS still working on it, or unreachable: come back later. Refusals need a person.
        raise (RetryableError if exc.retryable else PermanentError)(exc.message) from exc


def _completion_gave_up(operation) -> None:
    from provisioner.registry import registrar_jobs

    if operation.kind == registrar_jobs.COMPLETE_KIND:
        registrar_jobs.give_up(operation.payload["request_id"], operation.error or "")


def auto_renew_job(now) -> None:
    from flask import current_app

    from provisioner.registry.auto_renew import DEFAULT_DAYS, run_auto_renew

    days = int(current_app.config.get("AUTO_RENEW_DAYS", DEFAULT_DAYS))
    run_auto_renew(now.astimezone(LONDON).date(), days=days)


register_handler(
    "registry.complete_request",
    complete_request_handler,
    max_attempts=12,
    backoff_base=timedelta(minutes=1),
    backoff_cap=timedelta(minutes=30),
    lease=timedelta(seconds=120),
)
on_final_failure(_completion_gave_up)
register_periodic("registry.auto_renew", auto_renew_job, daily_at=time(6, 30))
