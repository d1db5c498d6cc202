"""Finding cases: the technicians' queue, a school's list, filters and counts."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from provisioner.cases.models import CATEGORIES, OPEN_STATUSES, STATUSES, Case
from provisioner.db import db
from provisioner.errors import ValidationError
from provisioner.schools.models import School
from provisioner.sla import PRIORITIES

FILTERS = ("status", "priority", "assignee", "school", "category", "flag", "q")


def _bad(field: str, value, allowed) -> ValidationError:
    return ValidationError(
        f"unknown {field} {value!r}: use one of {', '.join(allowed)}",
        fields={field: "unknown value"},
    )


def cases_for(
    user,
    *,
    status="open",
    priority=None,
    assignee=None,
    school=None,
    category=None,
    flag=None,
    q=None,
    limit=500,
) -> list[Case]:
    """Cases the user may see, most urgent first (earliest due)."""
    query = select(Case)
    if not user.is_staff:
        query = query.where(Case.school_id == user.school_id)
    if status in (None, "", "open"):
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status != "all":
        if status not in STATUSES:
            raise _bad("status", status, ("open", "all", *STATUSES))
        query = query.where(Case.status == status)
    if priority:
        if priority.upper() not in PRIORITIES:
            raise _bad("priority", priority, PRIORITIES)
        query = query.where(Case.priority == priority.upper())
    if assignee == "me":
        query = query.where(Case.assignee_id == user.id)
    elif assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif assignee:
        if not str(assignee).isdigit():
            raise _bad("assignee", assignee, ("me", "none", "a technician id"))
        query = query.where(Case.assignee_id == int(assignee))
    if school:
        query = query.join(School, Case.school_id == School.id).where(School.urn == school)
    if category:
        if category not in CATEGORIES:
            raise _bad("category", category, CATEGORIES)
        query = query.where(Case.category == category)
    if flag == "breached":
        query = query.where(Case.breached.is_(True))
    elif flag == "at_risk":
        query = query.where(Case.at_risk.is_(True), Case.breached.is_(False))
    elif flag:
        raise _bad("flag", flag, ("at_risk", "breached"))
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(func.lower(Case.subject).like(like), func.lower(Case.reference).like(like))
        )
    return list(db.session.scalars(query.order_by(Case.due_at, Case.id).limit(limit)))


def counts(user) -> dict:
    """Open cases by state and priority, for the queue's header."""
    query = select(Case.priority, Case.breached, Case.at_risk, Case.assignee_id).where(
        Case.status.in_(OPEN_STATUSES)
    )
    if not user.is_staff:
        query = query.where(Case.school_id == user.school_id)
    out = {"open": 0, "breached": 0, "at_risk": 0, "unassigned": 0, **dict.fromkeys(PRIORITIES, 0)}
    for priority, breached, at_risk, assignee_id in db.session.execute(query):
        out["open"] += 1
        out[priority] += 1
        out["breached"] += bool(breached)
        out["at_risk"] += bool(at_risk and not breached)
        out["unassigned"] += assignee_id is None
    return out
