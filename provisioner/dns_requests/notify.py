"""Emails to the people who asked: confirmation, completion, rejection, refusals.

Mail goes through provisioner.mail.outbound at once. A send that fails does not
undo the request it reports on (that is saved already): the message is queued as
an operation (mail/queue.py) that retries with back-off until the server takes it,
and the delay is noted on the case for the technician.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from provisioner.cases import services as cases
from provisioner.db import db
from provisioner.mail.outbound import MailError, Message, send_mail
from provisioner.mail.queue import queue_mail

log = logging.getLogger("provisioner.dns_requests")
LONDON = ZoneInfo("Europe/London")


def london(when: datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(LONDON).strftime("%a %d %b %Y %H:%M (London time)")


def _sender_name() -> str:
    return current_app.config.get("MAIL_SIGNATURE", "The IT service desk")


def deliver(message: Message, case=None, send=None) -> bool:
    """Send now; if the mail server refuses, queue the message to be retried."""
    try:
        (send or send_mail)(message)
    except MailError as exc:
        log.error("could not send %r to %s: %s", message.subject, message.to, exc.message)
        queue_mail(message, case_id=case.id if case is not None else None)
        if case is not None:
            cases.add_event(
                case,
                "note",
                f"Email not sent yet ({message.subject}): {exc.message}; it will be retried",
                public=False,
            )
        db.session.commit()
        return False
    return True


def describe_plan(plan: dict | None) -> list[str]:
    """A stored plan (Plan.to_dict()) as '+ A intranet 3600 192.0.2.10' lines."""
    lines = []
    for change in (plan or {}).get("changes", []):
        head = f"{change['type']} {change['name']}"
        old, new = change.get("old"), change.get("new")

        def side(data):
            return f"{data['ttl']} {' '.join(data['values'])}"

        if old and new:
            lines.append(f"~ {head} {side(old)} -> {side(new)}")
        elif new:
            lines.append(f"+ {head} {side(new)}")
        else:
            lines.append(f"- {head} {side(old)}")
    return lines


def plan_lines(request) -> list[str]:
    return describe_plan(request.plan)


def confirmation(request, send=None) -> bool:
    case = request.case
    text = render_template(
        "requests/email/confirmation.txt",
        request=request,
        due=london(case.due_at),
        apply_after=london(request.apply_after),
        plan_lines=plan_lines(request),
        sender_name=_sender_name(),
    )
    subject = f"[{case.reference}] DNS change request received for {request.domain.name}"
    return deliver(Message([request.requester.email], subject, text), case, send)


def completed(request, send=None) -> bool:
    case = request.case
    text = render_template(
        "requests/email/completed.txt",
        request=request,
        applied_at=london(request.applied_at),
        plan_lines=plan_lines(request),
        sender_name=_sender_name(),
    )
    subject = f"[{case.reference}] DNS change done for {request.domain.name}"
    return deliver(Message([request.requester.email], subject, text), case, send)


def rejected(request, send=None) -> bool:
    case = request.case
    text = render_template(
        "requests/email/rejected.txt", request=request, sender_name=_sender_name()
    )
    subject = f"[{case.reference}] DNS change not made for {request.domain.name}"
    return deliver(Message([request.requester.email], subject, text), case, send)


def logged(case, send=None) -> bool:
    text = render_template(
        "requests/email/logged.txt", case=case, due=london(case.due_at), sender_name=_sender_name()
    )
    subject = f"[{case.reference}] {case.subject}"
    return deliver(Message([case.contact.email], subject, text), case, send)


def refusal(to: str, subject: str, reason: str, details=(), in_reply_to=None, send=None) -> bool:
    text = render_template(
        "requests/email/refusal.txt",
        subject=subject,
        reason=reason,
        details=list(details),
        sender_name=_sender_name(),
    )
    headers = {"In-Reply-To": in_reply_to, "References": in_reply_to} if in_reply_to else {}
    reply_subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return deliver(Message([to], reply_subject.strip(), text, headers=headers), None, send)
