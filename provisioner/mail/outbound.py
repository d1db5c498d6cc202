"""Outgoing mail: SMTP when PROVISIONER_SMTP_URL is set, else the log.

Services take a `send_mail` callable (see Mailer.send) so tests and jobs can
pass their own; only this module talks SMTP.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlparse

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from provisioner.errors import ProvisionerError

log = logging.getLogger("provisioner.mail")


class MailError(ProvisionerError):
    """Sending failed; callers retry later and never mark the mail as sent."""

    code = "mail_failed"
    status = 502


@dataclass
class Message:
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def build(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(message.to)
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    # Our own mail is automatic: receivers' auto-responders must not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    for key, value in message.headers.items():
        mail[key] = value
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class Mailer:
    def __init__(self, smtp_url: str | None, sender: str, timeout: float = 10.0):
        self.smtp_url = smtp_url
        self.sender = sender
        self.timeout = timeout

    def send(self, message: Message) -> None:
        with self.session() as send:
            send(message)

    def _connect(self) -> smtplib.SMTP:
        url = urlparse(self.smtp_url)
        smtp = smtplib.SMTP(url.hostname, url.port or 25, timeout=self.timeout)
        if url.username:
            smtp.login(url.username, url.password or "")
        return smtp

    @contextmanager
    def session(self) -> Iterator[Callable[[Message], None]]:
        """A `send` for many messages over one SMTP connection (a batch of reminders
        would otherwise pay a connection per email). A connection the server dropped
        is reopened once; a refused message raises MailError and the next send opens
        a fresh connection, so one bad address does not stop the batch."""
        connection: list[smtplib.SMTP] = []

        def close() -> None:
            while connection:
                smtp = connection.pop()
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()

        def send(message: Message) -> None:
            mail = build(message, self.sender)
            if not self.smtp_url:
                log.info(
                    "mail (no SMTP configured) to=%s subject=%s\n%s",
                    mail["To"],
                    mail["Subject"],
                    message.text,
                )
                return
            for attempt in (1, 2):
                try:
                    if not connection:
                        connection.append(self._connect())
                    connection[0].send_message(mail)
                    return
                except smtplib.SMTPServerDisconnected as exc:
                    close()
                    if attempt == 2:
                        raise MailError(f"could not send mail to {mail['To']}: {exc}") from exc
                except (OSError, smtplib.SMTPException) as exc:
                    close()
                    raise MailError(f"could not send mail to {mail['To']}: {exc}") from exc

        try:
            yield send
        finally:
            close()


def mailer() -> Mailer:
    """The mailer configured for the current app."""
    cfg = current_app.config
    return Mailer(cfg.get("SMTP_URL"), cfg["MAIL_FROM"])


def send_mail(message: Message) -> None:
    mailer().send(message)


@contextmanager
def mail_session() -> Iterator[Callable[[Message], None]]:
    """send_mail for a batch: one SMTP connection for every message sent in it."""
    with mailer().session() as send:
        yield send


def render_message(to: list[str], subject: str, template: str, **context) -> Message:
    """Text and HTML parts from web/templates/mail/<template>.txt and .html."""
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html = render_template(f"mail/{template}.html", **context)
    except TemplateNotFound:  # the HTML part is optional
        html = None
    return Message(to=to, subject=subject, text=text, html=html)
