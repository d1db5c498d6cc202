"""Final-failure notice to every active technician, by email."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from provisioner.db import db
from provisioner.jobs.models import Operation
from provisioner.mail.outbound import Message, send_mail
from provisioner.schools.models import STAFF_ROLES, User


def staff_emails() -> list[str]:
    query = select(User.email).where(User.role.in_(STAFF_ROLES), User.active.is_(True))
    return sorted(db.session.execute(query).scalars())


def notify_technicians(operation: Operation) -> None:
    recipients = staff_emails()
    if not recipients:
        return
    try:
        link = url_for("operations.detail", op_id=operation.id, _external=True)
    except RuntimeError:  # no SERVER_NAME outside a request: give the path instead
        link = f"/operations/{operation.id}"
    text = (
        f"Operation {operation.id} ({operation.kind}) on {operation.resource_key} has failed "
        f"after {operation.attempts} attempt(s) and will not be tried again by itself.\n\n"
        f"Error: {operation.error}\n\n"
        f"Retry or cancel it here: {link}\n"
    )
    if operation.case_id:
        text += f"It serves case id {operation.case_id}.\n"
    subject = f"Operation {operation.id} failed: {operation.kind} on {operation.resource_key}"
    send_mail(
        Message(
            to=recipients,
            subject=subject,
            text=text,
        )
    )
