"""The operations package's own registrations: the failure notice and the Celery relay."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from provisioner.jobs.notify import notify_technicians
from provisioner.jobs.registry import on_final_failure, register_periodic
from provisioner.jobs.runtime import runtime

on_final_failure(notify_technicians)


def relay_job(now) -> None:
    app = current_app._get_current_object()
    if runtime(app).uses_celery:
        from provisioner.jobs.celery_executor import relay

        relay(app, now)


register_periodic(
    "operations.relay", relay_job, every=timedelta(seconds=5), lease=timedelta(minutes=1)
)
