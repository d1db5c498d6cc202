"""The case lifecycle: open, reply, note, assign, prioritise, pause, resolve.

Service functions validate first, then change and commit, so a refusal changes
nothing. Other features open cases with ``open_case(..., commit=False)`` inside
their own transaction and record their work with ``link_operation``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update

from provisioner.cases import calendars
from provisioner.cases.models import (
    CATEGORIES,
    CHANNELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    Case,
    CaseEvent,
    CasePause,
    CaseSequence,
)
from provisioner.db import db, utcnow
from provisioner.errors import Forbidden, NotFound, ValidationError
from provisioner.sla import Pause, clock_start, due_at, parse_priority, priority_for_impact


def _require_staff(actor) -> None:
    if actor is None or not actor.is_staff:
        raise Forbidden("only technicians may do this")


def _text(value, field: str, *, required=True, limit=None) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError(f"{field} must be text", fields={field: "must be text"})
    if required and not text:
        raise ValidationError(f"{field} is required", fields={field: "required"})
    if limit and len(text) > limit:
        raise ValidationError(
            f"{field} is longer than {limit} characters", fields={field: f"at most {limit}"}
        )
    return text


def add_event(
    case: Case, kind: str, text: str = "", *, actor=None, public=True, data=None, at=None
):
    event = CaseEvent(
        kind=kind,
        text=text,
        actor_id=actor.id if actor else None,
        public=public,
        data=data or {},
        at=at or utcnow(),
    )
    case.events.append(event)
    return event


def _next_reference(year: int) -> str:
    # Insert-if-missing then UPDATE: the UPDATE holds the row's write lock until
    # commit, so two transactions never hand out the same number.
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(CaseSequence).values(year=year, last=0).on_conflict_do_nothing())
    db.session.execute(
        update(CaseSequence).where(CaseSequence.year == year).values(last=CaseSequence.last + 1)
    )
    number = db.session.scalar(select(CaseSequence.last).where(CaseSequence.year == year))
    return f"CASE-{year}-{number:06d}"


def pauses_of(case: Case) -> list[Pause]:
    return [Pause(p.started_at, p.ended_at) for p in case.pauses]


def compute_clock(case: Case, cal, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(clock start, due) of ``case`` under ``cal``; a running pause counts up to now."""
    start = clock_start(case.received_at, cal)
    due = due_at(
        case.priority,
        case.received_at,
        cal,
        pauses_of(case),
        agreed_due=case.agreed_due,
        now=now or utcnow(),
    )
    return start, due


def open_case(
    *,
    school,
    subject: str,
    category: str = "general",
    channel: str = "portal",
    contact=None,
    description: str = "",
    impact: str | None = None,
    priority: str | None = None,
    received_at: datetime | None = None,
    actor=None,
    commit: bool = True,
) -> Case:
    """Open a case; its priority comes from ``impact`` unless a technician sets it."""
    subject = _text(subject, "subject", limit=200)
    description = _text(description, "description", required=False, limit=20000)
    if category not in CATEGORIES:
        raise ValidationError(
            f"unknown category {category!r}: use one of {', '.join(CATEGORIES)}",
            fields={"category": "unknown category"},
        )
    if channel not in CHANNELS:
        raise ValidationError(
            f"unknown channel {channel!r}: use one of {', '.join(CHANNELS)}",
            fields={"channel": "unknown channel"},
        )
    if contact is not None and contact.school_id != school.id:
        raise ValidationError(
            f"{contact.name} is not a contact of {school.name}",
            fields={"contact": "not a contact of this school"},
        )
    if priority is not None:
        if actor is not None and not actor.is_staff:
            raise Forbidden("only technicians set a priority; describe the impact instead")
        priority = parse_priority(priority)
    else:
        priority = priority_for_impact(impact)
    received_at = received_at or utcnow()
    version = calendars.current_version()
    cal = calendars.calendar_of(version)
    case = Case(
        reference=_next_reference(received_at.astimezone(cal.tz).year),
        school=school,
        contact=contact,
        subject=subject,
        description=description,
        channel=channel,
        category=category,
        impact=impact,
        priority=priority,
        status="new",
        received_at=received_at,
        calendar_version_id=version.id,
    )
    case.clock_start, case.due_at = compute_clock(case, cal, received_at)
    who = actor or contact
    add_event(
        case,
        "created",
        f"Case logged by {channel}" + (f" by {who.name}" if who else ""),
        actor=who,
        data={"priority": priority, "due_at": case.due_at.isoformat()},
        at=received_at,
    )
    db.session.add(case)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return case


