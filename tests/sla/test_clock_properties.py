"""Property tests over two years of received times (2026-2027) on the shipped calendar."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.sla import (
    HOUR_TARGETS,
    Pause,
    add_open_time,
    clock_start,
    default_calendar,
    due_at,
    open_time_between,
)

LONDON = ZoneInfo("Europe/London")
CAL = default_calendar()
START = datetime(2026, 1, 1, tzinfo=UTC)
TWO_YEARS_MIN = 2 * 365 * 24 * 60

received_times = st.integers(0, TWO_YEARS_MIN).map(lambda m: START + timedelta(minutes=m))
priorities = st.sampled_from(["P1", "P2", "P3", "P4"])


@settings(max_examples=300, deadline=None)
@given(received=received_times, priority=priorities)
def test_due_never_before_clock_start(received, priority):
    start = clock_start(received, CAL)
    assert start >= received
    assert due_at(priority, received, CAL) > start


@settings(max_examples=300, deadline=None)
@given(received=received_times, later=st.integers(0, 7 * 24 * 60), priority=priorities)
def test_due_never_moves_earlier_when_received_later(received, later, priority):
    assert due_at(priority, received + timedelta(minutes=later), CAL) >= due_at(
        priority, received, CAL
    )


@settings(max_examples=300, deadline=None)
@given(received=received_times, priority=st.sampled_from(["P1", "P2"]))
def test_open_time_to_due_equals_hour_target(received, priority):
    start = clock_start(received, CAL)
    due = due_at(priority, received, CAL)
    assert open_time_between(start, due, CAL) == HOUR_TARGETS[priority]


@settings(max_examples=300, deadline=None)
@given(
    received=received_times,
    priority=priorities,
    pause_after=st.integers(0, 3 * 24 * 60),
    pause_len=st.integers(1, 5 * 24 * 60),
)
def test_pause_moves_due_by_exactly_the_open_time_paused(
    received, priority, pause_after, pause_len
):
    pause_start = clock_start(received, CAL) + timedelta(minutes=pause_after)
    pause = Pause(pause_start, pause_start + timedelta(minutes=pause_len))
    paused = open_time_between(pause.start, pause.end, CAL)
    plain = due_at(priority, received, CAL)
    with_pause = due_at(priority, received, CAL, [pause])
    assert with_pause == add_open_time(plain, paused, CAL)
    assert open_time_between(plain, with_pause, CAL) == paused


def _near(day: datetime):
    return st.integers(-6 * 24 * 60, 6 * 24 * 60).map(lambda m: day + timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(
    received=st.one_of(
        _near(datetime(2026, 10, 25, 1, tzinfo=UTC)), _near(datetime(2027, 3, 28, 1, tzinfo=UTC))
    ),
    priority=priorities,
)
def test_opening_stays_at_local_time_across_dst(received, priority):
    start = clock_start(received, CAL).astimezone(LONDON)
    if start != received:  # the clock waited for an opening: 08:30 local, whatever the offset
        assert start.time() == time(8, 30)
    due = due_at(priority, received, CAL).astimezone(LONDON)
    hours = CAL.hours_on(due.date())
    assert hours is not None and hours[0] <= due.time() <= hours[1]
    if priority in ("P3", "P4"):
        expected = min(max(start.time(), hours[0]), hours[1])
        assert due.time() == expected


def test_0830_stays_0830_across_both_dst_changes():
    # Friday before the October change (BST) -> Tuesday after it (GMT)
    received = datetime(2026, 10, 23, 8, 30, tzinfo=LONDON)
    due = due_at("P3", received, CAL)
    assert (due.date().isoformat(), due.time()) == ("2026-10-28", time(8, 30))
    assert received.utcoffset() == timedelta(hours=1) and due.utcoffset() == timedelta(0)
    # Thursday before the March change (GMT) -> over Easter (Good Friday, Easter
    # Monday) -> Thursday after it (BST)
    received = datetime(2027, 3, 25, 8, 30, tzinfo=LONDON)
    due = due_at("P3", received, CAL)
    assert (due.date().isoformat(), due.time()) == ("2027-04-01", time(8, 30))
    assert due.utcoffset() == timedelta(hours=1)
    # A P1 received on Saturday night of the change starts at Monday 08:30 local
    assert clock_start(datetime(2026, 10, 24, 23, 0, tzinfo=UTC), CAL) == datetime(
        2026, 10, 26, 8, 30, tzinfo=LONDON
    )
    # ... and after the March change (Easter Monday shut) at Tuesday 08:30 BST = 07:30 UTC
    assert clock_start(datetime(2027, 3, 27, 23, 0, tzinfo=UTC), CAL) == datetime(
        2027, 3, 30, 7, 30, tzinfo=UTC
    )


def _open_time_oracle(a: datetime, b: datetime) -> timedelta:
    """Independent check: walk the dates and overlap [a, b) with each day's hours."""
    total = timedelta()
    day = a.astimezone(LONDON).date() - timedelta(days=1)
    while day <= b.astimezone(LONDON).date():
        hours = CAL.hours_on(day)
        if hours:
            start = datetime.combine(day, hours[0], tzinfo=LONDON)
            end = datetime.combine(day, hours[1], tzinfo=LONDON)
            overlap = min(end, b) - max(start, a)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


@settings(max_examples=200, deadline=None)
@given(a=received_times, minutes=st.integers(0, 20 * 24 * 60))
def test_open_time_matches_a_day_by_day_walk(a, minutes):
    b = a + timedelta(minutes=minutes)
    assert open_time_between(a, b, CAL) == _open_time_oracle(a, b)


@settings(max_examples=200, deadline=None)
@given(received=received_times, priority=priorities)
def test_due_is_inside_opening_hours_or_at_closing(received, priority):
    due = due_at(priority, received, CAL).astimezone(LONDON)
    hours = CAL.hours_on(due.date())
    assert hours is not None and hours[0] <= due.time() <= hours[1]
