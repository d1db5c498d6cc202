"""Taking a DNS change request in, from the portal, the API, email or the phone.

submit() checks everything first (who asks, the domain, every change against
the live zone, the time wanted, the notes), then saves the request, its case
and the history line in one transaction: a refusal saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from provisioner.cases import calendars
from provisioner.cases import services as cases
from provisioner.db import db, utcnow
from provisioner.dns_requests.models import CHANNELS, IMPACTS, DnsChangeRequest, DnsRequestEvent
from provisioner.errors import NotNominated, ValidationError
from provisioner.registry.models import Domain
from provisioner.registry.names import to_ascii
from provisioner.schools.models import User
from provisioner.sla.timeline import to_us
from provisioner.zones import plan as planning
from provisioner.zones import services as zones
from provisioner.zones.providers.base import LiveZone
from provisioner.zones.validate import desired_from_changes

NOTES_LIMIT = 5000
MAX_AHEAD = timedelta(days=366)
LiveReader = Callable[[Domain], LiveZone]


@dataclass(frozen=True)
class Preview:
    """What a request would change in the live zone right now."""

    plan: planning.Plan
    warnings: tuple[str, ...]


def nominated_names(school) -> list[str]:
    return [c.name for c in school.nominated_contacts]


def check_nominated(requester: User) -> None:
    """Only nominated contacts may ask; the refusal names the ones who may."""
    if requester.is_staff:
        raise ValidationError(
            "a request is made for a school contact; choose the contact who asked",
            fields={"requester": "must be a school contact"},
        )
    if not requester.nominated or not requester.active:
        names = nominated_names(requester.school)
        who = ", ".join(names) if names else "nobody yet (ask your head teacher to nominate)"
        raise NotNominated(
            f"only the nominated contacts of {requester.school.name} may request DNS changes: "
            f"{who}. Ask one of them to make the request.",
            fields={"nominated_contacts": names},
        )


def check_may_request(requester: User, domain: Domain) -> None:
    """Only a nominated contact of the school that owns the domain may ask."""
    if not requester.is_staff and domain.school_id != requester.school_id:
        raise NotNominated(
            f"{domain.name} is not a domain of {requester.school.name}; only the nominated "
            "contacts of the school that owns it may ask for changes to it",
            fields={"domain": "not your school's domain"},
        )
    check_nominated(requester)


def find_domain(name) -> Domain:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("domain is required", fields={"domain": "required"})
    try:
        ascii_name = to_ascii(name)
    except ValidationError as exc:
        raise ValidationError(exc.message, fields={"domain": exc.message}) from exc
    domain = db.session.scalar(select(Domain).where(Domain.name == ascii_name))
    if domain is None:
        raise ValidationError(
            f"{name.strip()} is not a domain we manage", fields={"domain": "unknown domain"}
        )
    return domain


def clean_notes(notes) -> str:
    if notes is None:
        return ""
    if not isinstance(notes, str):
        raise ValidationError("notes must be text", fields={"notes": "must be text"})
    notes = notes.strip()
    if len(notes) > NOTES_LIMIT:
        raise ValidationError(
            f"notes are longer than {NOTES_LIMIT} characters", fields={"notes": "too long"}
        )
    return notes


def clean_impact(impact) -> str:
    impact = impact or "service_request"
    if impact not in IMPACTS:
        raise ValidationError(
            f"impact {impact!r} is not one of {', '.join(IMPACTS)}",
            fields={"impact": "unknown impact"},
        )
    return impact


def parse_apply_after(value, now: datetime) -> datetime | None:
    """ISO 8601; a time without an offset is London time. Not in the past, at most a
    year ahead."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(
                f"apply_after {value!r} is not a date and time (use 2026-12-01T18:00:00+00:00)",
                fields={"apply_after": "not an ISO 8601 date and time"},
            ) from exc
    else:
        raise ValidationError("apply_after must be text", fields={"apply_after": "not text"})
    if when.tzinfo is None:
        when = when.replace(tzinfo=calendars.current_calendar().tz)
    when = when.astimezone(UTC)
    # A minute's grace: "now" typed into a form is a few seconds old when it arrives.
    if when < now - timedelta(minutes=1):
        raise ValidationError(
            f"apply_after {value} is in the past", fields={"apply_after": "in the past"}
        )
    if when > now + MAX_AHEAD:
        raise ValidationError(
            f"apply_after {value} is more than a year ahead",
            fields={"apply_after": "more than a year ahead"},
        )
    return when


