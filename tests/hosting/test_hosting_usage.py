"""Usage: collected daily and on demand; nominated contacts emailed once when an
account crosses 80%, 95% and 100% of its quota. Mail goes to a real SMTP server
(aiosmtpd on loopback); a recording runner stands in for usage.yml (which runs
for real in test_hosting_lifecycle.py)."""

from __future__ import annotations

import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

import provisioner.hosting.tasks  # noqa: F401 - every worker loads it (load_task_modules)
from provisioner.hosting import usage
from provisioner.hosting.models import HostingUsageAlert
from provisioner.jobs.embedded import EmbeddedExecutor
from provisioner.jobs.registry import REGISTRY

QUOTA = 5_368_709_120


class Inbox(MessageHandler):
    def __init__(self):
        super().__init__()
        self.messages, self.lock = [], threading.Lock()

    def handle_message(self, message):
        with self.lock:
            self.messages.append(message)


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": f"smtp://127.0.0.1:{smtp[0]}"}


@pytest.fixture
def inbox(smtp):
    box = smtp[1]
    with box.lock:
        box.messages.clear()
    return box


def _measure(app, runner, used_bytes, account_name=None):
    """One collection at `used_bytes` (the daily job when no account is named), then
    the worker delivers whatever was queued."""
    runner.used_bytes = used_bytes
    if account_name is None:
        REGISTRY.periodic["hosting.usage"].func(None)
    else:
        usage.collect(runner, account_name)
    EmbeddedExecutor(app).run_until_idle()


def test_thresholds_are_pure_arithmetic():
    assert usage.crossed(int(QUOTA * 0.79), QUOTA) == []
    assert usage.crossed(QUOTA * 80 // 100, QUOTA) == [80]
    assert usage.crossed(QUOTA, QUOTA) == [80, 95, 100]
    assert usage.rearmed([80, 95], int(QUOTA * 0.80), QUOTA) == [95]


def test_nominated_contacts_are_told_once_per_threshold(
    app, recording_runner, hosted_school, make_contact, inbox
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    make_contact(school, "head@stmarys.example")
    make_contact(school, "bursar@stmarys.example", role="business_manager")
    make_contact(school, "office@stmarys.example", nominated=False, role="office")

    _measure(app, recording_runner, QUOTA // 2)
    assert inbox.messages == []
    assert account.used_bytes == QUOTA // 2

    _measure(app, recording_runner, QUOTA * 81 // 100)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert "80% full: stmarys.essex.sch.uk" in mail["Subject"]
    assert set(mail["To"].replace(" ", "").split(",")) == {
        "head@stmarys.example",
        "bursar@stmarys.example",
    }
    assert "4.05 GiB of 5.00 GiB (80%)" in mail.get_payload()  # 80.99%, floored

    # the next days at the same level: nothing more
    _measure(app, recording_runner, QUOTA * 82 // 100)
    _measure(app, recording_runner, QUOTA * 82 // 100, account.name)
    assert len(inbox.messages) == 1

    _measure(app, recording_runner, QUOTA * 96 // 100, account.name)
    _measure(app, recording_runner, QUOTA)
    subjects = [m["Subject"] for m in inbox.messages]
    assert len(subjects) == 3 and "95% full" in subjects[1] and "storage is full" in subjects[2]
    assert {a.threshold for a in HostingUsageAlert.query.all()} == {80, 95, 100}


def test_a_jump_past_several_thresholds_sends_one_mail_and_tidying_up_rearms(
    app, recording_runner, hosted_school, make_contact, inbox
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    make_contact(school, "head@stmarys.example")

    _measure(app, recording_runner, QUOTA * 97 // 100)
    assert [m["Subject"] for m in inbox.messages] == [
        "Your website storage is 95% full: stmarys.essex.sch.uk"
    ]
    # the school tidies up well below 80%, then fills up again: told again
    _measure(app, recording_runner, QUOTA // 2)
    _measure(app, recording_runner, QUOTA * 85 // 100)
    assert len(inbox.messages) == 2 and "80% full" in inbox.messages[1]["Subject"]


def test_usage_cli_reports_and_warns(
    runner, recording_runner, hosted_school, make_contact, inbox, app
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    make_contact(school, "head@stmarys.example")
    recording_runner.used_bytes = QUOTA
    result = runner.invoke(["hosting", "usage", account.name])
    assert result.exit_code == 0, result.output
    assert f"{QUOTA} of {QUOTA}" in result.output
    EmbeddedExecutor(app).run_until_idle()
    assert len(inbox.messages) == 1 and "storage is full" in inbox.messages[0]["Subject"]