def recompute_case(case: Case, *, version=None, actor=None, now=None, reason="", text="") -> bool:
    """Recompute clock start and due (rules 5-7); record the move. True if due moved."""
    now = now or utcnow()
    if version is not None:
        case.calendar_version_id = version.id
        case.calendar_version = version
    cal = calendars.calendar_of(case.calendar_version)
    before = case.due_at
    case.clock_start, case.due_at = compute_clock(case, cal, now)
    if case.due_at > now and case.resolved_at is None:
        case.breached = False
        case.breached_at = None
        case.breach_notified = False
    moved = before is not None and case.due_at != before
    if reason == "calendar":
        text = f"Calendar version {case.calendar_version_id} now in force; due time " + (
            "moved" if moved else "unchanged"
        )
    if text:
        add_event(
            case,
            "recomputed",
            text,
            actor=actor,
            data={
                "reason": reason,
                "from": before.isoformat() if before else None,
                "to": case.due_at.isoformat(),
                "calendar_version": case.calendar_version_id,
            },
            at=now,
        )
    return moved


def get_case(reference: str, user=None) -> Case:
    case = db.session.scalar(
        select(Case).where(Case.reference == (reference or "").strip().upper())
    )
    if case is None or (
        user is not None and not user.is_staff and case.school_id != user.school_id
    ):
        # Another school's case is "not found", so references cannot be probed.
        raise NotFound(f"no case {reference}", fields={"reference": "unknown case"})
    return case


def change_priority(case: Case, priority: str, reason: str, actor, now=None) -> Case:
    _require_staff(actor)
    priority = parse_priority(priority)
    reason = _text(reason, "reason", limit=1000)
    if not case.is_open:
        raise ValidationError(f"{case.reference} is {case.status}; reopen it first")
    if priority == case.priority:
        raise ValidationError(
            f"{case.reference} is already {priority}", fields={"priority": "same"}
        )
    old = case.priority
    case.priority = priority
    add_event(
        case,
        "priority",
        f"Priority {old} → {priority}: {reason}",
        actor=actor,
        data={"from": old, "to": priority, "reason": reason},
        at=now,
    )
    recompute_case(case, actor=actor, now=now, reason="priority", text="Due time recomputed")
    db.session.commit()
    return case


def set_agreed_due(case: Case, agreed: date | None, reason: str, actor, now=None) -> Case:
    """Rule 7: a P4 may carry a due date agreed with the school."""
    _require_staff(actor)
    reason = _text(reason, "reason", limit=1000)
    if case.priority != "P4":
        raise ValidationError(
            "only a P4 case can have an agreed due date", fields={"agreed_due": "P4 only"}
        )
    case.agreed_due = agreed
    text = f"Due date agreed with the school: {agreed}" if agreed else "Agreed due date removed"
    add_event(case, "agreed_due", f"{text} ({reason})", actor=actor, at=now)
    recompute_case(case, actor=actor, now=now, reason="agreed_due", text="Due time recomputed")
    db.session.commit()
    return case


def set_status(case: Case, status: str, actor, *, text: str = "", now=None) -> Case:
    """Move a case; entering "awaiting school" pauses its clock, leaving resumes it."""
    _require_staff(actor)
    if status not in STATUSES:
        raise ValidationError(
            f"unknown status {status!r}: use one of {', '.join(STATUSES)}",
            fields={"status": "unknown status"},
        )
    text = _text(text, "text", required=False, limit=20000)
    _move(case, status, actor, text, now or utcnow())
    db.session.commit()
    return case


