"""Calendar versions: load a calendar file as a new version, find the one in force.

A case keeps the version it was received under. Loading a new version moves every
open case onto it and recomputes its clock; resolved and closed cases never move.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from provisioner.cases.models import OPEN_STATUSES, CalendarVersion, Case
from provisioner.db import db
from provisioner.sla import BusinessCalendar, default_calendar_text, parse_calendar

# Parsed calendars by version id: a version's text never changes, and a parsed
# calendar caches its compiled opening intervals, so keep them for the process.
_parsed: dict[tuple[int, str], BusinessCalendar] = {}


def calendar_of(version: CalendarVersion) -> BusinessCalendar:
    key = (version.id, version.sha256)
    if key not in _parsed:
        _parsed[key] = parse_calendar(version.text)
    return _parsed[key]


def latest_version() -> CalendarVersion | None:
    return db.session.scalar(select(CalendarVersion).order_by(CalendarVersion.id.desc()).limit(1))


def current_version() -> CalendarVersion:
    """The version in force; the shipped default becomes version 1 when none was loaded."""
    version = latest_version()
    if version is None:
        text = default_calendar_text()
        version = CalendarVersion(
            text=text, source="shipped default", sha256=hashlib.sha256(text.encode()).hexdigest()
        )
        db.session.add(version)
        db.session.flush()
    return version


def current_calendar() -> BusinessCalendar:
    """The calendar in force without storing anything (for `sla due`, `calendar show`).

    Before the first `db upgrade` there is no table to read: the shipped default
    is then the calendar in force, so the clock works on a fresh checkout.
    """
    try:
        version = latest_version()
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        version = None
    if version is None:
        return parse_calendar(default_calendar_text())
    return calendar_of(version)


def load_calendar(text: str, *, source: str = "", actor=None, now=None) -> tuple:
    """Validate ``text`` and store it as the new version; recompute open cases.

    Returns (version, recomputed cases). A bad file raises CalendarError and
    nothing changes: the calendar in force stays in force.
    """
    from provisioner.cases.services import recompute_case

    parse_calendar(text)  # raises CalendarError naming every bad key
    version = CalendarVersion(
        text=text,
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    moved = []
    open_cases = db.session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES)))
    for case in open_cases:
        if recompute_case(case, version=version, actor=actor, now=now, reason="calendar"):
            moved.append(case)
    db.session.commit()
    return version, moved


def coming_days(cal: BusinessCalendar, start: date, days: int):
    return [cal.day(start + timedelta(days=i)) for i in range(days)]
