"""Emails to the school about its domain registration and renewal requests.

A quote waiting for approval, a renewal approved in advance (auto-renew), a completed
request, and a request the registrar did not complete. Each goes to the person who
asked or, for requests the system opened, to the school's nominated contacts.

Callers send after their commit, so a mail problem never undoes the request: a send
the server refuses is queued and retried by dns_requests.notify.deliver (which also
notes the delay on the case for the technicians).
"""

from __future__ import annotations

import logging

from flask import current_app, render_template

from provisioner.cases import services as cases
from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.dns_requests.notify import deliver
from provisioner.mail.outbound import Message
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.names import to_unicode
from provisioner.registry.quotes import format_price

log = logging.getLogger("provisioner.registry")

TEMPLATES = {
    "quoted": "mail/domain_quote.txt",
    "approved_in_advance": "mail/domain_renewal_approved.txt",
    "completed": "mail/domain_request_completed.txt",
    "delayed": "mail/domain_request_delayed.txt",
}


def recipients(request: RegistrationRequest) -> tuple[list[str], str]:
    """(addresses, greeting): the requester while still active, else the nominated
    contacts (requests the system opened, or a requester who has since left)."""
    requester = request.requested_by
    if requester is not None and requester.active:
        return [requester.email], requester.name
    contacts = request.school.nominated_contacts
    return [c.email for c in contacts], f"colleagues at {request.school.name}"


def quote_made(request: RegistrationRequest, send=None) -> bool:
    """A new request: a quote to approve, or (approved in advance) notice of the renewal."""
    if request.status == "approved":
        subject = f"We will renew {_display(request)}: already approved"
        return _send(request, "approved_in_advance", subject, send)
    verb = "Register" if request.kind == "register" else "Renew"
    subject = f"Quote #{request.id} to approve: {verb.lower()} {_display(request)}"
    return _send(request, "quoted", subject, send)


def request_completed(request: RegistrationRequest, send=None) -> bool:
    verb = "registered" if request.kind == "register" else "renewed"
    subject = f"{_display(request)} is {verb} until {request.new_expiry:%d %B %Y}"
    return _send(request, "completed", subject, send)


def request_delayed(request: RegistrationRequest, send=None) -> bool:
    """The registrar job gave up: the school hears it is not done yet, not the error."""
    verb = "registration" if request.kind == "register" else "renewal"
    subject = f"The {verb} of {_display(request)} is not done yet"
    return _send(request, "delayed", subject, send)


def _display(request: RegistrationRequest) -> str:
    return to_unicode(request.name)


def _send(request: RegistrationRequest, what: str, subject: str, send) -> bool:
    case = db.session.get(Case, request.case_id) if request.case_id else None
    try:
        to, greeting = recipients(request)
        if not to:
            if case is not None:
                cases.add_event(
                    case,
                    "note",
                    f"No email sent ({subject}): {request.school.name} has no nominated contacts",
                    public=False,
                )
                db.session.commit()
            return False
        text = render_template(
            TEMPLATES[what],
            request=request,
            greeting=greeting,
            name=_display(request),
            price=format_price(request.price_pence, request.currency),
            case=case,
            domain=request.domain,
            sender_name=_sender_name(),
        )
        if case is not None:
            subject = f"[{case.reference}] {subject}"
        return deliver(Message(to, subject, text), case, send)
    except Exception:  # noqa: BLE001 - the request is saved; a mail bug must not fail it
        db.session.rollback()
        log.exception("could not email about domain request #%s (%s)", request.id, what)
        return False


def _sender_name() -> str:
    return current_app.config.get("MAIL_SIGNATURE", "The IT service desk")