def notice_deadline(received: datetime) -> datetime:
    """The earliest time a change can be asked for without being short notice:
    NOTICE_BUSINESS_DAYS (default 1) business days after the clock starts."""
    days = current_app.config.get("DNS_NOTICE_BUSINESS_DAYS", 1)
    timeline = calendars.current_calendar().timeline
    us = timeline.add_business_days(timeline.clock_start(to_us(received)), days)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def is_short_notice(apply_after: datetime | None, received: datetime) -> bool:
    # "As soon as possible" asks for no particular time, so it is never short notice.
    return apply_after is not None and apply_after < notice_deadline(received)


def preview(domain: Domain, changes, *, live: LiveReader = zones.live_zone) -> Preview:
    """Validate the changes against the live zone; raise InvalidRecords per change."""
    zone = live(domain)
    desired = desired_from_changes(domain.name, changes, zone.records)
    found = planning.plan(desired, zone)
    return Preview(found, tuple(desired.warnings))


def add_event(request: DnsChangeRequest, kind: str, text: str, actor=None, before=None, after=None):
    event = DnsRequestEvent(
        kind=kind,
        text=text,
        actor_id=actor.id if actor else None,
        before=before,
        after=after,
        at=utcnow(),
    )
    if request.id is None:
        request.events.append(event)
    else:
        # By id: appending to request.events would first load every earlier event.
        event.request_id = request.id
        db.session.add(event)
    return event


def submit(
    *,
    requester: User,
    domain: str | Domain,
    changes,
    notes=None,
    apply_after=None,
    impact=None,
    channel: str = "portal",
    logged_by: User | None = None,
    case=None,
    rollback_of: DnsChangeRequest | None = None,
    check_nominated: bool = True,
    now: datetime | None = None,
    live: LiveReader = zones.live_zone,
    notify: Callable | None = None,
) -> DnsChangeRequest:
    """Create a request and its case (or join `case`), then confirm by email."""
    now = now or utcnow()
    if channel not in CHANNELS:
        raise ValidationError(f"unknown channel {channel!r}", fields={"channel": "unknown"})
    if channel == "phone" and (logged_by is None or not logged_by.is_staff):
        raise ValidationError("only a technician logs a request taken by phone")
    domain = domain if isinstance(domain, Domain) else find_domain(domain)
    if check_nominated:
        check_may_request(requester, domain)
    if isinstance(changes, (str, bytes)) or not isinstance(changes, list) or not changes:
        raise ValidationError(
            "a request needs at least one change", fields={"changes": "at least one change"}
        )
    notes = clean_notes(notes)
    impact = clean_impact(impact)
    when = parse_apply_after(apply_after, now)
    found = preview(domain, changes, live=live)
    if not found.plan:
        raise ValidationError(
            f"these changes would change nothing: {domain.name} already serves them",
            fields={"changes": "nothing to change"},
        )
    short = is_short_notice(when, now)
    summary = "; ".join(found.plan.describe()[:3]) + (" ..." if len(found.plan.changes) > 3 else "")
    if case is None:
        subject = (
            f"Undo DNS request {rollback_of.id} for {domain.name}"
            if rollback_of
            else f"DNS change for {domain.name}"
        )
        case = cases.open_case(
            school=domain.school,
            subject=subject,
            category="dns_change",
            channel=channel,
            contact=requester,
            description=_case_description(found.plan, notes, when),
            impact=impact,
            received_at=now,
            actor=logged_by,
            commit=False,
        )
    request = DnsChangeRequest(
        domain=domain,
        school_id=domain.school_id,
        requester=requester,
        logged_by=logged_by,
        channel=channel,
        changes=[dict(c) for c in changes],
        notes=notes,
        apply_after=when,
        impact=impact,
        short_notice=short,
        status="submitted",
        warnings=list(found.warnings),
        plan=found.plan.to_dict(),
        plan_checksum=found.plan.checksum,
        case=case,
        rollback_of=rollback_of,
        created_at=now,
    )
    who = f" by {logged_by.name} for {requester.name}" if logged_by else f" by {requester.name}"
    add_event(
        request, "submitted", f"Requested{who} ({channel}): {summary}", logged_by or requester
    )
    if short:
        cases.add_event(
            case,
            "note",
            f"Short notice: the change is wanted at {when.isoformat()}, sooner than the "
            "notice the service asks for.",
            public=True,
        )
    db.session.add(request)
    db.session.commit()
    if notify is None:
        from provisioner.dns_requests import notify as notify_module

        notify = notify_module.confirmation
    notify(request)
    return request


def _case_description(found: planning.Plan, notes: str, when: datetime | None) -> str:
    lines = ["Requested changes:", *found.describe()]
    if when:
        lines.append(f"Wanted at: {when.isoformat()}")
    if notes:
        lines += ["", "Notes:", notes]
    return "\n".join(lines)
