"""Email intake: one RFC 822 message -> a request, a case, a reply on a case, or a
polite refusal. Auto-replies and loops are never answered.

`provisioner mail ingest` pipes one message in; poll_maildir() reads a Maildir.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from provisioner.cases import services as cases
from provisioner.db import db, utcnow
from provisioner.dns_requests import intake, notify
from provisioner.dns_requests.text_format import parse_request
from provisioner.errors import NotFound, NotNominated, ValidationError
from provisioner.mail import inbound
from provisioner.registry.models import Domain
from provisioner.schools.models import User
from provisioner.zones.errors import InvalidRecords

log = logging.getLogger("provisioner.mail")


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # request, case, reply, refused, ignored
    reference: str | None
    message: str
    request_id: int | None = None

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "reference": self.reference,
            "message": self.message,
            "request_id": self.request_id,
        }


def _refuse(mail: inbound.InboundMail, reason: str, details=()) -> IngestResult:
    notify.refusal(mail.sender, mail.subject or "(no subject)", reason, details, mail.message_id)
    text = reason + ("".join(f"\n  - {d}" for d in details) if details else "")
    return IngestResult("refused", None, f"refused: {text}")


def ingest(raw: bytes, *, now: datetime | None = None) -> IngestResult:
    """Read one message and act on it. MailTooLarge/MalformedMail propagate."""
    cfg = current_app.config
    mail = inbound.parse(
        raw,
        own_addresses=[cfg["MAIL_FROM"]],
        max_bytes=int(cfg.get("MAIL_MAX_BYTES", inbound.DEFAULT_MAX_BYTES)),
    )
    if mail.is_auto_reply:
        return IngestResult("ignored", None, f"ignored, not answered: {mail.no_reply_reason}")
    sender = db.session.scalar(select(User).where(User.email == mail.sender))
    if sender is None or sender.is_staff or not sender.active:
        return _refuse(
            mail,
            "We only take DNS requests by email from the nominated contacts of the schools "
            "we look after, and we do not recognise your address. If you work at one of "
            "those schools, ask one of its nominated contacts to send the request.",
        )
    if mail.case_reference:
        return _reply_to_case(mail, sender, now)
    if mail.only_attachment:
        return _refuse(
            mail,
            "Your request seems to be only in an image or attachment. We need DNS requests "
            "as text in the email itself, so that nothing is misread. Please send the "
            "changes as text lines.",
        )
    if not mail.has_meaningful_text:
        return _refuse(mail, "The email has no text we could read as a request.")
    return _new_request(mail, sender, now)


def _reply_to_case(mail, sender: User, now) -> IngestResult:
    try:
        case = cases.get_case(mail.case_reference, sender)
    except NotFound:
        return _refuse(
            mail,
            f"We could not find case {mail.case_reference} for your school. Please check "
            "the reference, or send a new request without it.",
        )
    text = mail.request_text or mail.text or "(empty reply)"
    if mail.attachments:
        names = ", ".join(a.filename or a.content_type for a in mail.attachments)
        text += f"\n\n[attachments not kept: {names}]"
    try:
        cases.add_reply(case, text[: cases_limit()], sender, now=now)
    except ValidationError as exc:
        return _refuse(mail, exc.message)
    return IngestResult("reply", case.reference, f"{case.reference} (reply added)")


def cases_limit() -> int:
    return 20000


def _domain_names() -> list[str]:
    return list(db.session.scalars(select(Domain.name)))


def _new_request(mail, sender: User, now) -> IngestResult:
    parsed = parse_request(mail.request_text, _domain_names())
    if parsed.problems:
        return _refuse(mail, "Some lines of your request could not be read:", parsed.problems)
    domain_name = parsed.domain
    own = _school_domains(sender.school)
    if domain_name is None and len(own) == 1:
        domain_name = own[0].name
    if not parsed.has_changes:
        return _free_text_case(mail, sender, domain_name, now)
    if domain_name is None:
        return _refuse(
            mail,
            "Your email does not say which domain to change. Add a line such as "
            "'Domain: yourschool.la.sch.uk', or use full names.",
        )
    notes = parsed.free_text
    try:
        request = intake.submit(
            requester=sender,
            domain=domain_name,
            changes=parsed.changes,
            notes=notes[: intake.NOTES_LIMIT],
            channel="email",
            now=now,
        )
    except NotNominated as exc:
        return _refuse(mail, exc.message)
    except InvalidRecords as exc:
        return _refuse(mail, "Some of the changes cannot be made as written:", exc.reasons)
    except ValidationError as exc:
        return _refuse(mail, exc.message)
    return IngestResult("request", request.case.reference, request.case.reference, request.id)


def _school_domains(school) -> list[Domain]:
    return list(db.session.scalars(select(Domain).where(Domain.school_id == school.id)))


def _free_text_case(mail, sender: User, domain_name: str | None, now) -> IngestResult:
    """No change lines: a case for a technician to turn into changes."""
    domain = None
    if domain_name:
        domain = db.session.scalar(select(Domain).where(Domain.name == domain_name))
    try:
        if domain is not None:
            intake.check_may_request(sender, domain)
        else:
            intake.check_nominated(sender)
    except NotNominated as exc:
        return _refuse(mail, exc.message)
    subject = (mail.subject or "DNS change request by email")[:200]
    description = mail.request_text[: cases_limit()]
    case = cases.open_case(
        school=sender.school,
        subject=subject,
        category="dns_change",
        channel="email",
        contact=sender,
        description=description,
        impact="service_request",
        received_at=now or utcnow(),
    )
    notify.logged(case)
    return IngestResult("case", case.reference, case.reference)


def poll_maildir(path: str | Path, *, now: datetime | None = None) -> list[IngestResult]:
    """Ingest every message in Maildir/new, moving each to cur/ once handled."""
    root = Path(path)
    new, cur = root / "new", root / "cur"
    cur.mkdir(parents=True, exist_ok=True)
    results = []
    for item in sorted(new.iterdir()) if new.is_dir() else []:
        if not item.is_file():
            continue
        try:
            result = ingest(item.read_bytes(), now=now)
        except inbound.MailRefused as exc:
            result = IngestResult("refused", None, f"refused: {exc.message}")
        log.info("maildir %s: %s", item.name, result.message)
        item.rename(cur / f"{item.name}:2,S")
        results.append(result)
    return results
