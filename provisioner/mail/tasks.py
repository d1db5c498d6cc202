"""The queued-mail operation (mail/queue.py), for every feature that queues mail."""

from __future__ import annotations

from datetime import timedelta

from provisioner.jobs import register_handler
from provisioner.mail.outbound import MailError
from provisioner.mail.queue import MAIL_KIND, send_queued

register_handler(
    MAIL_KIND,
    lambda ctx: send_queued(ctx.payload),
    retryable=(MailError,),
    max_attempts=10,
    backoff_base=timedelta(minutes=1),
)
