"""Carrying out an approved quote: a technician registers or renews through a registrar.

Registration: the zone is settled on the school's DNS provider first (a provider error
saves nothing), then the domain is added through add_domain (which claims the school's
ten-domain slot atomically), then the registrar is asked; if the registrar refuses, the
slot is given back. Renewal records the new expiry date, which starts a fresh reminder
series by itself. Either way the request is completed, its case resolved and the school
told by email (notify.py) once that is committed.

The registrar comes in as an argument; registrar_jobs.py runs the same work as a
durable operation (for registrars that work asynchronously, such as Route 53 Domains).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from provisioner.cases import services as cases
from provisioner.cases.models import Case
from provisioner.db import db, utcnow
from provisioner.errors import Conflict, DomainLimitReached, Forbidden, NotFound, ValidationError
from provisioner.registry import notify
from provisioner.registry.expiry import parse_day
from provisioner.registry.lifecycle_models import ExpiryCheck, RegistrationRequest
from provisioner.registry.models import Domain
from provisioner.registry.quotes import format_price
from provisioner.registry.registrars import KINDS, Completion, Registrar, RegistrarError
from provisioner.schools.models import School, User
from provisioner.zones.domain_setup import add_domain_on, undo_domain_on
from provisioner.zones.models import DnsProviderConfig
from provisioner.zones.provider_configs import get_provider_config

STATUS_LABELS = {
    "quoted": "Quote awaiting the school's approval",
    "approved": "Approved by the school; waiting for a technician",
    "processing": "Being registered or renewed at the registrar",
    "completed": "Completed",
    "cancelled": "Cancelled",
}


def get_request(request_id, viewer: User) -> RegistrationRequest:
    """One request, as `viewer` may see it (a contact: only their own school's)."""
    request = find_request(request_id)
    if not viewer.is_staff and request.school_id != viewer.school_id:
        raise NotFound(f"no domain request #{request_id}", fields={"request": "unknown"})
    return request


def find_request(request_id) -> RegistrationRequest:
    """Any school's request: for technicians and the provider's own CLI."""
    try:
        request = db.session.get(RegistrationRequest, int(request_id))
    except (TypeError, ValueError):
        request = None
    if request is None:
        raise NotFound(f"no domain request #{request_id}", fields={"request": "unknown"})
    return request


def list_requests(viewer: User, *, open_only: bool = False) -> list[RegistrationRequest]:
    """Newest first; a contact sees their own school's only."""
    query = _requests_query(open_only)
    if not viewer.is_staff:
        query = query.where(RegistrationRequest.school_id == viewer.school_id)
    return list(db.session.scalars(query.limit(500)))


def all_requests(*, open_only: bool = False) -> list[RegistrationRequest]:
    """Every school's, newest first: for the provider's own CLI."""
    return list(db.session.scalars(_requests_query(open_only).limit(500)))


def _requests_query(open_only: bool):
    query = select(RegistrationRequest).order_by(RegistrationRequest.id.desc())
    if open_only:
        query = query.where(RegistrationRequest.status.in_(("quoted", "approved", "processing")))
    return query


def request_dict(request: RegistrationRequest) -> dict:
    case = db.session.get(Case, request.case_id) if request.case_id else None
    return {
        "id": request.id,
        "kind": request.kind,
        "name": request.name,
        "school_urn": request.school.urn,
        "status": request.status,
        "requested_by": request.requested_by.name if request.requested_by else None,
        "created_at": request.created_at.isoformat() if request.created_at else None,
        "price": format_price(request.price_pence, request.currency),
        "price_pence": request.price_pence,
        "currency": request.currency,
        "years": request.years,
        "approved_by": request.approved_by.name if request.approved_by else None,
        "approved_at": request.approved_at.isoformat() if request.approved_at else None,
        "registrar": request.registrar,
        "registrar_reference": request.registrar_reference,
        "cost_pence": request.cost_pence,
        "new_expiry": request.new_expiry.isoformat() if request.new_expiry else None,
        "completed_at": request.completed_at.isoformat() if request.completed_at else None,
        "case": case.reference if case else None,
    }


def school_provider(school: School) -> DnsProviderConfig | None:
    """The DNS provider most of the school's domains use (None: the embedded zone files)."""
    used = Counter(
        db.session.scalars(
            select(Domain.provider_id).where(
                Domain.school_id == school.id, Domain.provider_id.is_not(None)
            )
        )
    )
    if not used:
        return None
    return db.session.get(DnsProviderConfig, used.most_common(1)[0][0])


def provider_choices() -> list[DnsProviderConfig]:
    return list(db.session.scalars(select(DnsProviderConfig).order_by(DnsProviderConfig.name)))


def check_can_complete(request: RegistrationRequest, actor: User, *, from_job=False) -> None:
    if actor is None or not actor.is_staff:
        raise Forbidden("only technicians register and renew domains")
    allowed = ("approved", "processing") if from_job else ("approved",)
    if request.status in allowed:
        return
    if request.status == "quoted":
        names = ", ".join(c.name for c in request.school.nominated_contacts) or "nobody yet"
        raise Conflict(
            f"quote #{request.id} for {request.name} has not been approved by the school yet "
            f"(its nominated contacts: {names})",
            code="quote_not_approved",
        )
    if request.status == "processing":
        raise Conflict(
            f"request #{request.id} for {request.name} is already being done at the registrar; "
            "its operation shows the progress",
            code="request_busy",
        )
    raise Conflict(
        f"request #{request.id} for {request.name} is {request.status}; there is nothing to do",
        code="request_closed",
    )


def check_room(request: RegistrationRequest) -> None:
    school = db.session.get(School, request.school_id)
    limit = current_app.config["DOMAIN_LIMIT"]
    if school.domain_count >= limit:
        raise DomainLimitReached(
            f"{school.name} already has {limit} domains, the most a school may have; "
            f"remove one before registering {request.name}",
            fields={"name": f"at most {limit} domains per school"},
        )


def complete(
    request_id: int,
    actor: User,
    registrar: Registrar,
    details: Completion = Completion(),
    *,
    provider_name: str | None = None,
    now: datetime | None = None,
    from_job: bool = False,
) -> RegistrationRequest:
    """Register or renew through `registrar`, record the result, resolve the case."""
    request = db.session.get(RegistrationRequest, int(request_id))
    if request is None:
        raise NotFound(f"no domain request #{request_id}", fields={"request": "unknown"})
    check_can_complete(request, actor, from_job=from_job)
    now = now or utcnow()
    if request.kind == "register":
        domain, result = _register(request, registrar, details, provider_name)
    else:
        domain, result = _renew(request, registrar, details)
    _record_expiry(domain, result.expires_on, result.registrar, actor, now)
    request.domain_id = domain.id
    request.status = "completed"
    request.registrar = result.registrar
    request.registrar_reference = result.reference[:200]
    request.cost_pence = result.cost_pence
    request.new_expiry = result.expires_on
    request.completed_by_id = actor.id
    request.completed_at = now
    if details.note.strip():
        request.note = (request.note + "\n" + details.note.strip()).strip()
    verb = "Registered" if request.kind == "register" else "Renewed"
    text = (
        f"{verb} {request.name} through {result.registrar} "
        f"(reference {request.registrar_reference}); "
        f"it now expires on {result.expires_on:%d %B %Y}."
    )
    case = db.session.get(Case, request.case_id) if request.case_id else None
    if case is not None and case.is_open:
        cases.set_status(case, "resolved", actor, text=text, now=now)  # commits
    else:
        db.session.commit()
    notify.request_completed(request)
    return request


def _register(request, registrar, details, provider_name):
    existing = db.session.scalar(select(Domain).where(Domain.name == request.name))
    if existing is not None and existing.school_id != request.school_id:
        raise Conflict(
            f"{request.name} is already managed for {existing.school.name}", code="domain_taken"
        )
    # The manual registrar calls no one: it checks and records what the technician did.
    # Asked first, a completion with a gap in it leaves no zone or domain behind.
    recorded = (
        registrar.register(request.name, request.years, details)
        if registrar.kind == "manual"
        else None
    )
    if existing is None:
        check_room(request)
        school = db.session.get(School, request.school_id)
        config = get_provider_config(provider_name) if provider_name else school_provider(school)
        domain, zone_created = add_domain_on(school.urn, request.name, config)  # holds the limit
        added = True
    else:
        domain, added = existing, False  # a retried job: an earlier attempt added it
    try:
        result = recorded or registrar.register(request.name, request.years, details)
    except (RegistrarError, ValidationError):
        if added:  # the school's slot back, and the zone if it was made for this
            undo_domain_on(domain, config, zone_created)
        raise
    return domain, result


def _renew(request, registrar, details):
    domain = db.session.get(Domain, request.domain_id) if request.domain_id else None
    if domain is None:
        raise Conflict(
            f"{request.name} is no longer a managed domain; cancel this renewal request",
            code="domain_gone",
        )
    return domain, registrar.renew(request.name, request.years, domain.expires_on, details)


def _record_expiry(domain: Domain, expires_on, source: str, actor: User, now) -> None:
    domain.expires_on = expires_on
    domain.expiry_source = source[:20]
    domain.expiry_checked_at = now
    domain.no_registry_expiry = False
    db.session.add(
        ExpiryCheck(
            domain_id=domain.id,
            checked_at=now,
            outcome="updated",
            source=source[:20],
            reported_on=expires_on,
            expires_on=expires_on,
            reason=f"recorded by {actor.name} after the registrar's confirmation",
            actor_id=actor.id,
        )
    )


def parse_completion(data: dict) -> tuple[str, Completion]:
    """A form's or a JSON body's fields -> (registrar kind, Completion); bad input named."""

    kind = str(data.get("registrar") or "manual").strip()
    if kind not in KINDS:
        raise ValidationError(
            f"unknown registrar {kind!r}: use {' or '.join(KINDS)}",
            fields={"registrar": "unknown registrar"},
        )
    cost = data.get("cost_pence")
    if cost in (None, ""):
        cost = None
    else:
        try:
            cost = int(str(cost).strip())
        except ValueError:
            cost = -1
        if cost < 0 or isinstance(data.get("cost_pence"), bool | float):
            raise ValidationError(
                "the cost is a whole number of pence, 0 or more", fields={"cost_pence": "pence"}
            )
    expiry = data.get("new_expiry")
    expiry = None if expiry in (None, "") else parse_day(expiry, "new_expiry")
    return kind, Completion(
        reference=str(data.get("reference") or "").strip(),
        cost_pence=cost,
        new_expiry=expiry,
        note=str(data.get("note") or ""),
    )
