"""CLI: `calendar load|show` and `sla due` (contract.md)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from provisioner.cases import calendars
from provisioner.cli import json_option
from provisioner.errors import ValidationError
from provisioner.sla import Pause, clock_start, due_at, localize, parse_priority


def register(main: click.Group) -> None:
    main.add_command(calendar_group)
    main.add_command(sla_group)


@click.group("calendar")
def calendar_group():
    """The business calendar the SLA clock runs on."""


@calendar_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def calendar_load(file: Path):
    """Check FILE.toml and make it the calendar in force; open cases are recomputed."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {file}: {exc}", param_hint="FILE") from exc
    version, moved = calendars.load_calendar(text, source=file.name)
    data = {
        "version": version.id,
        "source": version.source,
        "recomputed_cases": [c.reference for c in moved],
    }
    return data, (
        f"calendar version {version.id} loaded from {file.name}; "
        f"{len(moved)} open case(s) have a new due time"
    )


@calendar_group.command("show")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First date (YYYY-MM-DD).")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True)
@json_option
def calendar_show(start: datetime | None, days: int):
    """Print the opening hours (Europe/London) of the coming days."""
    cal = calendars.current_calendar()
    first = start.date() if start else datetime.now(cal.tz).date()
    rows = calendars.coming_days(cal, first, days)
    data, lines = [], []
    for d in rows:
        hours = f"{d.hours[0]:%H:%M}-{d.hours[1]:%H:%M}" if d.hours else None
        data.append({"date": d.day.isoformat(), "open": hours, "kind": d.kind, "reason": d.reason})
        shown = hours or "closed"
        why = d.kind.replace("_", "-") + (f" ({d.reason})" if d.reason and not hours else "")
        lines.append(f"{d.day:%a} {d.day.isoformat()}  {shown:<11}  {why}")
    return data, "\n".join(lines)


def _when(text: str, param: str, cal) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-26T15:00 or 2026-11-26T15:00:00+00:00",
            param_hint=param,
        ) from None
    return localize(value, cal)


@click.group("sla")
def sla_group():
    """The SLA clock."""


@sla_group.command("due")
@click.option("--priority", required=True, help="P1, P2, P3 or P4.")
@click.option("--received", required=True, help="ISO 8601; without an offset it is London time.")
@click.option("--pause", "pauses", multiple=True, metavar="START/END", help="Awaiting-school time.")
@click.option("--agreed", type=click.DateTime(["%Y-%m-%d"]), help="Agreed due date (P4 only).")
@json_option
def sla_due(priority: str, received: str, pauses: tuple[str, ...], agreed: datetime | None):
    """Print the due time (ISO 8601, Europe/London offset) of a case received then."""
    cal = calendars.current_calendar()
    try:
        priority = parse_priority(priority)
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="--priority") from None
    when = _when(received, "--received", cal)
    spans = []
    for text in pauses:
        if text.count("/") != 1:
            raise click.BadParameter(
                f"{text!r} is not START/END (two ISO 8601 times joined by '/')",
                param_hint="--pause",
            )
        a, b = (_when(part, "--pause", cal) for part in text.split("/"))
        if b < a:
            raise click.BadParameter(f"pause {text!r} ends before it starts", param_hint="--pause")
        spans.append(Pause(a, b))
    agreed_day: date | None = agreed.date() if agreed else None
    due = due_at(priority, when, cal, spans, agreed_due=agreed_day)
    start = clock_start(when, cal)
    data = {
        "priority": priority,
        "received": when.isoformat(),
        "clock_start": start.isoformat(),
        "due": due.isoformat(),
    }
    return data, due.isoformat()
