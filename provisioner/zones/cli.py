"""CLI: DNS providers and zones."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli import json_option
from provisioner.errors import ValidationError
from provisioner.registry.services import get_domain
from provisioner.zones import services


def register(main: click.Group) -> None:
    main.add_command(provider_group)
    main.add_command(dns_group)


@click.group("provider")
def provider_group():
    """DNS providers."""


@provider_group.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["rfc2136", "route53", "zonefile"]))
@click.option("--server", help="HOST:PORT of the primary (rfc2136).")
@click.option("--tsig-key-file", help="BIND key file written by tsig-keygen (rfc2136).")
@click.option("--nameserver", "nameservers", multiple=True, help="HOST:PORT to verify against.")
@click.option("--endpoint-url", help="Route 53 endpoint (e.g. a local moto server).")
@click.option("--directory", help="Where zone files are written (zonefile).")
@json_option
def provider_add(name, kind, server, tsig_key_file, nameservers, endpoint_url, directory):
    """Add a DNS provider."""
    row = services.add_provider(
        name,
        kind,
        server=server,
        tsig_key_file=tsig_key_file,
        nameservers=list(nameservers),
        endpoint_url=endpoint_url,
        directory=directory,
    )
    return {"name": row.name, "kind": row.kind}, f"added {row.kind} provider {row.name}"


@click.group("dns")
def dns_group():
    """Zones: export, plan, apply, history, rollback, drift."""


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read zone file {path}: {exc}") from exc


def _plan_text(plan) -> str:
    lines = plan.describe() or ["no changes: the live zone already matches"]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines += [f"unsafe: {r} (needs --force)" for r in plan.unsafe_reasons()]
    if plan:
        counts = plan.counts()
        lines.append(
            f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['delete']} to delete; checksum {plan.checksum[:12]}"
        )
    return "\n".join(lines)


@dns_group.command("export")
@click.argument("domain")
def dns_export(domain):
    """Print the live zone as a zone file."""
    click.echo(services.export_zone(get_domain(domain)), nl=False)


@dns_group.command("plan")
@click.argument("domain")
@click.option("--zone-file", required=True, help="The desired zone.")
@json_option
def dns_plan(domain, zone_file):
    """Show the changes that would make the live zone match the file."""
    plan = services.plan_zone_text(get_domain(domain), _read(zone_file))
    return plan.to_dict(), _plan_text(plan)


@dns_group.command("apply")
@click.argument("domain")
@click.option("--zone-file", required=True)
@click.option("--force", is_flag=True, help="Apply even if the plan is unsafe.")
@json_option
def dns_apply(domain, zone_file, force):
    """Apply the zone file to the live zone (guarded, verified, recorded)."""
    applied = services.apply_zone_text(get_domain(domain), _read(zone_file), force=force)
    data = applied.plan.to_dict() | {
        "applied": bool(applied.plan),
        "atomic": applied.result.atomic,
        "messages": applied.result.messages,
        "change_id": applied.change.id if applied.change else None,
        "verification": applied.verification,
    }
    text = _plan_text(applied.plan)
    if applied.change:
        text += f"\napplied as zone change {applied.change.id}"
        if not applied.result.atomic:
            text += f" in {applied.result.messages} parts (not atomic)"
    return data, text


@dns_group.command("history")
@click.argument("domain")
@json_option
def dns_history(domain):
    """Every change the product applied to the zone."""
    rows = services.history(get_domain(domain))
    text = "\n".join(
        f"{c.id}  {c.applied_at:%Y-%m-%d %H:%M}  {c.source:8} {len(c.plan['changes'])} change(s)"
        + (f"  rolled back by {c.rolled_back_by_id}" if c.rolled_back_by_id else "")
        for c in rows
    )
    return [c.to_dict() for c in rows], text or "no changes recorded"


@dns_group.command("rollback")
@click.argument("change_id", type=int)
@click.option("--force", is_flag=True)
@json_option
def dns_rollback(change_id, force):
    """Undo an applied zone change."""
    applied = services.rollback(change_id, force=force)
    data = applied.plan.to_dict() | {"change_id": applied.change.id if applied.change else None}
    return data, _plan_text(applied.plan)


@dns_group.command("drift")
@click.argument("domain")
@json_option
def dns_drift(domain):
    """Record sets changed on the server since the product last applied."""
    lines = services.drift(get_domain(domain))
    return {"domain": domain, "drift": lines}, "\n".join(lines) or "no drift"
