"""The provider's business calendar: which hours of which date the desk is open.

Rule 1 of "How the clock runs" (service-rules.md): a date is closed at weekends, on
bank holidays and in closures; otherwise it has exam-download hours if listed, term
hours if it lies in a term, else non-term hours. Intervals are ``[open, close)`` in
local wall-clock time, so 08:30 stays 08:30 across both DST changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

Hours = tuple[time, time]


@dataclass(frozen=True)
class DayHours:
    """What the desk does on one date: open hours (or None) and why."""

    day: date
    hours: Hours | None
    kind: str  # term, non_term, exam_download, weekend, bank_holiday, closure
    reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.hours is not None


@dataclass(frozen=True)
class Closure:
    name: str
    start: date
    end: date  # inclusive


@lru_cache(maxsize=64)
def _bank_holidays(subdiv: str, year: int) -> dict[date, str]:
    # The holidays package computes dates locally (no network); observed days
    # are the substitute days for holidays falling at a weekend.
    return dict(holidays.country_holidays("GB", subdiv=subdiv, years=year).items())


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """An immutable description of the desk's hours; see calendar_file for the TOML form."""

    term_hours: dict[int, Hours]  # weekday (0 = Monday) -> hours; a missing day is closed
    non_term_hours: dict[int, Hours]
    exam_download_hours: Hours | None = None
    exam_download_days: frozenset[date] = frozenset()
    terms: tuple[tuple[date, date], ...] = ()
    closures: tuple[Closure, ...] = ()
    bank_holidays: str | None = "ENG"
    timezone: str = "Europe/London"
    _timeline: list = field(default_factory=list, repr=False, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def bank_holiday(self, day: date) -> str | None:
        if not self.bank_holidays:
            return None
        return _bank_holidays(self.bank_holidays, day.year).get(day)

    def closure(self, day: date) -> Closure | None:
        for c in self.closures:
            if c.start <= day <= c.end:
                return c
        return None

    def in_term(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.terms)

    def day(self, day: date) -> DayHours:
        """Rule 1: the opening hours of a date, with the reason it is closed or open."""
        weekday = day.weekday()
        if weekday >= 5:
            return DayHours(day, None, "weekend", WEEKDAYS[weekday].capitalize())
        holiday = self.bank_holiday(day)
        if holiday:
            return DayHours(day, None, "bank_holiday", holiday)
        closure = self.closure(day)
        if closure:
            return DayHours(day, None, "closure", closure.name)
        if day in self.exam_download_days and self.exam_download_hours:
            return DayHours(day, self.exam_download_hours, "exam_download")
        if self.in_term(day):
            hours, kind = self.term_hours.get(weekday), "term"
        else:
            hours, kind = self.non_term_hours.get(weekday), "non_term"
        if hours is None:
            return DayHours(day, None, kind, f"no {kind.replace('_', '-')} hours on this weekday")
        return DayHours(day, hours, kind)

    def hours_on(self, day: date) -> Hours | None:
        return self.day(day).hours

    @property
    def timeline(self):
        # Built lazily and cached on the instance: the compiled, per-date opening
        # intervals that make due-time arithmetic a handful of bisections.
        if not self._timeline:
            from provisioner.sla.timeline import Timeline

            self._timeline.append(Timeline(self))
        return self._timeline[0]
