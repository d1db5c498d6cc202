"""Clocks and back-off: pure, no Flask or database, so tests inject time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


def backoff_delay(
    attempt: int, base: timedelta, cap: timedelta, rng: random.Random | None = None
) -> timedelta:
    """The wait before retrying after failed attempt number `attempt` (1-based).

    Exponential (base, 2*base, 4*base ... up to cap) with "equal jitter": the
    wait is between half and all of that step, so workers that failed together
    do not all come back at the same instant, yet the wait never collapses to 0.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    step = min(cap, base * (2 ** (attempt - 1)))
    fraction = (rng or random).random()
    return step / 2 + (step / 2) * fraction


def next_every(previous_due: datetime, every: timedelta, now: datetime) -> datetime:
    """The next slot of a fixed-rate job, skipping slots missed while nothing ran."""
    if every <= timedelta(0):
        raise ValueError("the interval must be positive")
    if previous_due > now:
        return previous_due
    missed = (now - previous_due) // every + 1
    return previous_due + every * missed


def next_daily(at: time, now: datetime, tz: ZoneInfo = LONDON) -> datetime:
    """The first wall-clock `at` in `tz` strictly after `now`, as UTC."""
    local_day: date = now.astimezone(tz).date()
    for offset in range(0, 3):
        candidate = datetime.combine(local_day + timedelta(days=offset), at, tzinfo=tz)
        candidate = candidate.astimezone(UTC)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a wall-clock time recurs within two days")
