"""CLI: `provisioner whois refresh [DOMAIN ...]` and `provisioner reminders run [--today]`."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from provisioner.registry import scheduled
from provisioner.registry.expiry import Outcome
from provisioner.registry.scheduled import LONDON
from provisioner.registry.services import get_domain, list_domains


def register(main: click.Group) -> None:
    main.add_command(whois_group)
    main.add_command(reminders_group)


@click.group("whois")
def whois_group():
    """Domain expiry dates from the registries (RDAP, then WHOIS)."""


@whois_group.command("refresh")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def whois_refresh(names: tuple[str, ...], as_json: bool):
    """Look up the expiry date of the given domains (default: every managed domain)."""
    domains = [get_domain(n) for n in names] if names else list_domains()
    if not domains:
        click.echo("no managed domains")
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("checking expiry dates"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("refresh", total=len({d.registrable_name for d in domains}))
        results = scheduled.refresh_expiry_dates(
            domains, progress=lambda done, total, name: progress.update(task, completed=done)
        )
    by_name = {r.name: r for r in results}
    rows = []
    for domain in sorted(domains, key=lambda d: d.name):
        r = by_name[domain.registrable_name]
        rows.append(
            {
                "domain": domain.name,
                "registrable": domain.registrable_name,
                "outcome": str(r.outcome),
                "expires_on": r.expiry.isoformat() if r.expiry else None,
                "source": str(r.source) if r.source else None,
                "checked_at": r.checked_at.isoformat(),
                "reason": r.reason,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        line = f"{row['domain']:<40} {row['outcome']:<19} {row['expires_on'] or '-':<10}"
        line += f" {row['source'] or '-'}"
        if row["reason"]:
            line += f"  ({row['reason']})"
        click.echo(line)
    problems = sum(r.outcome in (Outcome.FAILED, Outcome.REJECTED) for r in results)
    if problems:
        click.echo(f"{problems} of {len(results)} names kept their stored date (see reasons)")


@click.group("reminders")
def reminders_group():
    """Renewal reminders."""


@reminders_group.command("run")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Run as if on this date (YYYY-MM-DD); default: today in Europe/London.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def reminders_run(ctx: click.Context, today: datetime | None, as_json: bool):
    """Send the renewal reminders due that day: one email per school."""
    day = today.date() if today else datetime.now(LONDON).date()
    run = scheduled.send_due_reminders(day)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "today": day.isoformat(),
                    "sent": run.sent,
                    "failed": run.failed,
                    "claimed_elsewhere": run.claimed_elsewhere,
                    "not_attempted": run.not_attempted,
                    "escalated": run.escalated,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{day.isoformat()}: sent {run.reminders} reminders to {len(run.sent)} schools")
        for urn, why in run.failed.items():
            click.echo(f"  not sent to school {urn}: {why}", err=True)
        if run.not_attempted:
            click.echo(f"  not attempted after repeated failures: {len(run.not_attempted)} schools")
        if run.claimed_elsewhere:
            click.echo(f"  being sent by another run: {len(run.claimed_elsewhere)} schools")
        for name in run.escalated:
            click.echo(f"  expired, case opened for technicians: {name}")
    if run.failed or run.not_attempted:
        ctx.exit(1)
