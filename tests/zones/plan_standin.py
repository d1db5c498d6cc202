"""A minimal plan for the provider tests: the shape providers rely on, nothing more.

Providers only read `plan.zone` and `plan.changes`, each change having `.existing`
(what was live) and `.desired` (None for a delete). Building it here keeps the
provider tests independent of the planner's safety rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.zones.records import Record


@dataclass(frozen=True)
class Change:
    existing: Record | None
    desired: Record | None


@dataclass(frozen=True)
class Plan:
    zone: str
    changes: tuple[Change, ...]


def diff(zone: str, live, desired) -> Plan:
    """Deletes first, then updates, then creates, so servers accept the order."""
    live_by = {r.key: r for r in live if r.type != "SOA"}
    want_by = {r.key: r for r in desired if r.type != "SOA"}
    deletes = [Change(live_by[k], None) for k in sorted(live_by.keys() - want_by.keys())]
    updates = [
        Change(live_by[k], want_by[k])
        for k in sorted(live_by.keys() & want_by.keys())
        if live_by[k] != want_by[k]
    ]
    creates = [Change(None, want_by[k]) for k in sorted(want_by.keys() - live_by.keys())]
    return Plan(zone, tuple(deletes + updates + creates))


def rec(name: str, rtype: str, ttl: int, *values: str) -> Record:
    return Record(name, rtype, ttl, tuple(sorted(values)))


def without_soa(records) -> set[Record]:
    return {r for r in records if r.type != "SOA"}
