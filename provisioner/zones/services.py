"""DNS services: providers, zones of domains, plan/apply with history, rollback, drift.

Every apply goes through apply_reviewed(): re-read the live zone, check it
still yields the reviewed plan, check safety, keep the before-state, apply
with the provider's guards, verify, record. Requests, the CLI and rollback
all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from provisioner.db import db
from provisioner.errors import Conflict, NotFound
from provisioner.registry.models import Domain
from provisioner.schools.models import User
from provisioner.zones import plan as planning
from provisioner.zones.errors import ZoneNotFound
from provisioner.zones.history import ZoneChange
from provisioner.zones.models import DnsProviderConfig
from provisioner.zones.providers import registry
from provisioner.zones.providers.base import ApplyResult, DnsProvider, LiveZone
from provisioner.zones.records import Record, record_to_dict
from provisioner.zones.validate import desired_from_records
from provisioner.zones.zonefile_io import parse_zone_text, render_zone_text


@dataclass(frozen=True)
class Applied:
    plan: planning.Plan
    result: ApplyResult
    change: ZoneChange | None
    verification: dict | None


def add_provider(name: str, kind: str, **settings) -> DnsProviderConfig:
    name = (name or "").strip()
    if not name:
        raise Conflict("a provider needs a name")
    if db.session.scalar(select(DnsProviderConfig.id).where(DnsProviderConfig.name == name)):
        raise Conflict(f"a provider named {name!r} already exists", fields={"name": "in use"})
    clean = {k: v for k, v in settings.items() if v not in (None, [], ())}
    clean = registry.check_settings(kind, clean)
    row = DnsProviderConfig(name=name, kind=kind, settings=clean)
    db.session.add(row)
    db.session.commit()
    return row


def provider_from_config(config: DnsProviderConfig | None) -> DnsProvider:
    """The adapter for a configured provider, or the embedded zone-file provider."""
    if config is not None:
        return registry.build(config.kind, dict(config.settings))
    return registry.build("zonefile", {"directory": current_app.config["ZONES_DIRECTORY"]})


def provider_for(domain: Domain) -> DnsProvider:
    return provider_from_config(domain.provider)


def adopt_or_create(provider: DnsProvider, zone: str) -> LiveZone:
    """The zone the provider already serves, or a new empty one."""
    try:
        return provider.read_zone(zone)
    except ZoneNotFound:
        return provider.create_zone(zone)


def settle_zone(provider: DnsProvider, zone: str) -> bool:
    """Adopt the zone the provider already serves, or create it: True if created."""
    try:
        provider.read_zone(zone)
        return False
    except ZoneNotFound:
        provider.create_zone(zone)
        return True


def live_zone(domain: Domain) -> LiveZone:
    return adopt_or_create(provider_for(domain), domain.name)


def live_records(domain: Domain) -> list[dict]:
    """Record sets as served now, in the API's shape (names relative to the zone)."""
    zone = live_zone(domain)
    return [record_to_dict(r, domain.name) for r in sorted(zone.records) if r.type != "SOA"]


def export_zone(domain: Domain) -> str:
    zone = live_zone(domain)
    return render_zone_text(domain.name, zone.records)


def plan_zone_text(domain: Domain, text: str) -> planning.Plan:
    """The plan that makes the live zone equal the zone file (SOA aside)."""
    desired = desired_from_records(domain.name, parse_zone_text(text, domain.name))
    return planning.plan(desired, live_zone(domain))


def apply_zone_text(domain: Domain, text: str, *, force: bool = False, actor: User | None = None):
    reviewed = plan_zone_text(domain, text)
    return apply_reviewed(domain, reviewed, force=force, actor=actor, source="cli")


