"""Entry points for the scheduler and the CLI: the weekly expiry refresh, the daily reminders.

They build the collaborators from the app's configuration and call one service each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from provisioner.registry import lifecycle
from provisioner.registry.expiry import ExpiryResult, RateLimiter
from provisioner.registry.lookup import RegistryLookup
from provisioner.registry.models import Domain
from provisioner.registry.services import list_domains

LONDON = ZoneInfo("Europe/London")


def build_lookup(config: dict) -> RegistryLookup:
    """RDAP then WHOIS, from RDAP_BOOTSTRAP / WHOIS_SERVERS, one request per server per
    REGISTRY_MIN_INTERVAL seconds (default 0.5), REGISTRY_TIMEOUT seconds each (default 10)."""
    limiter = RateLimiter(float(config.get("REGISTRY_MIN_INTERVAL", 0.5)))
    return RegistryLookup.from_config(
        config, limiter=limiter, timeout=float(config.get("REGISTRY_TIMEOUT", 10))
    )


def refresh_expiry_dates(
    domains: Sequence[Domain] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[ExpiryResult]:
    """Refresh the given domains (default: all), e.g. weekly from the scheduler."""
    config = current_app.config
    domains = list(domains) if domains is not None else list_domains()
    return lifecycle.refresh_expiry(
        domains,
        build_lookup(config).lookup,
        workers=int(config.get("REGISTRY_WORKERS", 8)),
        progress=progress,
    )


def send_due_reminders(today: date | None = None) -> lifecycle.ReminderRun:
    """The daily reminder job: today's reminders by mail, expired domains to the queue."""
    from provisioner.mail.outbound import mail_session

    with mail_session() as send:
        return lifecycle.run_reminders(
            today or datetime.now(LONDON).date(),
            send,
            slots=lifecycle.slots_from_config(current_app.config),
            escalate=lifecycle.open_expiry_case,
        )
