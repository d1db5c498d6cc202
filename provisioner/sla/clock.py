"""The case clock: clock start, due time, pauses and elapsed open time.

Implements rules 2-8 of "How the clock runs" (service-rules.md) on top of a
BusinessCalendar. Inputs may be aware datetimes in any zone, or naive datetimes,
which mean the calendar's local (London) time. Results are aware, in that zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from provisioner.errors import ValidationError
from provisioner.sla.calendar import BusinessCalendar
from provisioner.sla.timeline import to_us

PRIORITIES = ("P1", "P2", "P3", "P4")
HOUR_TARGETS = {"P1": timedelta(hours=4), "P2": timedelta(hours=8)}
DAY_TARGETS = {"P3": 3, "P4": 5}
_HOUR_US = {p: t // timedelta(microseconds=1) for p, t in HOUR_TARGETS.items()}
# contract.md: the impact answer of a request sets its priority.
IMPACT_PRIORITY = {
    "critical": "P1",
    "multiple_users": "P2",
    "degraded": "P3",
    "service_request": "P4",
}


class InvalidPriority(ValidationError):
    code = "invalid_priority"


class InvalidPause(ValidationError):
    code = "invalid_pause"


@dataclass(frozen=True)
class Pause:
    """Time the case spent awaiting the school; ``end`` None means still paused."""

    start: datetime
    end: datetime | None = None


def parse_priority(value: str) -> str:
    if value in _HOUR_US or value in DAY_TARGETS:
        return value
    text = str(value).strip().upper()
    if text in PRIORITIES:
        return text
    raise InvalidPriority(
        f"Unknown priority {value!r}: use one of {', '.join(PRIORITIES)}.",
        fields={"priority": "must be P1, P2, P3 or P4"},
    )


def priority_for_impact(impact: str | None) -> str:
    if impact is None or impact == "":
        return "P4"
    if impact not in IMPACT_PRIORITY:
        raise InvalidPriority(
            f"Unknown impact {impact!r}: use one of {', '.join(IMPACT_PRIORITY)}.",
            fields={"impact": "unknown impact"},
        )
    return IMPACT_PRIORITY[impact]


def describe_target(priority: str) -> str:
    priority = parse_priority(priority)
    if priority in HOUR_TARGETS:
        return f"{int(HOUR_TARGETS[priority].total_seconds() // 3600)} business hours"
    return f"{DAY_TARGETS[priority]} business days"


# -- conversions --------------------------------------------------------------------


def _us(dt: datetime, cal: BusinessCalendar) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=cal.timeline.tz)
    return to_us(dt)


def _dt(us: int, cal: BusinessCalendar) -> datetime:
    seconds, micro = divmod(us, 1_000_000)
    return datetime.fromtimestamp(seconds, cal.timeline.tz).replace(microsecond=micro)


def localize(dt: datetime, cal: BusinessCalendar) -> datetime:
    """``dt`` as an aware datetime in the calendar's zone (naive means local)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=cal.tz)
    return dt.astimezone(cal.tz)


# -- the rules ----------------------------------------------------------------------


def clock_start(received: datetime, cal: BusinessCalendar) -> datetime:
    """Rule 2: received if the desk is open then, else the next opening time."""
    return _dt(cal.timeline.clock_start(_us(received, cal)), cal)


def open_time_between(a: datetime, b: datetime, cal: BusinessCalendar) -> timedelta:
    """Open desk time in ``[a, b)``; zero when b is not after a."""
    return timedelta(microseconds=cal.timeline.open_between(_us(a, cal), _us(b, cal)))


def add_open_time(start: datetime, amount: timedelta, cal: BusinessCalendar) -> datetime:
    """Rule 3: the instant the open time counted from ``start`` reaches ``amount``."""
    return _dt(cal.timeline.add_open(_us(start, cal), amount // timedelta(microseconds=1)), cal)


def _merged_pauses(pauses: Iterable[Pause], cal, now: datetime | None) -> list[tuple[int, int]]:
    spans = []
    for p in pauses:
        end = p.end if p.end is not None else now
        if end is None:
            raise InvalidPause(
                "A pause that has not ended needs the current time to count it.",
                fields={"pause": "no end"},
            )
        s, e = _us(p.start, cal), _us(end, cal)
        if e < s:
            raise InvalidPause(
                f"Pause ends ({end.isoformat()}) before it starts ({p.start.isoformat()}).",
                fields={"pause": "end before start"},
            )
        spans.append((s, e))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:  # overlapping pauses must not count the same hour twice
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _paused_us(spans, tl, since: int, until: int | None = None) -> int:
    total = 0
    for s, e in spans:
        s = max(s, since)
        if until is not None:
            e = min(e, until)
        if e > s:
            total += tl.open_between(s, e)
    return total


def paused_open_time(
    pauses: Iterable[Pause],
    cal: BusinessCalendar,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> timedelta:
    """Open time spent paused (after ``since``, e.g. the clock start)."""
    spans = _merged_pauses(pauses, cal, now)
    since_us = _us(since, cal) if since is not None else -(2**62)
    return timedelta(microseconds=_paused_us(spans, cal.timeline, since_us))


def _base_due_us(priority: str, start_us: int, cal: BusinessCalendar) -> int:
    if priority in _HOUR_US:
        return cal.timeline.add_open(start_us, _HOUR_US[priority])
    return cal.timeline.add_business_days(start_us, DAY_TARGETS[priority])


def _agreed_us(agreed: date | datetime, cal: BusinessCalendar) -> int:
    if isinstance(agreed, datetime):
        return _us(agreed, cal)
    # An agreed date means the end of that business day (or the next one, if closed).
    tl = cal.timeline
    k = tl.business_index(agreed)
    return tl.ends[k]


def due_at(
    priority: str,
    received: datetime,
    cal: BusinessCalendar,
    pauses: Iterable[Pause] = (),
    *,
    agreed_due: date | datetime | None = None,
    now: datetime | None = None,
) -> datetime:
    """The due time of a case (rules 2-7).

    A priority change (rule 6) is simply a new call with the new priority: the clock
    start comes from the unchanged received time, and pauses still count.
    """
    priority = parse_priority(priority)
    tl = cal.timeline
    start = tl.clock_start(_us(received, cal))
    if agreed_due is not None and priority == "P4":
        return _dt(_agreed_us(agreed_due, cal), cal)  # rule 7
    base = _base_due_us(priority, start, cal)
    spans = _merged_pauses(pauses, cal, now) if pauses else ()
    if spans:
        base = tl.add_open(base, _paused_us(spans, tl, start))  # rule 5
    return _dt(base, cal)


def elapsed_fraction(
    priority: str,
    received: datetime,
    due: datetime,
    now: datetime,
    cal: BusinessCalendar,
    pauses: Iterable[Pause] = (),
) -> float:
    """Share of the case's open time budget used by ``now`` (pauses excluded).

    1.0 or more means the due time has passed.
    """
    tl = cal.timeline
    start = tl.clock_start(_us(received, cal))
    due_us, now_us = _us(due, cal), _us(now, cal)
    if now_us >= due_us:
        return 1.0
    spans = _merged_pauses(pauses, cal, now)
    budget = tl.open_between(start, due_us) - _paused_us(spans, tl, start, due_us)
    used = tl.open_between(start, now_us) - _paused_us(spans, tl, start, now_us)
    if budget <= 0:
        return 1.0
    return max(0.0, used / budget)