def apply_reviewed(
    domain: Domain,
    reviewed: planning.Plan,
    *,
    force: bool = False,
    forced_reason: str | None = None,
    actor: User | None = None,
    source: str = "cli",
    reference: str | None = None,
    verify=None,
) -> Applied:
    provider = provider_for(domain)
    live = adopt_or_create(provider, domain.name)
    current = planning.verify_unchanged(reviewed, live)
    current.raise_if_unsafe(force=force)
    if not current:
        return Applied(
            current, ApplyResult(atomic=True, messages=0, detail="nothing to do"), None, None
        )
    result = provider.apply(current)
    after = planning.apply_to(live.records, current)
    verification = (verify or verify_served)(provider, domain.name, current)
    change = ZoneChange(
        domain=domain,
        source=source,
        reference=reference,
        checksum=current.checksum,
        plan=current.to_dict(),
        before=[_stored(r) for r in live.records],
        after=[_stored(r) for r in after],
        forced_reason=forced_reason if force else None,
        atomic=result.atomic,
        verification=verification,
        applied_by_id=actor.id if actor else None,
    )
    db.session.add(change)
    db.session.commit()
    return Applied(current, result, change, verification)


def verify_served(provider: DnsProvider, zone: str, applied: planning.Plan) -> dict | None:
    """Ask every authoritative nameserver until each serves the change."""
    servers = provider.nameservers(zone)
    if not servers:
        return None
    from provisioner.zones.verify import verify

    result = verify(applied, servers, timeout=current_app.config.get("DNS_VERIFY_TIMEOUT", 30))
    return {
        "ok": result.ok,
        "summary": result.summary(),
        "servers": [
            {
                "server": s.server,
                "ok": s.ok,
                "seconds": round(s.seconds, 3),
                "pending": list(s.pending),
                "error": s.error,
            }
            for s in result.servers
        ],
    }


def history(domain: Domain) -> list[ZoneChange]:
    return list(
        db.session.scalars(
            select(ZoneChange).where(ZoneChange.domain_id == domain.id).order_by(ZoneChange.id)
        )
    )


def get_change(change_id: int) -> ZoneChange:
    change = db.session.get(ZoneChange, change_id)
    if change is None:
        raise NotFound(f"no zone change {change_id}")
    return change


def rollback(change_id: int, *, force: bool = False, actor: User | None = None) -> Applied:
    """Apply the inverse of an applied plan, with the same safety and guards."""
    change = get_change(change_id)
    if change.rolled_back_by_id:
        raise Conflict(
            f"zone change {change_id} was already rolled back "
            f"(by change {change.rolled_back_by_id})"
        )
    domain = change.domain
    before = {r.key: r for r in map(_loaded, change.before)}
    after = {r.key: r for r in map(_loaded, change.after)}
    touched = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    live = live_zone(domain)
    current = {r.key: r for r in live.records}
    moved = sorted(f"{k[1]} {k[0]}" for k in touched if current.get(k) != after.get(k))
    if moved:
        raise Conflict(
            f"cannot roll back zone change {change_id}: changed since on the server: "
            + ", ".join(moved),
            fields={"changed": moved},
        )
    # Only the record sets this change touched go back; later edits elsewhere stay.
    desired = {k: r for k, r in current.items() if k not in touched}
    desired.update({k: before[k] for k in touched if k in before})
    inverse = planning.plan(list(desired.values()), live)
    applied = apply_reviewed(
        domain, inverse, force=force, actor=actor, source="rollback", reference=str(change.id)
    )
    if applied.change is not None:
        change.rolled_back_by_id = applied.change.id
        db.session.commit()
    return applied


def drift(domain: Domain) -> list[str]:
    """Record sets changed behind the product's back since its last apply."""
    last = db.session.scalar(
        select(ZoneChange).where(ZoneChange.domain_id == domain.id).order_by(ZoneChange.id.desc())
    )
    if last is None:
        return []
    expected = [_loaded(r) for r in last.after]
    live = live_zone(domain)
    return planning.plan(live.records, LiveZone(domain.name, tuple(expected))).describe()


def _stored(record: Record) -> dict:
    return {
        "name": record.name,
        "type": record.type,
        "ttl": record.ttl,
        "values": list(record.values),
    }


def _loaded(data: dict) -> Record:
    return Record(data["name"], data["type"], data["ttl"], tuple(data["values"]))
