"""Registers the apply operation with the jobs registry (imported by workers)."""

from __future__ import annotations

from datetime import timedelta

from provisioner.dns_requests import apply
from provisioner.dns_requests.review import APPLY_KIND
from provisioner.jobs.registry import on_final_failure, register_handler, register_periodic
from provisioner.zones.errors import ProviderError


def _handle(ctx) -> dict:
    return apply.apply_request(ctx.payload["request_id"], now=ctx.clock.now(), log_line=ctx.log)


def _gave_up(operation) -> None:
    if operation.kind == APPLY_KIND:
        apply.fail_after_last_attempt(operation.payload["request_id"], operation.error or "")


# A server that cannot be reached may be back soon; everything else needs a person.
register_handler(
    APPLY_KIND,
    _handle,
    retryable=(ProviderError,),
    max_attempts=5,
    backoff_base=timedelta(seconds=15),
    lease=timedelta(seconds=90),
)
on_final_failure(_gave_up)


def poll_inbound_maildir(now) -> None:
    """Ingest new mail from the Maildir named by INBOUND_MAILDIR (unset: nothing to do)."""
    from flask import current_app

    from provisioner.dns_requests.mail_intake import poll_maildir

    maildir = current_app.config.get("INBOUND_MAILDIR")
    if maildir:
        poll_maildir(maildir, now=now)


register_periodic("mail.poll_maildir", poll_inbound_maildir, every=timedelta(minutes=1))
