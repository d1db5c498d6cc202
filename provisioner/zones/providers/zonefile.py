"""The embedded provider: RFC 1035 zone files in a directory, ready for BIND.

One file per zone, `<zone>.db`. Every write bumps the SOA serial (YYYYMMDDnn,
never backwards) and goes to a temporary file that replaces the old one with
os.replace, so a reader (or BIND reloading) sees the old zone or the new one,
never half of one. An flock on `<zone>.db.lock` serialises writers across
processes, and the apply is guarded: every record set the plan touches must
still be what the plan saw, else ConflictError and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from provisioner.zones.errors import InvalidRecords, ProviderError, ZoneExists, ZoneNotFound
from provisioner.zones.plan import Plan, apply_to
from provisioner.zones.providers.base import ApplyResult, LiveZone
from provisioner.zones.records import make
from provisioner.zones.validate import normalise_zone
from provisioner.zones.zonefile_io import (
    parse_zone_text,
    render_zone_text,
    soa_serial,
    with_serial,
)

_SAFE_ZONE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$")


def next_serial(current: int | None, today: dt.date) -> int:
    """YYYYMMDDnn for today, or current + 1 when that would not be larger."""
    dated = int(today.strftime("%Y%m%d")) * 100
    if current is None or current < dated:
        return dated
    return current + 1


class ZonefileProvider:
    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        name: str = "zonefile",
        nameservers: tuple[str, ...] = ("localhost.",),
        default_ttl: int = 3600,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ):
        self.name = name
        self.directory = Path(directory)
        self._nameservers = nameservers
        self._ttl = default_ttl
        self._today = today

    # -- paths and locking ------------------------------------------------

    def path(self, zone: str) -> Path:
        zone = normalise_zone(zone)
        if not _SAFE_ZONE.match(zone):
            raise InvalidRecords([f"zone '{zone}' cannot be stored as a file name"])
        return self.directory / f"{zone}.db"

    @contextmanager
    def _locked(self, zone: str) -> Iterator[Path]:
        path = self.path(zone)
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield path
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, path: Path, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)  # BIND usually runs as another user and must read it
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise ProviderError(f"Could not write the zone file {path}: {exc}") from exc

    def _read(self, zone: str, path: Path) -> LiveZone:
        zone = normalise_zone(zone)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ZoneNotFound(f"There is no zone file for {zone} in {self.directory}") from exc
        except OSError as exc:
            raise ProviderError(f"Could not read the zone file {path}: {exc}") from exc
        try:
            records = parse_zone_text(text, zone)
        except InvalidRecords as exc:
            raise ProviderError(
                f"The zone file {path} is not valid: {exc.message}", fields=exc.fields
            ) from exc
        return LiveZone(zone, records, soa_serial(records))

    # -- the DnsProvider protocol -----------------------------------------

    def read_zone(self, zone: str) -> LiveZone:
        return self._read(zone, self.path(zone))

    def create_zone(self, zone: str) -> LiveZone:
        zone = normalise_zone(zone)
        with self._locked(zone) as path:
            if path.exists():
                raise ZoneExists(f"The zone {zone} already exists in {self.directory}")
            serial = next_serial(None, self._today())
            soa = f"{self._nameservers[0]} hostmaster.{zone}. {serial} 3600 600 1209600 300"
            records = (
                make(zone, "SOA", self._ttl, [soa]),
                make(zone, "NS", self._ttl, self._nameservers),
            )
            self._write(path, render_zone_text(zone, records))
        return LiveZone(zone, tuple(sorted(records)), serial)

    def delete_zone(self, zone: str) -> None:
        zone = normalise_zone(zone)
        with self._locked(zone) as path:
            if not path.exists():
                return
            live = self._read(zone, path)
            if any(r.type not in ("SOA", "NS") for r in live.records):
                raise ProviderError(
                    f"The zone {zone} has records besides SOA and NS: not deleting it",
                    fields={"zone": zone},
                )
            path.unlink()

    def apply(self, plan: Plan) -> ApplyResult:
        if not plan.changes:
            return ApplyResult(atomic=True, messages=0, detail="nothing to change")
        with self._locked(plan.zone) as path:
            live = self._read(plan.zone, path)
            records = list(apply_to(live.records, plan))  # ConflictError: nothing written
            serial = next_serial(live.serial, self._today())
            records = [with_serial(r, serial) if r.type == "SOA" else r for r in records]
            self._write(path, render_zone_text(plan.zone, records))
        return ApplyResult(atomic=True, messages=1, detail=f"wrote {path} with serial {serial}")

    def nameservers(self, zone: str) -> list[str]:
        return []  # nothing serves these files by itself, so there is nothing to verify
