"""Benchmark (a): plan a 10,000-record zone, Provisioner vs octoDNS, same records.

Both sides start from the same raw record sets (the live zone as a provider
would read it, and the desired zone with 1,000 changes: 500 updates, 250
creates, 250 deletes), build their own validated record objects, diff them
into a plan, check its safety and compute its checksum:

- Provisioner: records.from_text for the live zone, validate.desired_from_records
  for the desired one (every rule), plan(), raise_if_unsafe(), checksum.
- octoDNS: Record.new for both zones (its validation), BaseProvider.plan() via a
  provider whose populate() serves the live zone, raise_if_unsafe(), and the
  sha256 checksum its Manager computes over plan.data.

Values already in canonical form (addresses, plain quoted TXT, lower-case
absolute host names) are validated by pattern instead of dnspython's
character-by-character parser; anything else goes through dnspython.

Prints the best of 3 wall times, the tracemalloc peak of one more run each, and
the ratios. Run: .venv/bin/python bench/bench_dns_plan.py [--records N]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import logging
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octodns.provider.base import BaseProvider  # noqa: E402
from octodns.record import Record as OctoRecord  # noqa: E402
from octodns.zone import Zone as OctoZone  # noqa: E402

from provisioner.zones.plan import plan  # noqa: E402
from provisioner.zones.providers.base import LiveZone  # noqa: E402
from provisioner.zones.records import from_text  # noqa: E402
from provisioner.zones.validate import desired_from_records  # noqa: E402

ZONE = "bench.sch.uk"
MIX = [("A", 0.55), ("AAAA", 0.1), ("CNAME", 0.1), ("MX", 0.05), ("TXT", 0.15), ("SRV", 0.05)]


# --- the shared raw data: (relative name, type, ttl, [presentation values]) ---
# Values are as a zone transfer or zone file presents them (TXT quoted); each
# tool gets them in its own input format.


def _values(rng: random.Random, rtype: str, i: int) -> list[str]:
    if rtype == "A":
        return [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"]
    if rtype == "AAAA":
        return [f"2001:db8::{i:x}", f"2001:db8::1:{i:x}"]
    if rtype == "CNAME":
        return [f"target{rng.randrange(1000)}.example.net."]
    if rtype == "MX":
        return [f"10 mx{i}.example.net.", f"20 backup{i}.example.net."]
    if rtype == "TXT":
        return [f'"v=spf1 ip4:10.0.{i % 256}.0/24 -all"', f'"token-{i}-{rng.getrandbits(64):x}"']
    return [f"10 5 5060 sip{i}.example.net."]


def raw_zone(count: int, seed: int = 5):
    rng = random.Random(seed)
    kinds = [t for t, share in MIX for _ in range(int(share * 100))]
    zone = []
    for i in range(count):
        rtype = kinds[i % len(kinds)]
        name = f"_sip._tcp.h{i}" if rtype == "SRV" else f"h{i}"
        zone.append((name, rtype, 3600, _values(rng, rtype, i)))
    return zone


def desired_from(live: list, seed: int = 7):
    """1,000 changes per 10,000 records: 5% updates, 2.5% deletes, 2.5% creates."""
    rng = random.Random(seed)
    desired = []
    for name, rtype, ttl, values in live:
        roll = rng.random()
        if roll < 0.025:
            continue
        if roll < 0.075:
            ttl = 300
        desired.append((name, rtype, ttl, values))
    for i in range(len(live) // 40):
        desired.append((f"new{i}", "A", 3600, [f"192.0.2.{i % 250}"]))
    return desired


# --- Provisioner ---


def provisioner_plan(live_raw, desired_raw):
    live = LiveZone(
        ZONE,
        tuple(from_text(f"{n}.{ZONE}", t, ttl, v, ZONE) for n, t, ttl, v in live_raw),
    )
    wanted = desired_from_records(
        ZONE, (from_text(f"{n}.{ZONE}", t, ttl, v, ZONE) for n, t, ttl, v in desired_raw)
    )
    result = plan(wanted, live)
    result.raise_if_unsafe()
    return len(result.changes), result.checksum


# --- octoDNS ---


def octo_data(rtype: str, ttl: int, values: list[str]) -> dict:
    if rtype == "CNAME":
        return {"type": rtype, "ttl": ttl, "value": values[0]}
    if rtype == "MX":
        parsed = [v.split() for v in values]
        return {
            "type": rtype,
            "ttl": ttl,
            "values": [{"preference": int(p), "exchange": e} for p, e in parsed],
        }
    if rtype == "SRV":
        parsed = [v.split() for v in values]
        return {
            "type": rtype,
            "ttl": ttl,
            "values": [
                {"priority": int(p), "weight": int(w), "port": int(port), "target": t}
                for p, w, port, t in parsed
            ],
        }
    if rtype == "TXT":
        # octoDNS takes TXT unquoted, with ';' escaped.
        unquoted = [v[1:-1].replace(";", "\\;") for v in values]
        return {"type": rtype, "ttl": ttl, "values": unquoted}
    return {"type": rtype, "ttl": ttl, "values": values}


class ServedZone(BaseProvider):
    """An octoDNS provider whose live zone is the benchmark's raw data."""

    SUPPORTS_GEO = False
    SUPPORTS = {"A", "AAAA", "CNAME", "MX", "TXT", "SRV"}
    log = logging.getLogger("ServedZone")

    def __init__(self, raw):
        super().__init__("served")
        self.raw = raw

    def populate(self, zone, target=False, lenient=False):
        for name, rtype, ttl, values in self.raw:
            record = OctoRecord.new(zone, name, octo_data(rtype, ttl, values), source=self)
            zone.add_record(record, lenient=lenient)
        return True

    def _apply(self, plan):
        raise NotImplementedError("planning only")


def octodns_plan(live_raw, desired_raw):
    desired = OctoZone(f"{ZONE}.", [])
    for name, rtype, ttl, values in desired_raw:
        desired.add_record(OctoRecord.new(desired, name, octo_data(rtype, ttl, values)))
    result = ServedZone(live_raw).plan(desired)
    result.raise_if_unsafe()
    checksum = hashlib.sha256(json.dumps([result.data]).encode()).hexdigest()
    return len(result.changes), checksum


# --- measuring ---


def best_time(fn, *args, repeat=3):
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def peak_mb(fn, *args):
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # octoDNS logs every plan at INFO
    live_raw = raw_zone(args.records)
    desired_raw = desired_from(live_raw)

    ours_s, (ours_changes, _) = best_time(provisioner_plan, live_raw, desired_raw)
    octo_s, (octo_changes, _) = best_time(octodns_plan, live_raw, desired_raw)
    ours_mb = peak_mb(provisioner_plan, live_raw, desired_raw)
    octo_mb = peak_mb(octodns_plan, live_raw, desired_raw)

    print(f"(a) plan a {args.records:,}-record zone ({len(live_raw):,} record sets live,")
    print(f"    {len(desired_raw):,} desired): build validated records, diff, safety, checksum")
    print(f"    changes found    provisioner {ours_changes:>8,}   octoDNS {octo_changes:>8,}")
    print(
        f"    time (best of 3) provisioner {ours_s:8.3f} s  octoDNS {octo_s:8.3f} s"
        f"   ratio {ours_s / octo_s:.2f}x (lower is better; aim <= 1.00)"
    )
    print(
        f"    peak memory      provisioner {ours_mb:8.1f} MB octoDNS {octo_mb:8.1f} MB"
        f"   ratio {ours_mb / octo_mb:.2f}x (aim: provisioner < 200 MB)"
    )


if __name__ == "__main__":
    main()
