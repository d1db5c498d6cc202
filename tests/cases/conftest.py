from __future__ import annotations

import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def school(make_school):
    return make_school(urn="123456", name="St Mary's Primary")


@pytest.fixture
def other_school(make_school):
    return make_school(urn="654321", name="Hilltop Academy")


@pytest.fixture
def contact(make_contact, school):
    return make_contact(school, "head@stmarys.example", role="slt")


@pytest.fixture
def outsider(make_contact, other_school):
    return make_contact(other_school, "office@hilltop.example", role="office")


@pytest.fixture
def tech(make_technician):
    return make_technician("tech@provider.example")


@pytest.fixture
def new_case(app, school, contact):
    from provisioner.cases.services import open_case

    def make(received="2026-11-26 15:00", **kw):
        kw.setdefault("subject", "Website down")
        kw.setdefault("channel", "portal")
        kw.setdefault("contact", contact)
        return open_case(school=school, received_at=london(received), **kw)

    return make


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port; yields (url, messages)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Collect(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", received
    finally:
        controller.stop()
