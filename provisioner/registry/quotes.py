"""Quotes for registering and renewing domains: the price list, the request, the approval.

A nominated contact asks; the quote is frozen from the per-TLD price list; a nominated
contact of the same school approves it, once. Carrying out the registration or renewal
at a registrar is a technician's step after this.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from provisioner.cases.models import Case
from provisioner.cases.services import add_event, open_case
from provisioner.db import db, utcnow
from provisioner.errors import (
    Conflict,
    DomainLimitReached,
    Forbidden,
    NotFound,
    NotNominated,
    ValidationError,
)
from provisioner.registry.lifecycle_models import RegistrationRequest, TldPrice
from provisioner.registry.models import Domain
from provisioner.registry.names import normalise, to_ascii
from provisioner.schools.models import User

_SUFFIX = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
OPEN = ("quoted", "approved", "processing")


def format_price(pence: int, currency: str = "GBP") -> str:
    symbol = {"GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{pence // 100}.{pence % 100:02d}"


def set_price(
    suffix: str, register_pence: int, renew_pence: int, actor: User, *, years: int = 1
) -> TldPrice:
    if not actor.is_staff:
        raise Forbidden("only technicians may change the price list")
    suffix = (suffix or "").strip().strip(".").lower()
    if not _SUFFIX.match(suffix):
        raise ValidationError(
            f"{suffix!r} is not a domain suffix such as sch.uk, org.uk or com",
            fields={"suffix": "not a suffix"},
        )
    for label, value in (("registration", register_pence), ("renewal", renew_pence)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(
                f"the {label} price must be a whole number of pence, 0 or more",
                fields={label: "pence, 0 or more"},
            )
    if not isinstance(years, int) or not 1 <= years <= 10:
        raise ValidationError("a registration period is 1 to 10 years", fields={"years": "1-10"})
    price = db.session.scalar(select(TldPrice).where(TldPrice.suffix == suffix))
    if price is None:
        price = TldPrice(suffix=suffix, register_pence=register_pence, renew_pence=renew_pence)
        db.session.add(price)
    price.register_pence, price.renew_pence, price.years = register_pence, renew_pence, years
    db.session.commit()
    return price


def price_for(name: str) -> TldPrice:
    """The price-list row of the longest suffix of `name` (sch.uk before uk)."""
    labels = name.split(".")
    suffixes = [".".join(labels[i:]) for i in range(1, len(labels))]
    rows = {
        p.suffix: p
        for p in db.session.scalars(select(TldPrice).where(TldPrice.suffix.in_(suffixes)))
    }
    for suffix in suffixes:
        if suffix in rows:
            return rows[suffix]
    raise ValidationError(
        f"we have no price for .{labels[-1]} names yet ({name}); ask the service desk for a quote",
        code="no_price",
        fields={"name": "no price for this suffix"},
    )


def _check_nominated(user: User, school, what: str) -> None:
    if user.is_staff:
        raise Forbidden(f"a school's nominated contact must {what}, not a technician")
    if user.school_id != school.id or not user.nominated or not user.active:
        names = [c.name for c in school.nominated_contacts]
        who = ", ".join(names) if names else "nobody yet (ask your head teacher to nominate)"
        raise NotNominated(
            f"only the nominated contacts of {school.name} may {what}: {who}",
            fields={"nominated_contacts": names},
        )


def request_registration(
    requester: User,
    name: str,
    *,
    is_available: Callable[[str], bool],
    now: datetime | None = None,
    channel: str = "portal",
) -> RegistrationRequest:
    """Quote for registering a new name (checked free at the registry first)."""
    school = requester.school
    if school is None:
        raise Forbidden("a school's nominated contact must request domain registrations")
    _check_nominated(requester, school, "request domain registrations")
    domain = normalise(name)
    if domain.ascii != domain.registrable:
        raise ValidationError(
            f"{domain.ascii} is a name under {domain.registrable}: register "
            f"{domain.registrable} itself (its sub-names then cost nothing)",
            fields={"name": "not a registrable name"},
        )
    if db.session.scalar(select(Domain.id).where(Domain.name == domain.ascii)):
        raise Conflict(f"{domain.ascii} is already a managed domain", code="domain_taken")
    refuse_open_request(domain.ascii)
    limit = current_app.config["DOMAIN_LIMIT"]
    if school.domain_count >= limit:
        raise DomainLimitReached(
            f"{school.name} already has {limit} domains, the most a school may have; "
            "remove one before registering another",
            fields={"name": f"at most {limit} domains per school"},
        )
    price = price_for(domain.ascii)
    if not is_available(domain.ascii):
        raise Conflict(
            f"{domain.ascii} is already registered by someone else", code="not_available"
        )
    return _quote(
        "register",
        domain.ascii,
        school,
        requester,
        price.register_pence,
        price,
        now,
        channel=channel,
    )


def request_renewal(
    requester: User, name: str, *, now: datetime | None = None, channel: str = "portal"
) -> RegistrationRequest:
    """Quote for renewing one of the school's domains."""
    domain = db.session.scalar(select(Domain).where(Domain.name == to_ascii(name)))
    if domain is None:
        raise NotFound(f"no managed domain named {name!r}", fields={"name": "unknown domain"})
    _check_nominated(requester, domain.school, "request domain renewals")
    refuse_open_request(domain.registrable_name)
    price = price_for(domain.registrable_name)
    req = _quote(
        "renew",
        domain.registrable_name,
        domain.school,
        requester,
        price.renew_pence,
        price,
        now,
        domain,
        channel=channel,
    )
    return req


