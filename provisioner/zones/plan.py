"""Plans: the difference between a desired zone and the live one. Pure.

A plan is a tuple of Create / Update / Delete changes, one per record set
(name, type), ordered so that servers accept them in one message: deletes
first (so a CNAME can replace other data at a name, and the reverse), then
updates, then creates. Every change carries what the plan saw (`old`), which
providers turn into prerequisites or guards.

The checksum is a sha256 over a canonical serialisation of the changes, so
what is applied is exactly what was reviewed (verify_unchanged re-plans).
SOA is never planned; the apex NS set only when the desired zone holds one,
and changing it is unsafe without force.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from provisioner.zones.errors import ConflictError, PlanChanged, UnsafePlan
from provisioner.zones.records import MANAGED_TYPES, Record, by_key, make


class _Aliases:
    """Providers may read a change as (existing, desired): what was live, what should be."""

    @property
    def existing(self) -> Record | None:
        return self.old

    @property
    def desired(self) -> Record | None:
        return self.new


@dataclass(frozen=True)
class Create(_Aliases):
    new: Record
    kind: ClassVar[str] = "create"

    @property
    def old(self) -> None:
        return None

    @property
    def key(self) -> tuple[str, str]:
        return self.new.key


@dataclass(frozen=True)
class Update(_Aliases):
    old: Record
    new: Record
    kind: ClassVar[str] = "update"

    @property
    def key(self) -> tuple[str, str]:
        return self.new.key


@dataclass(frozen=True)
class Delete(_Aliases):
    old: Record
    kind: ClassVar[str] = "delete"

    @property
    def new(self) -> None:
        return None

    @property
    def key(self) -> tuple[str, str]:
        return self.old.key


Change = Create | Update | Delete
_ORDER = {"delete": 0, "update": 1, "create": 2}


@dataclass(frozen=True)
class Safety:
    """octoDNS's thresholds: a plan may update or delete at most this share of a
    zone of at least min_existing record sets without force."""

    max_update_delete: float = 0.30
    min_existing: int = 10


@dataclass(frozen=True)
class Plan:
    zone: str
    changes: tuple[Change, ...]
    checksum: str
    warnings: tuple[str, ...] = ()
    # What was asked for (so verify_unchanged can re-plan) and how many managed
    # record sets the live zone had (the base of the safety threshold).
    # None when unknown (a plan read back from storage): then verify_unchanged
    # checks the record sets the plan touches instead of re-planning.
    desired: tuple[Record, ...] | None = field(default=None, repr=False, compare=False)
    existing: int = 0

    def __bool__(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        found = {"create": 0, "update": 0, "delete": 0}
        for change in self.changes:
            found[change.kind] += 1
        return found

    def unsafe_reasons(self, safety: Safety | None = None) -> list[str]:
        safety = safety or Safety()
        reasons = []
        counts = self.counts()
        touched = counts["update"] + counts["delete"]
        if self.existing >= safety.min_existing and touched > safety.max_update_delete * (
            self.existing
        ):
            reasons.append(
                f"it updates or deletes {touched} of {self.existing} record sets"
                f" ({100 * touched / self.existing:.0f}%), more than the"
                f" {100 * safety.max_update_delete:.0f}% allowed"
            )
        apex = [c for c in self.changes if c.key[0] == self.zone and c.key[1] in ("NS", "SOA")]
        if apex:
            kinds = " and ".join(sorted({c.key[1] for c in apex}))
            reasons.append(f"it changes the apex {kinds} records of {self.zone}")
        return reasons

    def raise_if_unsafe(self, force: bool = False, safety: Safety | None = None) -> None:
        reasons = self.unsafe_reasons(safety)
        if reasons and not force:
            raise UnsafePlan(
                f"Refusing the plan for {self.zone}: {'; '.join(reasons)}. Use --force"
                " if this is intended.",
                fields={"reasons": reasons},
            )

    def describe(self) -> list[str]:
        """One line per change, for people: '+ A intranet 3600 192.0.2.10'."""
        return [describe_change(c, self.zone) for c in self.changes]

    def to_dict(self) -> dict:
        return {
            "zone": self.zone,
            "checksum": self.checksum,
            "changes": [change_to_dict(c, self.zone) for c in self.changes],
            "warnings": list(self.warnings),
            "existing": self.existing,
            "unsafe": self.unsafe_reasons(),
        }


def change_to_dict(change: Change, zone: str) -> dict:
    record = change.new or change.old
    out = {"action": change.kind, "name": record.relative_name(zone), "type": record.type}
    for side in ("old", "new"):
        value = getattr(change, side)
        if value is not None:
            out[side] = {"ttl": value.ttl, "values": list(value.values)}
    return out


def describe_change(change: Change, zone: str) -> str:
    record = change.new or change.old
    head = f"{record.type} {record.relative_name(zone)}"
    if change.kind == "create":
        return f"+ {head} {change.new.ttl} {' '.join(change.new.values)}"
    if change.kind == "delete":
        return f"- {head} {change.old.ttl} {' '.join(change.old.values)}"
    old, new = change.old, change.new
    return f"~ {head} {old.ttl} {' '.join(old.values)} -> {new.ttl} {' '.join(new.values)}"


def _managed(records: Iterable[Record]) -> dict[tuple[str, str], Record]:
    return {r.key: r for r in records if r.type in MANAGED_TYPES}


def _records_of(zone_like) -> Iterable[Record]:
    return zone_like.records if hasattr(zone_like, "records") else zone_like


def order(changes: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=lambda c: (_ORDER[c.kind], c.key)))


def checksum(zone: str, changes: Iterable[Change]) -> str:
    payload = [zone]
    for c in changes:
        old, new = c.old, c.new
        payload.append(
            [
                c.kind,
                c.key[0],
                c.key[1],
                [old.ttl, list(old.values)] if old else None,
                [new.ttl, list(new.values)] if new else None,
            ]
        )
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _make(zone, changes, warnings, desired, existing) -> Plan:
    changes = order(changes)
    desired = None if desired is None else tuple(desired)
    return Plan(zone, changes, checksum(zone, changes), tuple(warnings), desired, existing)


def plan(desired, live) -> Plan:
    """The changes that turn live (a LiveZone) into desired (a DesiredZone,
    LiveZone or iterable of Records). Types outside MANAGED_TYPES (SOA, DNSSEC,
    anything exotic) are left alone; so is the apex NS set unless desired has one."""
    zone = live.zone
    wanted = _managed(_records_of(desired))
    current = _managed(live.records)
    if (zone, "NS") not in wanted:
        current.pop((zone, "NS"), None)
    changes: list[Change] = []
    for key, new in wanted.items():
        old = current.get(key)
        if old is None:
            changes.append(Create(new))
        elif old != new:
            changes.append(Update(old, new))
    changes += [Delete(old) for key, old in current.items() if key not in wanted]
    warnings = getattr(desired, "warnings", ())
    return _make(zone, changes, warnings, wanted.values(), len(_managed(live.records)))


def verify_unchanged(reviewed: Plan, live, desired=None) -> Plan:
    """Re-plan against the live zone now; raise PlanChanged unless it yields the
    reviewed plan (same checksum). `desired` defaults to what the plan was made from."""
    if desired is None and reviewed.desired is None:
        return _verify_touched(reviewed, live)
    fresh = plan(reviewed.desired if desired is None else desired, live)
    if fresh.checksum == reviewed.checksum:
        return fresh
    before = set(reviewed.describe())
    after = set(fresh.describe())
    gone = sorted(before - after)
    new = sorted(after - before)
    details = [f"no longer: {line}" for line in gone] + [f"now: {line}" for line in new]
    _raise_changed(reviewed, fresh.checksum, details)


def _verify_touched(reviewed: Plan, live) -> Plan:
    current = by_key(live.records)
    details = []
    for change in reviewed.changes:
        now = current.get(change.key)
        if now != change.old:
            shown = f"{now.ttl} {' '.join(now.values)}" if now else "nothing"
            details.append(f"{change.key[1]} {change.key[0]} is now {shown}")
    if details:
        _raise_changed(reviewed, None, details)
    return reviewed


def _raise_changed(reviewed: Plan, actual: str | None, details: list[str]):
    raise PlanChanged(
        f"The live zone {reviewed.zone} changed since the plan was reviewed; plan again."
        + (" " + "; ".join(details[:10]) if details else ""),
        fields={"expected": reviewed.checksum, "actual": actual, "differences": details},
    )


def _invert(change: Change) -> Change:
    if change.kind == "create":
        return Delete(change.new)
    if change.kind == "delete":
        return Create(change.old)
    return Update(change.new, change.old)


def inverse(applied: Plan) -> Plan:
    """The plan that undoes `applied` once it has been applied (for rollback)."""
    changes = [_invert(c) for c in applied.changes]
    counts = applied.counts()
    existing = applied.existing + counts["create"] - counts["delete"]
    desired = None
    if applied.desired is not None:
        desired = _apply_changes(by_key(applied.desired), changes, check=False).values()
    return _make(applied.zone, changes, (), desired, existing)


def _apply_changes(records: dict, changes: Iterable[Change], check: bool = True) -> dict:
    conflicts = []
    for change in changes:
        if check and records.get(change.key) != change.old:
            conflicts.append(change)
            continue
        if change.new is None:
            records.pop(change.key, None)
        else:
            records[change.key] = change.new
    if conflicts:
        raise ConflictError(
            "These record sets changed since the plan was made: "
            + ", ".join(f"{c.key[1]} {c.key[0]}" for c in conflicts),
            fields={"record_sets": [f"{c.key[1]} {c.key[0]}" for c in conflicts]},
        )
    return records


def apply_to(live_records, applied: Plan) -> tuple[Record, ...]:
    """The zone after the plan, checking every touched record set is still what
    the plan saw (else ConflictError, nothing applied). Pure."""
    records = _apply_changes(by_key(_records_of(live_records)), applied.changes)
    return tuple(sorted(records.values()))


def plan_from_dict(data: dict) -> Plan:
    """A plan stored with Plan.to_dict(), checked against its checksum. Its
    desired zone is unknown, so verify_unchanged checks the touched record sets."""
    zone = data["zone"]
    changes = []
    for item in data["changes"]:
        name = zone if item["name"] == "@" else f"{item['name']}.{zone}"
        old, new = (
            make(name, item["type"], item[side]["ttl"], item[side]["values"])
            if side in item
            else None
            for side in ("old", "new")
        )
        changes.append(Update(old, new) if old and new else Create(new) if new else Delete(old))
    result = _make(zone, changes, data.get("warnings", ()), None, data.get("existing", 0))
    if result.checksum != data["checksum"]:
        raise PlanChanged(
            f"The stored plan for {zone} does not match its checksum; plan again.",
            fields={"expected": data["checksum"], "actual": result.checksum},
        )
    return result
