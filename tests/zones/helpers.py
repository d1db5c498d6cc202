"""Small helpers shared by the provider tests (loaded by conftest as zones_test_helpers)."""

from __future__ import annotations

from provisioner.zones.plan import Create, Plan, checksum
from provisioner.zones.records import Record


def rec(name: str, rtype: str, ttl: int, *values: str) -> Record:
    return Record(name, rtype, ttl, tuple(sorted(values)))


def without_soa(records) -> set[Record]:
    return {r for r in records if r.type != "SOA"}


def creating(zone: str, *records: Record) -> Plan:
    """A plan that only creates these record sets (no live zone needed)."""
    changes = tuple(Create(r) for r in records)
    return Plan(zone, changes, checksum(zone, changes))
