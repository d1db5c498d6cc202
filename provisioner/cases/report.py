"""The SLA report: per month (of receipt, London time) and priority.

met: resolved by the due time. breached: resolved after it, or still open past it.
% met counts only cases with an outcome; median resolution is in business hours
(open desk time between clock start and resolution, pauses excluded).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select

from provisioner.cases import calendars
from provisioner.cases.models import Case
from provisioner.cases.services import pauses_of
from provisioner.db import db, utcnow
from provisioner.errors import ValidationError
from provisioner.sla import PRIORITIES, open_time_between, paused_open_time

CSV_COLUMNS = (
    "month",
    "priority",
    "cases",
    "met",
    "breached",
    "percent_met",
    "median_resolution_business_hours",
)


@dataclass
class ReportRow:
    month: str
    priority: str
    cases: int = 0
    met: int = 0
    breached: int = 0
    percent_met: float | None = None
    median_hours: float | None = None

    def as_csv(self) -> list:
        pct = "" if self.percent_met is None else f"{self.percent_met:.1f}"
        med = "" if self.median_hours is None else f"{self.median_hours:.2f}"
        return [self.month, self.priority, self.cases, self.met, self.breached, pct, med]


def _month(text: str | None, field: str) -> str | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m").strftime("%Y-%m")
    except ValueError as exc:
        raise ValidationError(
            f"{field} must be a month written YYYY-MM, got {text!r}", fields={field: "YYYY-MM"}
        ) from exc


def business_hours_to_resolve(case: Case) -> float:
    cal = calendars.calendar_of(case.calendar_version)
    open_time = open_time_between(case.clock_start, case.resolved_at, cal)
    paused = paused_open_time(pauses_of(case), cal, since=case.clock_start, now=case.resolved_at)
    return max(0.0, (open_time - paused).total_seconds() / 3600)


def sla_report(start: str | None = None, end: str | None = None, now=None) -> list[ReportRow]:
    start, end = _month(start, "from"), _month(end, "to")
    now = now or utcnow()
    cal = calendars.current_calendar()
    rows: dict[tuple[str, str], ReportRow] = {}
    hours: dict[tuple[str, str], list[float]] = {}
    for case in db.session.scalars(select(Case).order_by(Case.received_at)):
        month = case.received_at.astimezone(cal.tz).strftime("%Y-%m")
        if (start and month < start) or (end and month > end):
            continue
        key = (month, case.priority)
        row = rows.setdefault(key, ReportRow(month, case.priority))
        row.cases += 1
        if case.resolved_at is not None:
            if case.resolved_at <= case.due_at:
                row.met += 1
            else:
                row.breached += 1
            hours.setdefault(key, []).append(business_hours_to_resolve(case))
        elif case.breached or now > case.due_at:
            row.breached += 1
    for key, row in rows.items():
        if row.met + row.breached:
            row.percent_met = 100.0 * row.met / (row.met + row.breached)
        if hours.get(key):
            row.median_hours = median(hours[key])
    order = {p: i for i, p in enumerate(PRIORITIES)}
    return sorted(rows.values(), key=lambda r: (r.month, order[r.priority]))


def report_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(row.as_csv())
    return out.getvalue()
