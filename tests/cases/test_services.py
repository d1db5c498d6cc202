"""The case lifecycle: references, priorities, pauses, timeline, calendar versions."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from provisioner.cases import calendars
from provisioner.cases.services import (
    add_note,
    add_reply,
    assign,
    change_priority,
    get_case,
    open_case,
    resolve,
    set_agreed_due,
    set_status,
    timeline,
)
from provisioner.db import db
from provisioner.errors import Forbidden, NotFound, ValidationError


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London"))


def test_open_case_reference_priority_and_due(new_case, contact):
    first = new_case(impact="critical")
    second = new_case("2026-11-26 15:05", impact="service_request")
    assert re.fullmatch(r"CASE-2026-\d{6}", first.reference)
    assert (first.reference, second.reference) == ("CASE-2026-000001", "CASE-2026-000002")
    assert first.priority == "P1" and second.priority == "P4"
    assert first.due_at == london("2026-11-27 11:00")
    assert first.clock_start == london("2026-11-26 15:00")
    assert first.calendar_version.source == "shipped default"
    assert [e.kind for e in first.events] == ["created"]
    assert first.contact is contact and first.status == "new"


def test_reference_numbers_restart_each_year(new_case):
    assert new_case("2026-12-31 23:59").reference == "CASE-2026-000001"
    assert new_case("2027-01-04 09:00").reference == "CASE-2027-000001"


def test_bad_case_input_is_refused(school, contact):
    with pytest.raises(ValidationError, match="unknown category"):
        open_case(school=school, subject="x", category="plumbing", contact=contact)
    with pytest.raises(ValidationError, match="subject is required"):
        open_case(school=school, subject="  ", contact=contact)
    with pytest.raises(ValidationError, match="unknown impact|Unknown impact"):
        open_case(school=school, subject="x", impact="apocalyptic", contact=contact)
    with pytest.raises(Forbidden):
        open_case(school=school, subject="x", priority="P1", contact=contact, actor=contact)


def test_priority_override_needs_a_reason_and_recomputes(new_case, tech, contact):
    case = new_case("2026-11-22 20:00", impact="service_request")  # clock starts Mon 08:30
    assert case.due_at == london("2026-11-30 08:30")
    with pytest.raises(ValidationError, match="reason is required"):
        change_priority(case, "P2", "", tech)
    with pytest.raises(Forbidden):
        change_priority(case, "P2", "urgent", contact)
    assert case.priority == "P4"
    change_priority(case, "P2", "whole school has no email", tech, now=london("2026-11-23 09:00"))
    assert case.priority == "P2" and case.due_at == london("2026-11-23 16:30")
    event = [e for e in case.events if e.kind == "priority"][0]
    assert event.data == {"from": "P4", "to": "P2", "reason": "whole school has no email"}
    assert event.actor is tech


def test_awaiting_school_pauses_the_clock(new_case, tech):
    case = new_case(impact="critical")  # due Fri 11:00
    set_status(case, "awaiting_school", tech, text="which page?", now=london("2026-11-26 15:30"))
    assert case.open_pause is not None
    set_status(case, "in_progress", tech, now=london("2026-11-27 09:30"))  # 2h of open time
    assert case.due_at == london("2026-11-27 13:00")
    assert case.pauses[0].ended_at == london("2026-11-27 09:30")
    kinds = [e.kind for e in case.events]
    assert kinds.index("pause") < kinds.index("resume") < kinds.index("recomputed")


def test_school_reply_resumes_a_paused_case(new_case, tech, contact):
    case = new_case(impact="critical")
    set_status(case, "awaiting_school", tech, now=london("2026-11-26 15:30"))
    add_reply(case, "It's the home page", contact, now=london("2026-11-26 16:30"))
    assert case.status == "in_progress"
    assert case.due_at == london("2026-11-27 12:00")


def test_school_never_sees_internal_notes(new_case, tech, contact):
    case = new_case()
    add_note(case, "the school's server is ancient", tech)
    add_reply(case, "We are looking at it", tech)
    seen = timeline(case, contact)
    assert [e.kind for e in seen] == ["created", "reply"]
    assert "note" in [e.kind for e in timeline(case, tech)]
    with pytest.raises(Forbidden):
        add_note(case, "sneaky", contact)


def test_other_schools_cases_are_not_found(new_case, outsider, contact):
    case = new_case()
    assert get_case(case.reference.lower(), contact) is case
    with pytest.raises(NotFound):
        get_case(case.reference, outsider)
    with pytest.raises(NotFound):
        add_reply(case, "hello", outsider)


def test_resolve_late_marks_breached_and_reopen_keeps_start(new_case, tech):
    case = new_case(impact="critical")
    assign(case, tech, tech)
    assert case.status == "in_progress" and case.assignee is tech
    resolve(case, tech, "fixed", now=london("2026-11-27 12:00"))
    assert case.resolved_at == london("2026-11-27 12:00") and case.breached
    set_status(case, "in_progress", tech, text="still broken", now=london("2026-11-30 09:00"))
    assert case.resolved_at is None and case.clock_start == london("2026-11-26 15:00")
    resolve(case, tech, now=london("2026-11-30 10:00"))
    set_status(case, "closed", tech)
    with pytest.raises(ValidationError, match="closed"):
        add_reply(case, "hello?", tech)


def test_close_requires_resolved(new_case, tech):
    case = new_case()
    with pytest.raises(ValidationError, match="resolve a case before closing"):
        set_status(case, "closed", tech)
    with pytest.raises(ValidationError, match="unknown status"):
        set_status(case, "done", tech)


def test_agreed_due_for_p4(new_case, tech):
    case = new_case("2026-11-23 10:00")
    set_agreed_due(case, date(2026, 12, 11), "project work", tech)
    assert case.due_at == london("2026-12-11 16:00")
    change_priority(case, "P3", "more urgent now", tech)
    with pytest.raises(ValidationError, match="only a P4"):
        set_agreed_due(case, date(2026, 12, 11), "x", tech)


def test_new_calendar_recomputes_open_cases_only(new_case, tech):
    open_one = new_case(impact="critical")
    done = new_case(impact="critical")
    resolve(done, tech, now=london("2026-11-27 10:00"))
    done_due, done_version = done.due_at, done.calendar_version_id
    text = calendars.default_calendar_text().replace(
        'thursday = "08:30-16:30"', 'thursday = "08:30-15:30"'
    )
    version, moved = calendars.load_calendar(
        text, source="shorter.toml", now=london("2026-11-26 15:10")
    )
    assert moved == [open_one]
    # Thursday now closes 15:30: 30 min Thu, 3h30 Fri from 08:30
    assert open_one.due_at == london("2026-11-27 12:00")
    assert open_one.calendar_version_id == version.id
    event = open_one.events[-1]
    assert event.kind == "recomputed" and "due time moved" in event.text
    db.session.refresh(done)
    assert (done.due_at, done.calendar_version_id) == (done_due, done_version)


def test_bad_calendar_changes_nothing(new_case):
    from provisioner.sla import CalendarError

    case = new_case(impact="critical")
    with pytest.raises(CalendarError):
        calendars.load_calendar("[hours.term]\nfunday = '09:00-10:00'\n")
    db.session.rollback()
    assert calendars.latest_version().id == case.calendar_version_id
