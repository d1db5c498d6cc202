"""A batch of emails over one SMTP connection (outbound.Mailer.session), against a
real aiosmtpd server that drops idle connections and refuses some recipients."""

from __future__ import annotations

import time

import pytest

from provisioner.mail.outbound import Mailer, MailError, Message
from provisioner.registry import lifecycle

IDLE_TIMEOUT = 0.5  # seconds the server keeps an idle connection


class Strict:
    """Keeps what it receives and which connection it came on; refuses bounce@."""

    def __init__(self):
        self.received: list[tuple[tuple, list[str]]] = []  # (client address, recipients)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((session.peer, list(envelope.rcpt_tos)))
        return "250 OK"

    @property
    def connections(self) -> int:
        return len({peer for peer, _ in self.received})


@pytest.fixture
def strict_smtp(smtp_serving):
    handler = Strict()
    with smtp_serving(handler, timeout=IDLE_TIMEOUT) as port:
        handler.url = f"smtp://127.0.0.1:{port}"
        yield handler


def _message(to: str, n: int) -> Message:
    return Message([to], f"Domain renewal {n}", f"Reminder {n}")


def test_a_batch_shares_one_connection(strict_smtp):
    with Mailer(strict_smtp.url, "it@provider.example").session() as send:
        for n in range(5):
            send(_message(f"head{n}@school.example", n))
    assert len(strict_smtp.received) == 5
    assert strict_smtp.connections == 1


def test_a_connection_the_server_dropped_is_reopened(strict_smtp):
    with Mailer(strict_smtp.url, "it@provider.example").session() as send:
        send(_message("head@school.example", 1))
        time.sleep(IDLE_TIMEOUT * 3)  # the server closes the idle connection
        send(_message("bursar@school.example", 2))
    assert [rcpts for _, rcpts in strict_smtp.received] == [
        ["head@school.example"],
        ["bursar@school.example"],
    ]
    assert strict_smtp.connections == 2


def test_a_refused_message_fails_alone_and_the_batch_goes_on(strict_smtp):
    with Mailer(strict_smtp.url, "it@provider.example").session() as send:
        send(_message("head@one.example", 1))
        with pytest.raises(MailError, match="bounce@two.example"):
            send(_message("bounce@two.example", 2))
        send(_message("head@three.example", 3))
    assert [rcpts for _, rcpts in strict_smtp.received] == [
        ["head@one.example"],
        ["head@three.example"],
    ]


def test_reminders_for_many_schools_go_out_over_one_connection(
    app, strict_smtp, make_school, make_contact
):
    from datetime import date, timedelta

    from provisioner.db import db
    from provisioner.registry.scheduled import send_due_reminders
    from provisioner.registry.services import add_domain

    app.config["SMTP_URL"] = strict_smtp.url
    expiry = date(2027, 3, 1)
    for n in range(4):
        school = make_school()
        make_contact(school, f"head@school{n}.example")
        domain = add_domain(school.urn, f"school{n}.essex.sch.uk")
        domain.expires_on, domain.expiry_source = expiry, "rdap"
    db.session.commit()

    run = send_due_reminders(expiry - timedelta(days=30))
    assert isinstance(run, lifecycle.ReminderRun) and len(run.sent) == 4
    assert sorted(r[0] for _, r in strict_smtp.received) == [
        f"head@school{n}.example" for n in range(4)
    ]
    assert strict_smtp.connections == 1
