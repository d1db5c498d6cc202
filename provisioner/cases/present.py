"""What a case looks like to the outside: API dictionaries and the clock audit."""

from __future__ import annotations

from datetime import timedelta

from provisioner.cases import calendars
from provisioner.cases.models import Case
from provisioner.cases.services import timeline
from provisioner.db import utcnow
from provisioner.sla import describe_target, due_at, open_time_between


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def event_dict(event, viewer) -> dict:
    data = {
        "at": _iso(event.at),
        "kind": event.kind,
        "text": event.text,
        "actor": event.actor.name if event.actor else None,
    }
    if viewer is not None and viewer.is_staff:
        data["public"] = event.public
    return data


def case_summary(case: Case) -> dict:
    return {
        "reference": case.reference,
        "subject": case.subject,
        "school_urn": case.school.urn,
        "status": case.status,
        "priority": case.priority,
        "category": case.category,
        "channel": case.channel,
        "received_at": _iso(case.received_at),
        "due_at": _iso(case.due_at),
        "at_risk": case.at_risk,
        "breached": case.breached,
        "assignee": case.assignee.email if case.assignee else None,
    }


def case_dict(case: Case, viewer) -> dict:
    """The contract's shape ({reference, status, priority, channel, received_at,
    due_at, breached, timeline}) plus the clock's details."""
    data = case_summary(case)
    data.update(
        {
            "description": case.description,
            "contact": case.contact.email if case.contact else None,
            "clock_start": _iso(case.clock_start),
            "resolved_at": _iso(case.resolved_at),
            "agreed_due": case.agreed_due.isoformat() if case.agreed_due else None,
            "calendar_version": case.calendar_version_id,
            "timeline": [event_dict(e, viewer) for e in timeline(case, viewer)],
        }
    )
    return data


def clock_audit(case: Case, now=None) -> dict:
    """How the due time was reached, step by step, in the case's calendar."""
    now = now or utcnow()
    cal = calendars.calendar_of(case.calendar_version)
    pauses = []
    for p in case.pauses:
        end = p.ended_at or now
        pauses.append(
            {
                "start": p.started_at,
                "end": p.ended_at,
                "open_time": open_time_between(p.started_at, end, cal),
            }
        )
    base = due_at(case.priority, case.received_at, cal)
    return {
        "received": case.received_at,
        "clock_start": case.clock_start,
        "target": describe_target(case.priority),
        "priority": case.priority,
        "base_due": base,
        "pauses": pauses,
        "paused_total": sum((p["open_time"] for p in pauses), timedelta()),
        "agreed_due": case.agreed_due,
        "due": case.due_at,
        "calendar_version": case.calendar_version,
        "running": case.status == "awaiting_school",
    }


def hours_minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"
