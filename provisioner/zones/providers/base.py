"""The one small Protocol every DNS provider implements.

Providers are adapters: they read the live zone and apply a reviewed plan.
They never decide what should change; the plan does (zones/plan.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from provisioner.zones.records import Record


@dataclass(frozen=True)
class LiveZone:
    """What a provider serves now for a zone."""

    zone: str
    records: tuple[Record, ...]
    serial: int | None = None


@dataclass(frozen=True)
class ApplyResult:
    atomic: bool  # False when the plan had to be split into several messages/batches
    messages: int  # UPDATE messages or change batches sent
    detail: str = ""
    change_ids: tuple[str, ...] = field(default_factory=tuple)


class DnsProvider(Protocol):
    name: str

    def read_zone(self, zone: str) -> LiveZone:
        """The live zone; raises ZoneNotFound when the provider has no such zone."""

    def create_zone(self, zone: str) -> LiveZone:
        """Create an empty zone (SOA and NS only) and return it."""

    def delete_zone(self, zone: str) -> None:
        """Remove an empty zone this system created (SOA and NS only): the undo of
        create_zone when what it was made for failed. Refuses a zone with records."""

    def apply(self, plan) -> ApplyResult:  # plan: provisioner.zones.plan.Plan
        """Apply every change of the plan, each guarded so that a record set
        that no longer matches what the plan saw makes the whole apply fail
        with ConflictError and changes nothing."""

    def nameservers(self, zone: str) -> list[str]:
        """host:port of every authoritative server to verify against."""
