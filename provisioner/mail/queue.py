"""Mail that must reach its reader even when the mail server is down: queued as a
durable operation (the outbox, committed with the caller's change) that retries
with back-off until the server takes it. Its handler is in mail/tasks.py.
"""

from __future__ import annotations

from provisioner.jobs import enqueue
from provisioner.mail.outbound import Message, send_mail

MAIL_KIND = "mail.send"


def queue_mail(message: Message, *, resource_key: str | None = None, case_id=None) -> None:
    """Add the message's operation to the caller's session (sent once it commits)."""
    enqueue(
        MAIL_KIND,
        {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "headers": message.headers,
        },
        resource_key=resource_key or f"mail:{message.to[0]}",
        case_id=case_id,
    )


def send_queued(payload: dict) -> None:
    """The MAIL_KIND operation: MailError makes the worker try again later."""
    send_mail(
        Message(
            payload["to"],
            payload["subject"],
            payload["text"],
            headers=payload.get("headers") or {},
        )
    )