def refuse_open_request(name: str) -> None:
    open_request = db.session.scalar(
        select(RegistrationRequest).where(
            RegistrationRequest.name == name, RegistrationRequest.status.in_(OPEN)
        )
    )
    if open_request is not None:
        raise Conflict(
            f"there is already an open request for {name} (quote #{open_request.id}, "
            f"{open_request.status})",
            code="request_open",
        )


def _quote(
    kind,
    name,
    school,
    requester,
    pence,
    price,
    now,
    domain=None,
    *,
    channel="portal",
    approved_by=None,
    note="",
) -> RegistrationRequest:
    """The request and its case, in one commit. `requester` is None when the system asks
    (auto-renew); `approved_by` when the school approved in advance."""
    now = now or utcnow()
    verb = "Register" if kind == "register" else "Renew"
    amount = format_price(pence, price.currency)
    case = open_case(
        school=school,
        subject=f"{verb} {name}",
        category="domain_registration" if kind == "register" else "domain_renewal",
        channel=channel,
        contact=requester,
        description=f"{verb} {name} for {price.years} year(s). Quote: {amount}, "
        + (f"approved in advance by {approved_by.name}." if approved_by else "awaiting approval.")
        + (f"\n{note}" if note else ""),
        received_at=now,
        commit=False,
    )
    request = RegistrationRequest(
        kind=kind,
        name=name,
        school_id=school.id,
        domain_id=domain.id if domain else None,
        case_id=case.id,
        requested_by_id=requester.id if requester else None,
        status="approved" if approved_by else "quoted",
        approved_by_id=approved_by.id if approved_by else None,
        approved_at=now if approved_by else None,
        note=note,
        price_pence=pence,
        currency=price.currency,
        years=price.years,
        created_at=now,
    )
    db.session.add(request)
    db.session.commit()
    from provisioner.registry import notify  # notify imports this module

    notify.quote_made(request)  # after the commit: a mail problem never undoes the quote
    return request


def approve_quote(request_id: int, approver: User, *, now: datetime | None = None):
    """The school accepts the price. Only once, only by its nominated contacts."""
    request = db.session.get(RegistrationRequest, request_id)
    if request is None:
        raise NotFound(f"no quote #{request_id}", fields={"quote": "unknown"})
    _check_nominated(approver, request.school, "approve quotes")
    now = now or utcnow()
    # Conditional UPDATE: of two approvals racing, exactly one changes the row.
    won = db.session.execute(
        update(RegistrationRequest)
        .where(RegistrationRequest.id == request.id, RegistrationRequest.status == "quoted")
        .values(status="approved", approved_by_id=approver.id, approved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        db.session.refresh(request)
        who = request.approved_by.name if request.approved_by else "someone"
        raise Conflict(
            f"quote #{request.id} for {request.name} is already {request.status}"
            + (f" (approved by {who})" if request.status != "cancelled" else ""),
            code="quote_closed",
        )
    if request.case_id:
        case = db.session.get(Case, request.case_id)
        add_event(
            case,
            "quote_approved",
            f"Quote approved by {approver.name}: "
            f"{format_price(request.price_pence, request.currency)}",
            actor=approver,
            at=now,
        )
    db.session.commit()
    db.session.refresh(request)
    return request
