"""Auto-renew: a domain so marked gets its renewal request opened by itself a configurable
number of days before expiry (AUTO_RENEW_DAYS, default 30), once per expiry date.

Turning auto-renew on is a nominated contact's standing approval of the renewal price,
so the request it opens is already approved (while that contact is still nominated);
otherwise it waits for the school's approval like any quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from provisioner.db import db
from provisioner.errors import Conflict, Forbidden, ProvisionerError
from provisioner.registry import quotes
from provisioner.registry.lifecycle_models import AutoRenewal, AutoRenewConsent
from provisioner.registry.models import Domain
from provisioner.schools.models import User

DEFAULT_DAYS = 30


def set_auto_renew(domain: Domain, enabled: bool, actor: User) -> Domain:
    """On: by a nominated contact of the domain's school (their standing approval).
    Off: by such a contact or a technician."""
    if enabled:
        if actor.is_staff:
            raise Forbidden(
                "auto-renew commits the school to the renewal price: a nominated contact "
                "of the school turns it on"
            )
        quotes._check_nominated(actor, domain.school, "turn on auto-renew")
    elif not actor.is_staff:
        quotes._check_nominated(actor, domain.school, "turn off auto-renew")
    consent = _consent(domain)
    if consent is not None:
        db.session.delete(consent)
        db.session.flush()
    if enabled:
        db.session.add(AutoRenewConsent(domain_id=domain.id, given_by_id=actor.id))
    domain.auto_renew = enabled
    db.session.commit()
    return domain


@dataclass
class AutoRenewRun:
    opened: list[str] = field(default_factory=list)  # names with a new request
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why not


def run_auto_renew(today: date, *, days: int = DEFAULT_DAYS) -> AutoRenewRun:
    """Open the renewal requests due today; each (domain, expiry date) is claimed once."""
    run = AutoRenewRun()
    done = select(AutoRenewal.id).where(
        AutoRenewal.domain_id == Domain.id, AutoRenewal.expiry_date == Domain.expires_on
    )
    due = db.session.scalars(
        select(Domain)
        .where(
            Domain.auto_renew.is_(True),
            Domain.expires_on.is_not(None),
            Domain.expires_on <= today + timedelta(days=days),
            ~done.exists(),
        )
        .order_by(Domain.expires_on, Domain.name)
    ).all()
    for domain in due:
        claim = AutoRenewal(domain_id=domain.id, expiry_date=domain.expires_on)
        db.session.add(claim)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()  # another run claimed it first
            continue
        try:
            request = _open(domain)
        except ProvisionerError as exc:
            # No price, a request already open...: recorded once, not retried every day.
            claim.outcome = exc.message
            run.skipped[domain.name] = exc.message
            db.session.commit()
            continue
        claim.request_id = request.id
        claim.outcome = f"opened request #{request.id} ({request.status})"
        db.session.commit()
        run.opened.append(domain.name)
    return run


def _consent(domain: Domain) -> AutoRenewConsent | None:
    return db.session.scalar(
        select(AutoRenewConsent).where(AutoRenewConsent.domain_id == domain.id)
    )


def consent_of(domain: Domain) -> User | None:
    consent = _consent(domain)
    return consent.given_by if consent else None


def _open(domain: Domain):
    quotes.refuse_open_request(domain.registrable_name)
    if domain.registrable_name != domain.name:
        raise Conflict(
            f"{domain.name} is under {domain.registrable_name}: renew that name instead",
            code="not_registrable",
        )
    price = quotes.price_for(domain.registrable_name)
    approver = consent_of(domain)
    if approver is not None and not (
        approver.active and approver.nominated and approver.school_id == domain.school_id
    ):
        approver = None  # no longer nominated: the school approves this one by hand
    return quotes._quote(
        "renew",
        domain.registrable_name,
        domain.school,
        None,
        price.renew_pence,
        price,
        None,
        domain,
        channel="system",
        approved_by=approver,
        note=f"Opened by auto-renew; {domain.unicode_name} expires on "
        f"{domain.expires_on:%d %B %Y}.",
    )
