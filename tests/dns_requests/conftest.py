"""Fixtures for DNS change requests: a real BIND, a real SMTP server, a school with a
domain served by that BIND, and a worker whose clock the test controls."""

from __future__ import annotations

import email
import importlib.util
import itertools
import sys
import threading
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
from aiosmtpd.controller import Controller

ZONES_TESTS = Path(__file__).resolve().parents[1] / "zones"


def _load(name: str, path: Path):
    # Test dirs are not packages (--import-mode=importlib): load helpers by path, once.
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bind = _load("zones_bind_server", ZONES_TESTS / "bind_server.py")
bind_server = bind.bind_server
_zone_numbers = itertools.count(1)


class Inbox:
    """Messages received by the loopback SMTP server."""

    def __init__(self):
        self.messages: list = []
        self.lock = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.lock.notify_all()
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]

    def body(self, message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def clear(self):
        with self.lock:
            self.messages.clear()


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=bind.free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server):
    _, box = smtp_server
    box.clear()
    return box


@pytest.fixture
def app_config(app_config, smtp_server):
    controller, _ = smtp_server
    return {
        **app_config,
        "SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
        "DNS_VERIFY_TIMEOUT": 5,
    }


def zone_text(zone: str) -> str:
    return bind.minimal_zone(
        zone,
        extra=(
            "@ 300 IN A 192.0.2.1\nwww IN CNAME @\nold IN CNAME legacy.example.net.\n"
            "@ IN MX 10 mx.example.net.\n"
        ),
    )


class SchoolSetup:
    def __init__(self, school, contact, other, tech, domain, server):
        self.school, self.contact, self.other, self.tech = school, contact, other, tech
        self.domain, self.server = domain, server

    @property
    def zone(self) -> str:
        return self.domain.name

    def served(self, name: str, rtype: str) -> list[str]:
        qname = self.zone if name == "@" else f"{name}.{self.zone}"
        query = dns.message.make_query(qname, rtype)
        answer = dns.query.udp(query, self.server.host, port=self.server.port, timeout=2)
        wanted = dns.rdatatype.from_text(rtype)
        return sorted(rd.to_text() for rr in answer.answer if rr.rdtype == wanted for rd in rr)


@pytest.fixture
def setup(app, bind_server, make_school, make_contact, make_technician):
    """St Mary's with a nominated contact, a contact who is not nominated, a
    technician, and a domain whose zone BIND serves."""
    from provisioner.zones import services as zones
    from provisioner.zones.domain_setup import add_domain_with_zone

    zone = f"stmarys{next(_zone_numbers)}-{bind_server.port}.essex.sch.uk"
    bind_server.add_zone(zone, zone_text(zone))
    school = make_school(name="St Mary's")
    contact = make_contact(school, f"head@{zone}", name="Sam Head")
    other = make_contact(school, f"office@{zone}", nominated=False, role="office", name="Ola")
    tech = make_technician()
    zones.add_provider(
        "bind", "rfc2136", server=bind_server.address, tsig_key_file=str(bind_server.key_file)
    )
    domain = add_domain_with_zone(school.urn, zone, "bind")
    return SchoolSetup(school, contact, other, tech, domain, bind_server)


@pytest.fixture
def worker(app):
    """worker.run(now=...) runs every operation due at `now` on the embedded executor."""
    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules
    from provisioner.jobs.timing import FixedClock

    load_task_modules()

    class Worker:
        def run(self, now: datetime | None = None) -> int:
            clock = FixedClock(now or datetime.now(UTC))
            return EmbeddedExecutor(app, clock=clock).run_until_idle()

    return Worker()
