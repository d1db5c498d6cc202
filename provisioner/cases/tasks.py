"""The SLA scan as a periodic job (run by the scheduler and `provisioner jobs run-due`)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from provisioner.cases.scan import scan_sla
from provisioner.jobs.registry import register_periodic
from provisioner.mail.outbound import send_mail


def sla_scan_job(now) -> None:
    # Per-priority at-risk thresholds, e.g. {"P1": 0.5}; unset keys keep 75%.
    scan_sla(now, send_mail=send_mail, thresholds=current_app.config.get("SLA_AT_RISK"))


register_periodic("cases.sla_scan", sla_scan_job, every=timedelta(minutes=5))
