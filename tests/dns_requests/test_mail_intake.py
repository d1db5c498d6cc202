"""`provisioner mail ingest`: email requests, refusals, threads and loops."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.dns_requests import review
from provisioner.dns_requests.models import DnsChangeRequest


def mail(sender, body, subject="DNS change please", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "it@provider.example"
    message["Subject"] = subject
    message["Message-ID"] = "<m1@school.example>"
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def cases_count() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def ingest(runner, raw: bytes):
    return runner.invoke(["mail", "ingest"], input=raw)


def test_text_request_from_a_nominated_contact_becomes_a_request(setup, runner, inbox):
    body = f"Hi,\nplease add our new intranet server.\nADD intranet.{setup.zone} A 192.0.2.10\n"
    result = ingest(runner, mail(setup.contact.email, body))
    assert result.exit_code == 0, result.output
    request = db.session.scalar(select(DnsChangeRequest))
    assert result.output.strip() == request.case.reference
    assert request.channel == "email"
    assert request.changes == [
        {"action": "add", "name": "intranet", "type": "A", "values": ["192.0.2.10"]}
    ]
    assert "please add our new intranet server" in request.notes
    assert inbox.subjects(setup.contact.email) == [
        f"[{request.case.reference}] DNS change request received for {setup.zone}"
    ]


def test_image_only_request_is_refused_with_a_reply_asking_for_text(setup, runner, inbox):
    message = EmailMessage()
    message["From"] = setup.contact.email
    message["To"] = "it@provider.example"
    message["Subject"] = "DNS"
    message.set_content("Hi, please see the attached screenshot.\nThanks")
    message.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="dns.png")
    result = ingest(runner, message.as_bytes())
    assert result.exit_code == 0
    assert result.output.startswith("refused: ")
    assert cases_count() == 0
    (reply,) = inbox.to(setup.contact.email)
    assert str(reply["Subject"]) == "Re: DNS"
    assert "as text" in inbox.body(reply)


def test_a_stranger_gets_a_polite_refusal_and_no_case(setup, runner, inbox):
    result = ingest(runner, mail("someone@elsewhere.example", "ADD www A 192.0.2.1"))
    assert result.exit_code == 0
    assert "do not recognise your address" in result.output
    assert cases_count() == 0
    assert len(inbox.to("someone@elsewhere.example")) == 1


def test_a_contact_who_is_not_nominated_is_told_who_is(setup, runner, inbox):
    body = f"Domain: {setup.zone}\nADD www2 A 192.0.2.1"
    result = ingest(runner, mail(setup.other.email, body))
    assert "Sam Head" in result.output
    assert cases_count() == 0
    assert "Sam Head" in inbox.body(inbox.to(setup.other.email)[0])


def test_a_reply_with_the_case_reference_joins_that_case(setup, runner, inbox):
    first = ingest(runner, mail(setup.contact.email, f"Domain: {setup.zone}\nADD a A 192.0.2.1"))
    reference = first.output.strip()
    body = "Please also do it before Friday.\n\nOn Mon Sam wrote:\n> ADD a A 192.0.2.1\n"
    result = ingest(runner, mail(setup.contact.email, body, subject=f"Re: [{reference}] DNS"))
    assert result.output.strip() == f"{reference} (reply added)"
    assert cases_count() == 1
    case = db.session.scalar(select(Case))
    assert case.events[-1].kind == "reply"
    assert case.events[-1].text == "Please also do it before Friday."


def test_auto_replies_are_ignored_and_never_answered(setup, runner, inbox):
    raw = mail(setup.contact.email, "I am away until Monday.", Auto_Submitted="auto-replied")
    result = ingest(runner, raw)
    assert result.exit_code == 0
    assert result.output.startswith("ignored")
    bulk = ingest(runner, mail("list@lists.example", "Newsletter", Precedence="bulk"))
    assert bulk.output.startswith("ignored")
    own = ingest(runner, mail("it@provider.example", "Your request was received"))
    assert own.output.startswith("ignored")
    assert cases_count() == 0
    assert inbox.messages == []


def test_free_text_becomes_a_case_for_a_technician(setup, runner, inbox):
    body = "Hello,\nour web host has moved; please point the website at the new server.\nSam"
    result = ingest(runner, mail(setup.contact.email, body, subject="Website move"))
    case = db.session.scalar(select(Case))
    assert result.output.strip() == case.reference
    assert case.category == "dns_change"
    assert case.channel == "email"
    assert "point the website at the new server" in case.description
    assert review.history(school=setup.school) == []
    assert inbox.subjects(setup.contact.email) == [f"[{case.reference}] Website move"]


def test_bad_change_lines_are_named_and_nothing_is_saved(setup, runner, inbox):
    body = f"Domain: {setup.zone}\nADD www3 A 192.0.2.1\nADD www4 QQ 1\nADD bad A 300.1.1.1\n"
    result = ingest(runner, mail(setup.contact.email, body))
    assert "line 3" in result.output
    assert cases_count() == 0
    body = f"Domain: {setup.zone}\nADD bad A 300.1.1.1\n"
    result = ingest(runner, mail(setup.contact.email, body))
    assert "change 1 (A bad)" in result.output
    assert cases_count() == 0
    assert len(inbox.to(setup.contact.email)) == 2


def test_oversized_and_malformed_messages_are_errors(setup, runner, app, inbox):
    app.config["MAIL_MAX_BYTES"] = 2000
    big = ingest(runner, mail(setup.contact.email, "ADD www A 192.0.2.1\n" + "x" * 3000))
    assert big.exit_code == 1
    assert "the most we accept is 2,000 bytes" in big.output
    broken = ingest(runner, b"Subject: no sender\n\nADD www A 192.0.2.1\n")
    assert broken.exit_code == 1
    assert "no From address" in broken.output
    assert cases_count() == 0
    assert inbox.messages == []


def test_maildir_poller_handles_each_message_once(setup, app, tmp_path, inbox):
    from provisioner.dns_requests.mail_intake import poll_maildir

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "1.msg").write_bytes(
        mail(setup.contact.email, f"Domain: {setup.zone}\nADD p A 192.0.2.1")
    )
    first = poll_maildir(tmp_path)
    assert [r.outcome for r in first] == ["request"]
    assert poll_maildir(tmp_path) == []
    assert list((tmp_path / "cur").iterdir())


def test_the_scheduler_polls_the_configured_maildir(setup, app, tmp_path, inbox):
    from provisioner.jobs.registry import load_task_modules
    from provisioner.jobs.scheduler import Scheduler

    load_task_modules()
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "1.msg").write_bytes(
        mail(setup.contact.email, f"Domain: {setup.zone}\nADD q A 192.0.2.1")
    )
    app.config["INBOUND_MAILDIR"] = str(tmp_path)
    Scheduler(app).run_due(only=["mail.poll_maildir"])
    assert len(review.history(school=setup.school)) == 1
