"""Periodic DNS jobs."""

from __future__ import annotations

from datetime import timedelta

from provisioner.jobs.registry import register_periodic
from provisioner.mail.outbound import send_mail
from provisioner.zones.drift import drift_scan


def drift_job(now) -> None:
    drift_scan(send_mail)


register_periodic("zones.drift_check", drift_job, every=timedelta(hours=1))
