"""The worked examples and each rule of "How the clock runs" (service-rules.md)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from provisioner.sla import (
    InvalidPause,
    InvalidPriority,
    Pause,
    clock_start,
    due_at,
    open_time_between,
    parse_calendar,
    priority_for_impact,
)

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


WORKED = [
    ("P1", "2026-11-26 15:00", "2026-11-27 11:00"),
    ("P2", "2026-11-22 20:00", "2026-11-23 16:30"),
    ("P3", "2026-11-23 11:15", "2026-11-26 11:15"),
    ("P4", "2026-11-23 16:20", "2026-11-30 16:20"),
]


@pytest.mark.parametrize("priority,received,due", WORKED)
@pytest.mark.parametrize("which", ["contract_calendar", "calendar"])
def test_worked_examples(request, which, priority, received, due):
    cal = request.getfixturevalue(which)
    result = due_at(priority, london(received), cal)
    assert result == london(due)
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)


def test_naive_received_means_london_time(contract_calendar):
    # 2027-03-31 is BST: a naive 09:00 is 08:00 UTC
    due = due_at("P1", datetime(2027, 3, 31, 9, 0), contract_calendar)
    assert due == london("2027-03-31 13:00")
    assert due.isoformat() == "2027-03-31T13:00:00+01:00"


def test_received_in_another_zone_is_converted(contract_calendar):
    received = datetime.fromisoformat("2026-11-26T15:00:00+00:00").astimezone(
        ZoneInfo("Asia/Tokyo")
    )
    assert due_at("P1", received, contract_calendar) == london("2026-11-27 11:00")


def test_opening_hours_by_kind_of_date(contract_calendar):
    cal = contract_calendar
    assert cal.day(date(2026, 11, 23)).kind == "term"  # Monday in term
    assert cal.hours_on(date(2026, 11, 27))[1].strftime("%H:%M") == "16:00"  # term Friday
    assert cal.day(date(2026, 10, 28)).kind == "non_term"  # half term
    assert cal.hours_on(date(2026, 10, 30))[1].strftime("%H:%M") == "15:30"
    assert cal.day(date(2027, 8, 12)).kind == "exam_download"
    assert cal.hours_on(date(2027, 8, 12))[0].strftime("%H:%M") == "07:00"
    assert cal.day(date(2026, 11, 28)).kind == "weekend"
    assert cal.day(date(2027, 5, 31)).kind == "bank_holiday"
    assert cal.day(date(2026, 12, 31)).kind == "closure"


def test_substitute_bank_holiday_without_a_closure():
    cal = parse_calendar(
        '[hours.term]\nmonday = "08:30-16:30"\ntuesday = "08:30-16:30"\n'
        '[hours.non_term]\nmonday = "08:30-16:00"\ntuesday = "08:30-16:00"\n'
    )
    day = cal.day(date(2026, 12, 28))  # Boxing Day falls on a Saturday
    assert day.kind == "bank_holiday" and "observed" in day.reason.lower()
    # received on the Christmas Eve Thursday afternoon is not open (no Thursday hours)
    assert clock_start(london("2026-12-24 12:00"), cal) == london("2026-12-29 08:30")


def test_clock_start_rules(contract_calendar):
    cal = contract_calendar
    inside = london("2026-11-26 10:17:42")
    assert clock_start(inside, cal) == inside
    assert clock_start(london("2026-11-26 08:30"), cal) == london("2026-11-26 08:30")
    # exactly at closing: next opening
    assert clock_start(london("2026-11-26 16:30"), cal) == london("2026-11-27 08:30")
    assert clock_start(london("2026-11-26 16:29:59"), cal) == london("2026-11-26 16:29:59")
    assert clock_start(london("2026-11-28 12:00"), cal) == london("2026-11-30 08:30")


def test_christmas_shutdown_crosses_new_year(contract_calendar):
    # Wed 23 Dec is non-term (closes 16:00): 1h, then shut until Mon 4 Jan.
    due = due_at("P1", london("2026-12-23 15:00"), contract_calendar)
    assert due == london("2027-01-04 11:30")
    # Tue 22 Dec -> Wed 23 Dec (1), Mon 4 Jan (2), Tue 5 Jan (3)
    assert due_at("P3", london("2026-12-22 10:00"), contract_calendar) == london("2027-01-05 10:00")


def test_exam_download_day_opens_early(contract_calendar):
    assert due_at("P1", london("2027-08-12 06:00"), contract_calendar) == london("2027-08-12 11:00")
    # the day before is an ordinary non-term Wednesday
    assert clock_start(london("2027-08-11 07:30"), contract_calendar) == london("2027-08-11 08:30")


def test_hour_target_landing_on_closing_is_that_closing(contract_calendar):
    # Monday term day 08:30-16:30 is exactly 8 hours.
    assert due_at("P2", london("2026-11-23 08:30"), contract_calendar) == london("2026-11-23 16:30")


def test_day_target_moves_into_opening_hours(contract_calendar):
    cal = contract_calendar
    # 16:20 on Monday; 3 business days later is Thursday (open to 16:30): same time.
    assert due_at("P3", london("2026-11-23 16:20"), cal) == london("2026-11-26 16:20")
    # 16:20 on Tuesday; 3 business days later is Friday, which closes at 16:00.
    assert due_at("P3", london("2026-11-24 16:20"), cal) == london("2026-11-27 16:00")
    # received overnight: clock starts 08:30, due 08:30 three days on
    assert due_at("P3", london("2026-11-23 02:00"), cal) == london("2026-11-26 08:30")
    # before opening on an exam-download day the due time keeps 08:30 (inside 07:00-16:00)
    assert due_at("P3", london("2027-08-09 08:30"), cal) == london("2027-08-12 08:30")
    # and a 07:00 start moves up to the opening of an ordinary day
    assert due_at("P3", london("2027-08-12 07:00"), cal) == london("2027-08-17 08:30")


def test_pause_adds_the_paused_open_time(contract_calendar):
    cal = contract_calendar
    received = london("2026-11-26 15:00")
    # paused Thu 15:30 -> Fri 09:30: 1h Thu + 1h Fri = 2h of open time
    pause = Pause(london("2026-11-26 15:30"), london("2026-11-27 09:30"))
    assert due_at("P1", received, cal, [pause]) == london("2026-11-27 13:00")
    # a pause over a weekend costs nothing
    weekend = Pause(london("2026-11-28 09:00"), london("2026-11-29 17:00"))
    assert due_at("P1", received, cal, [weekend]) == london("2026-11-27 11:00")
    # overlapping pauses are not counted twice
    both = [pause, Pause(london("2026-11-26 16:00"), london("2026-11-27 09:00"))]
    assert due_at("P1", received, cal, both) == london("2026-11-27 13:00")
    # a day target's due time moves by open time too, with rule 3
    p3 = due_at("P3", london("2026-11-23 11:15"), cal, [pause])
    assert p3 == london("2026-11-26 13:15")


def test_open_pause_needs_now(contract_calendar):
    pause = Pause(london("2026-11-26 15:30"))
    with pytest.raises(InvalidPause):
        due_at("P1", london("2026-11-26 15:00"), contract_calendar, [pause])
    due = due_at(
        "P1", london("2026-11-26 15:00"), contract_calendar, [pause], now=london("2026-11-26 16:30")
    )
    assert due == london("2026-11-27 12:00")


def test_pause_ending_before_it_starts_is_refused(contract_calendar):
    with pytest.raises(InvalidPause, match="before it starts"):
        due_at(
            "P1",
            london("2026-11-26 15:00"),
            contract_calendar,
            [Pause(london("2026-11-26 16:00"), london("2026-11-26 15:00"))],
        )


def test_priority_change_recomputes_from_original_clock_start(contract_calendar):
    cal = contract_calendar
    received = london("2026-11-22 20:00")  # Sunday: clock starts Monday 08:30
    pause = Pause(london("2026-11-23 09:00"), london("2026-11-23 10:00"))
    assert due_at("P4", received, cal, [pause]) == london("2026-11-30 09:30")
    assert due_at("P1", received, cal, [pause]) == london("2026-11-23 13:30")


def test_agreed_due_date_for_p4_only(contract_calendar):
    cal = contract_calendar
    received = london("2026-11-23 10:00")
    agreed = london("2026-12-15 12:00")
    assert due_at("P4", received, cal, agreed_due=agreed) == agreed
    # a date means the close of that business day
    assert due_at("P4", received, cal, agreed_due=date(2026, 12, 11)) == london("2026-12-11 16:00")
    # ... or of the next business day if the desk is shut on it
    assert due_at("P4", received, cal, agreed_due=date(2026, 12, 12)) == london("2026-12-14 16:30")
    assert due_at("P1", received, cal, agreed_due=agreed) == london("2026-11-23 14:00")


def test_open_time_between(contract_calendar):
    cal = contract_calendar
    assert open_time_between(
        london("2026-11-26 15:00"), london("2026-11-27 11:00"), cal
    ) == timedelta(hours=4)
    assert open_time_between(
        london("2026-11-27 11:00"), london("2026-11-26 15:00"), cal
    ) == timedelta(0)
    # a whole term week: 4 x 8h + 7h30
    assert open_time_between(
        london("2026-11-23 00:00"), london("2026-11-30 00:00"), cal
    ) == timedelta(hours=39, minutes=30)


def test_bad_priority_names_the_choices(contract_calendar):
    with pytest.raises(InvalidPriority, match="P1, P2, P3, P4"):
        due_at("P5", london("2026-11-26 15:00"), contract_calendar)
    assert due_at("p1", london("2026-11-26 15:00"), contract_calendar) == london("2026-11-27 11:00")


def test_priority_from_impact():
    assert priority_for_impact("critical") == "P1"
    assert priority_for_impact("multiple_users") == "P2"
    assert priority_for_impact("degraded") == "P3"
    assert priority_for_impact("service_request") == "P4"
    assert priority_for_impact(None) == "P4"
    with pytest.raises(InvalidPriority):
        priority_for_impact("meh")


def test_far_future_and_past_dates_work(contract_calendar):
    # outside the compiled range the timeline rebuilds wider; no terms -> non-term
    # hours (close 16:00 Mon-Thu): 1h on the day, 3h the next morning
    assert due_at("P1", london("2031-06-04 15:00"), contract_calendar) == london("2031-06-05 11:30")
    assert due_at("P1", london("2019-06-05 15:00"), contract_calendar) == london("2019-06-06 11:30")