def _move(case: Case, status: str, actor, text: str, now: datetime) -> None:
    old = case.status
    if status == old:
        raise ValidationError(f"{case.reference} is already {STATUS_LABELS[status].lower()}")
    if old == "closed":
        raise ValidationError(f"{case.reference} is closed and cannot change")
    if status == "closed" and old != "resolved":
        raise ValidationError("resolve a case before closing it", fields={"status": "not resolved"})
    case.status = status
    add_event(
        case,
        "status",
        f"{STATUS_LABELS[old]} → {STATUS_LABELS[status]}" + (f": {text}" if text else ""),
        actor=actor,
        data={"from": old, "to": status},
        at=now,
    )
    if status == "awaiting_school":
        case.pauses.append(CasePause(started_at=now, reason=text))
        add_event(case, "pause", "Clock paused: awaiting the school", actor=actor, at=now)
    elif old == "awaiting_school":
        pause = case.open_pause
        if pause is not None:
            pause.ended_at = now
        add_event(case, "resume", "Clock resumed", actor=actor, at=now)
        recompute_case(case, actor=actor, now=now, reason="pause", text="Due time moved by pause")
    if status == "resolved":
        case.resolved_at = now
        if now > case.due_at:
            case.breached = True
            case.breached_at = case.breached_at or case.due_at
    elif old == "resolved" and status in OPEN_STATUSES:
        case.resolved_at = None  # reopened: the clock runs on from the original start
        recompute_case(case, actor=actor, now=now)


def resolve(case: Case, actor, text: str = "", now=None) -> Case:
    return set_status(case, "resolved", actor, text=text, now=now)


def add_reply(case: Case, text: str, actor, now=None) -> Case:
    """A public reply; a reply from the school on a paused case restarts its clock."""
    text = _text(text, "text", limit=20000)
    now = now or utcnow()
    if not actor.is_staff and actor.school_id != case.school_id:
        raise NotFound(f"no case {case.reference}")
    if case.status == "closed":
        raise ValidationError(f"{case.reference} is closed; open a new case")
    add_event(case, "reply", text, actor=actor, at=now)
    if not actor.is_staff and case.status == "awaiting_school":
        _move(case, "in_progress", actor, "the school replied", now)
    db.session.commit()
    return case


def add_note(case: Case, text: str, actor, now=None) -> Case:
    """An internal note: technicians only, never shown to the school."""
    _require_staff(actor)
    add_event(case, "note", _text(text, "text", limit=20000), actor=actor, public=False, at=now)
    db.session.commit()
    return case


def assign(case: Case, assignee, actor, now=None) -> Case:
    _require_staff(actor)
    if assignee is not None and not assignee.is_staff:
        raise ValidationError(
            f"{assignee.name} is not a technician", fields={"assignee": "not staff"}
        )
    case.assignee = assignee
    text = f"Assigned to {assignee.name}" if assignee else "Unassigned"
    add_event(case, "assigned", text, actor=actor, public=False, at=now)
    if case.status == "new" and assignee is not None:
        _move(case, "in_progress", actor, "", now or utcnow())
    db.session.commit()
    return case


def link_operation(case: Case, text: str, data: dict | None = None, *, public=True, actor=None):
    """Record work done for the case by another feature (DNS change applied, ...).

    Does not commit: the caller commits it with its own change.
    """
    return add_event(case, "operation", text, actor=actor, public=public, data=data)


def timeline(case: Case, viewer) -> list[CaseEvent]:
    """The case's events the viewer may see: schools never see internal notes."""
    # By time, then by order written: scans and imports may record past instants.
    events = sorted(case.events, key=lambda e: (e.at, e.id or 0))
    if viewer is not None and viewer.is_staff:
        return events
    return [e for e in events if e.public]
