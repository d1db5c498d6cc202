"""The periodic job wires the scan to the configured SMTP server and thresholds."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from provisioner.cases.tasks import sla_scan_job
from provisioner.jobs.registry import REGISTRY


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def app_config(app_config, smtp_server):
    url, _ = smtp_server
    return {**app_config, "SMTP_URL": url, "SLA_AT_RISK": {"P1": 0.5}}


def test_job_is_registered_and_mails_through_configured_smtp(new_case, tech, smtp_server):
    _, inbox = smtp_server
    assert "cases.sla_scan" in REGISTRY.periodic
    case = new_case(impact="critical")  # due Fri 11:00 (4h)
    sla_scan_job(london("2026-11-27 08:45"))  # 1h45 used: under 50%
    assert not case.at_risk and inbox == []
    sla_scan_job(london("2026-11-27 09:00"))  # 2h used: 50% with the configured threshold
    assert case.at_risk
    assert len(inbox) == 1 and inbox[0]["From"] == "it@provider.example"
    assert inbox[0]["To"] == "tech@provider.example"
