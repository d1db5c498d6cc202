"""CLI: `provisioner whois refresh [DOMAIN ...]`, `provisioner reminders run [--today]` and
`provisioner domain-request list|show|complete` (registration and renewal requests)."""

from __future__ import annotations

import json
from datetime import datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from provisioner.cli import json_option
from provisioner.errors import Forbidden, NotFound, ProvisionerError
from provisioner.registry import fulfil, registrar_jobs, registrars, scheduled
from provisioner.registry.expiry import Outcome
from provisioner.registry.scheduled import LONDON
from provisioner.registry.services import get_domain, list_domains


def register(main: click.Group) -> None:
    main.add_command(whois_group)
    main.add_command(reminders_group)
    main.add_command(domain_request_group)


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


# ---------------------------------------------------------------- domain requests

# The CLI's option for each field a completion can lack, so a refusal names what to pass.
OPTION_OF = {
    "registrar": "--registrar",
    "reference": "--reference",
    "cost_pence": "--cost-pence",
    "new_expiry": "--expires",
    "provider": "--provider",
}


class RegistrarJobFailed(ProvisionerError):
    code = "registrar_job_failed"
    status = 502


@click.group("domain-request")
def domain_request_group():
    """Domain registration and renewal requests (quotes), every school's."""


def _line(row: dict) -> str:
    return (
        f"#{row['id']:<5} {row['status']:<10} {row['kind']:<8} {row['name']:<40} "
        f"{row['school_urn']:<7} {row['price']:>8}  {row['case'] or '-'}"
    )


@domain_request_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only quoted, approved or processing.")
@json_option
def request_list(open_only: bool):
    """Requests newest first (the 500 most recent)."""
    rows = [fulfil.request_dict(r) for r in fulfil.all_requests(open_only=open_only)]
    empty = "no open domain requests" if open_only else "no domain requests"
    return rows, "\n".join(_line(r) for r in rows) or empty


@domain_request_group.command("show")
@click.argument("request_id")
@json_option
def request_show(request_id: str):
    """One request: its quote, who approved it and, once done, the registrar's record."""
    request = fulfil.find_request(request_id)
    data = fulfil.request_dict(request) | {"school": request.school.name, "note": request.note}
    return data, _describe(data)


def _describe(data: dict) -> str:
    lines = [
        f"#{data['id']} {data['kind']} {data['name']} for {data['school']} ({data['school_urn']})",
        f"  status:      {data['status']} - {fulfil.STATUS_LABELS.get(data['status'], '')}",
        f"  quote:       {data['price']} for {data['years']} year(s)",
        f"  requested:   {data['created_at']} by {data['requested_by'] or 'the system'}",
        f"  case:        {data['case'] or '-'}",
    ]
    if data["approved_by"]:
        lines.append(f"  approved:    {data['approved_at']} by {data['approved_by']}")
    if data["status"] == "completed":
        lines += [
            f"  registrar:   {data['registrar']} (reference {data['registrar_reference']})",
            f"  new expiry:  {data['new_expiry']}",
            f"  cost:        {data['cost_pence'] if data['cost_pence'] is not None else '-'} pence",
        ]
    if data["note"]:
        lines.append("  note:        " + data["note"].replace("\n", "\n               "))
    return "\n".join(lines)


@domain_request_group.command("complete")
@click.argument("request_id")
@click.option("--registrar", "registrar_kind", required=True, help=" or ".join(registrars.KINDS))
@click.option("--reference", help="the registrar's order or reference number")
@click.option("--expires", help="the expiry date the registrar now shows (YYYY-MM-DD)")
@click.option("--cost-pence", help="what the registrar charged, in pence")
@click.option("--provider", help="DNS provider for a new name's zone (default: the school's)")
@click.option("--note", help="recorded on the request")
@click.option("--technician", required=True, help="email of the technician doing it")
@json_option
def request_complete(
    request_id, registrar_kind, reference, expires, cost_pence, provider, note, technician
):
    """Register or renew an approved request, as the web page and the API do: `manual`
    records what was done at the registrar; others run as an operation, waited for here."""
    request = fulfil.find_request(request_id)
    actor = _technician(technician)
    body = {
        "registrar": registrar_kind,
        "reference": reference,
        "new_expiry": expires,
        "cost_pence": cost_pence,
        "note": note,
    }
    try:
        kind, details = fulfil.parse_completion(body)
        done, operation = registrar_jobs.start_completion(
            request.id, actor, kind, details, provider_name=provider
        )
        if operation is None:
            return fulfil.request_dict(done), _done_text(done)
    except ProvisionerError as exc:
        raise _with_options(exc) from None
    operation = _run_and_wait(operation.id)
    done = fulfil.find_request(request.id)
    if operation.status != "succeeded":
        raise RegistrarJobFailed(
            f"operation {operation.id} {operation.status}: {operation.error or 'no reason given'}; "
            f"request #{done.id} is {done.status} again, so it can be sent once more",
            fields={"operation": f"{operation.id} {operation.status}"},
        )
    return fulfil.request_dict(done) | {"operation": operation.id}, _done_text(done)


def _technician(email: str):
    from provisioner.schools.services import get_user_by_email

    try:
        user = get_user_by_email(email)
    except NotFound:
        raise NotFound(f"no technician with email {email!r} (--technician)") from None
    if not user.is_staff or not user.active:
        raise Forbidden(
            f"{user.email} is not an active technician: only technicians register and renew "
            "domains (--technician)"
        )
    return user


def _with_options(exc: ProvisionerError) -> ProvisionerError:
    """The same error, its message ending with the options to fix (not the API's field names)."""
    options = [OPTION_OF[f] for f in exc.fields if f in OPTION_OF]
    if options:
        exc.message = f"{exc.message} ({', '.join(options)})"
        exc.fields = {}
    return exc


def _done_text(request) -> str:
    verb = "registered" if request.kind == "register" else "renewed"
    return (
        f"#{request.id} {request.name} {verb} through {request.registrar} "
        f"(reference {request.registrar_reference}); it expires on {request.new_expiry:%d %B %Y}"
    )


def _run_and_wait(operation_id: int):
    """Run the operation here unless a worker has it, echoing its log to stderr as it
    grows, until it has finished. A registrar still working is retried with back-off,
    so this can take minutes; Ctrl-C leaves the operation to the workers."""
    from provisioner.jobs.inline import run_and_wait

    click.echo(f"operation {operation_id} queued; waiting for it", err=True)
    return run_and_wait(
        operation_id, poll=0.5, on_line=lambda line: click.echo(line, err=True), owner="cli"
    )
