"""Read and check the calendar file (TOML, format in contract.md).

Every problem is reported against the key that has it, all at once, so a person can
fix the file in one go: ``CalendarError.fields == {"terms[1].end": "before start ..."}``.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from provisioner.errors import ValidationError
from provisioner.sla.calendar import WEEKDAYS, BusinessCalendar, Closure

TOP_KEYS = {"timezone", "bank_holidays", "exam_download_days", "hours", "terms", "closures"}
HOUR_TABLES = {"term", "non_term", "exam_download"}
BANK_HOLIDAY_REGIONS = {"ENG", "WLS", "SCT", "NIR"}
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class CalendarError(ValidationError):
    code = "invalid_calendar"


def _problems_message(problems: dict[str, str]) -> str:
    lines = [f"{key}: {problem}" for key, problem in problems.items()]
    return "The calendar file is not valid:\n  " + "\n  ".join(lines)


def _hours(value, key: str, problems: dict) -> tuple[time, time] | None:
    if not isinstance(value, str):
        problems[key] = f'must be a string like "08:30-16:30", got {value!r}'
        return None
    m = _HOURS.match(value.strip())
    if not m:
        problems[key] = (
            f'malformed time range {value!r}: expected "HH:MM-HH:MM", e.g. "08:30-16:30"'
        )
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        problems[key] = f"malformed time in {value!r}: hours are 00-23 and minutes 00-59"
        return None
    opening, closing = time(h1, m1), time(h2, m2)
    if closing <= opening:
        problems[key] = f"closing time {closing:%H:%M} is not after opening time {opening:%H:%M}"
        return None
    return opening, closing


def _weekly(table, key: str, problems: dict) -> dict[int, tuple[time, time]]:
    if not isinstance(table, dict):
        problems[key] = 'must be a table of weekday = "HH:MM-HH:MM"'
        return {}
    out = {}
    for name, value in table.items():
        sub = f"{key}.{name}"
        day = str(name).lower()
        if day not in WEEKDAYS:
            problems[sub] = f"unknown weekday {name!r}: use monday ... friday"
            continue
        if WEEKDAYS.index(day) >= 5:
            problems[sub] = "the desk is closed at weekends (service rules); remove this line"
            continue
        hours = _hours(value, sub, problems)
        if hours:
            out[WEEKDAYS.index(day)] = hours
    return out


def _date(value, key: str, problems: dict) -> date | None:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    problems[key] = f"must be a date written as YYYY-MM-DD (no quotes), got {value!r}"
    return None


def _ranges(items, key: str, problems: dict, allowed: set[str]) -> list[tuple[int, dict]]:
    if not isinstance(items, list):
        problems[key] = f"must be an array of tables ([[{key}]])"
        return []
    out = []
    for i, item in enumerate(items):
        sub = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems[sub] = "must be a table with start and end"
            continue
        for k in item:
            if k not in allowed:
                problems[f"{sub}.{k}"] = f"unknown key; allowed: {', '.join(sorted(allowed))}"
        missing = [k for k in ("start", "end") if k not in item]
        for k in missing:
            problems[f"{sub}.{k}"] = "missing"
        if missing:
            continue
        start = _date(item["start"], f"{sub}.start", problems)
        end = _date(item["end"], f"{sub}.end", problems)
        if start and end:
            if end < start:
                problems[f"{sub}.end"] = f"end {end} is before start {start}"
                continue
            out.append((i, {**item, "start": start, "end": end}))
    return out


def parse_calendar(text: str) -> BusinessCalendar:
    """Parse and validate calendar TOML; raise CalendarError naming every bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(
            f"The calendar file is not valid TOML: {exc}", fields={"file": str(exc)}
        ) from exc
    problems: dict[str, str] = {}
    for key in data:
        if key not in TOP_KEYS:
            problems[key] = f"unknown key; allowed: {', '.join(sorted(TOP_KEYS))}"

    tz = data.get("timezone", "Europe/London")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = f"unknown time zone {tz!r}, e.g. Europe/London"

    region = data.get("bank_holidays", "ENG")
    if region in (False, "none", ""):
        region = None
    elif region not in BANK_HOLIDAY_REGIONS:
        problems["bank_holidays"] = (
            f"unknown region {region!r}: use ENG (England and Wales), WLS, SCT, NIR or none"
        )

    hours = data.get("hours", {})
    term, non_term, exam = {}, {}, None
    if not isinstance(hours, dict):
        problems["hours"] = "must be a table ([hours.term], [hours.non_term], ...)"
        hours = {}
    for name in hours:
        if name not in HOUR_TABLES:
            problems[f"hours.{name}"] = f"unknown key; allowed: {', '.join(sorted(HOUR_TABLES))}"
    if "term" not in hours:
        problems["hours.term"] = "missing"
    else:
        term = _weekly(hours["term"], "hours.term", problems)
    if "non_term" not in hours:
        problems["hours.non_term"] = "missing"
    else:
        non_term = _weekly(hours["non_term"], "hours.non_term", problems)
    if "exam_download" in hours:
        table = hours["exam_download"]
        if not isinstance(table, dict):
            problems["hours.exam_download"] = 'must be a table with hours = "HH:MM-HH:MM"'
        else:
            for k in table:
                if k != "hours":
                    problems[f"hours.exam_download.{k}"] = "unknown key; allowed: hours"
            if "hours" in table:
                exam = _hours(table["hours"], "hours.exam_download.hours", problems)
            else:
                problems["hours.exam_download.hours"] = "missing"

    exam_days = set()
    raw_days = data.get("exam_download_days", [])
    if not isinstance(raw_days, list):
        problems["exam_download_days"] = "must be an array of dates, e.g. [2027-08-12]"
        raw_days = []
    for i, value in enumerate(raw_days):
        key = f"exam_download_days[{i}]"
        d = _date(value, key, problems)
        if d and d.weekday() >= 5:
            problems[key] = f"{d} is a {WEEKDAYS[d.weekday()]}; exam download days are weekdays"
        elif d:
            exam_days.add(d)
    if exam_days and exam is None and "hours.exam_download.hours" not in problems:
        problems["hours.exam_download"] = "missing: exam_download_days need these hours"

    terms = _ranges(data.get("terms", []), "terms", problems, {"start", "end", "name"})
    ordered = sorted(terms, key=lambda t: t[1]["start"])
    for (i, a), (j, b) in zip(ordered, ordered[1:], strict=False):
        if b["start"] <= a["end"]:
            problems[f"terms[{j}]"] = (
                f"overlaps terms[{i}] ({a['start']}..{a['end']} and {b['start']}..{b['end']})"
            )
    closures = _ranges(data.get("closures", []), "closures", problems, {"start", "end", "name"})
    for i, c in closures:
        if "name" in c and not isinstance(c["name"], str):
            problems[f"closures[{i}].name"] = "must be a string"

    if problems:
        raise CalendarError(_problems_message(problems), fields=problems)
    return BusinessCalendar(
        term_hours=term,
        non_term_hours=non_term,
        exam_download_hours=exam,
        exam_download_days=frozenset(exam_days),
        terms=tuple((t["start"], t["end"]) for _, t in ordered),
        closures=tuple(
            Closure(str(c.get("name", "Closure")), c["start"], c["end"]) for _, c in closures
        ),
        bank_holidays=region,
        timezone=str(tz),
    )


def default_calendar_text() -> str:
    return resources.files("provisioner").joinpath("data/calendar-default.toml").read_text()


def default_calendar() -> BusinessCalendar:
    return parse_calendar(default_calendar_text())
