"""Apply benchmark on one local BIND 9.18: our rfc2136 provider vs octoDNS's (octodns-bind).

    .venv/bin/python bench/bench_dns_apply.py [--records 10000] [--changes 1000] [--runs 3]

A zone of N records gets the same change set from each contestant (400 updates,
300 deletes, 300 creates for 1,000), on a freshly reset zone every run:
  (b) apply: the time of the apply call alone, the plan made beforehand;
  (c) end to end: from "apply" until the nameserver serves every change (the same
      verify() for both, asking 127.0.0.1 over UDP);
  floor: one raw dnspython UPDATE carrying the same changes, no prerequisites.
Peak memory (tracemalloc) of each apply is measured in a separate run, so tracing
does not slow the timed runs. Prints the median time of each line and the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import dns.query
import dns.rcode
import dns.update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from provisioner.zones.dnsio import rdatas  # noqa: E402
from provisioner.zones.plan import plan as make_plan  # noqa: E402
from provisioner.zones.providers.rfc2136 import Rfc2136Provider  # noqa: E402
from provisioner.zones.records import Record  # noqa: E402
from provisioner.zones.verify import verify  # noqa: E402

ZONE = "bench.example.test"


def _load_bind_helpers():
    spec = importlib.util.spec_from_file_location(
        "zones_bind_server", REPO / "tests" / "zones" / "bind_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def base_records(n: int) -> list[Record]:
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append(Record(f"t{i}.{ZONE}", "TXT", 300, (f'"v=bench{i}"',)))
        else:
            out.append(
                Record(f"h{i}.{ZONE}", "A", 300, (f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",))
            )
    return out


def desired_records(base: list[Record], changes: int) -> list[Record]:
    updates, deletes = changes * 4 // 10, changes * 3 // 10
    creates = changes - updates - deletes
    out = []
    for i, r in enumerate(base):
        if i < updates:
            out.append(Record(r.name, r.type, 600, r.values))  # TTL and value change
            if r.type == "A":
                out[-1] = Record(r.name, "A", 600, ("192.0.2.1",))
        elif i < updates + deletes:
            continue
        else:
            out.append(r)
    out += [Record(f"new{i}.{ZONE}", "AAAA", 300, (f"2001:db8::{i:x}",)) for i in range(creates)]
    return out


def zone_text(records: list[Record]) -> str:
    lines = [
        f"$ORIGIN {ZONE}.",
        "$TTL 300",
        f"@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
        f"@ IN NS ns1.{ZONE}.",
        "ns1 IN A 127.0.0.1",
    ]
    lines += [f"{r.name}. {r.ttl} IN {r.type} {' '.join(r.values)}" for r in records]
    return "\n".join(lines) + "\n"


# ---- contestants ---------------------------------------------------------------


def ours_prepare(server, desired):
    provider = Rfc2136Provider(server.address, key_file=server.key_file, timeout=30)
    live = provider.read_zone(ZONE)
    plan = make_plan(desired, live)
    return provider, plan


def ours_apply(prepared):
    provider, plan = prepared
    result = provider.apply(plan)
    assert result.atomic, result.detail
    return plan


def octo_prepare(server, desired):
    from octodns.record import Record as OctoRecord
    from octodns.zone import Zone
    from octodns_bind import Rfc2136Provider as OctoRfc2136

    key = server.key_file.read_text()
    secret = key.split('secret "')[1].split('"')[0]
    provider = OctoRfc2136(
        "bind",
        host="127.0.0.1",
        port=server.port,
        key_name=server.key_name,
        key_secret=secret,
        key_algorithm="hmac-sha256",
        timeout=30,
    )
    zone = Zone(ZONE + ".", [])
    for r in desired:
        rel = "" if r.name == ZONE else r.name[: -(len(ZONE) + 1)]
        values = [v.strip('"') for v in r.values] if r.type == "TXT" else list(r.values)
        data = {"type": r.type, "ttl": r.ttl, "values": values}
        zone.add_record(OctoRecord.new(zone, rel, data), lenient=r.name == ZONE)
    plan = provider.plan(zone)
    return provider, plan


def octo_apply(prepared):
    provider, plan = prepared
    provider.apply(plan)


def raw_prepare(server, desired, base):
    from provisioner.zones.providers.rfc2136 import load_tsig_key

    key = load_tsig_key(server.key_file.read_text())
    want = {r.key: r for r in desired}
    have = {r.key: r for r in base}
    return server, key, want, have


def raw_apply(prepared):
    server, key, want, have = prepared
    msg = dns.update.UpdateMessage(ZONE + ".", keyring=key, keyname=key.name)
    for k, r in have.items():
        if k not in want:
            msg.delete(r.name + ".", r.type)
        elif want[k] != r:
            msg.replace(r.name + ".", want[k].ttl, *rdatas(want[k]))
    for k, r in want.items():
        if k not in have:
            msg.add(r.name + ".", r.ttl, *rdatas(r))
    response = dns.query.tcp(msg, "127.0.0.1", port=server.port, timeout=30)
    assert response.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(response.rcode())


# ---- running -------------------------------------------------------------------


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak_mb(fn, *args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    bind = _load_bind_helpers()
    base = base_records(args.records)
    desired = desired_records(base, args.changes)
    ns_desired = desired + [
        Record(ZONE, "NS", 300, (f"ns1.{ZONE}.",)),
        Record(f"ns1.{ZONE}", "A", 300, ("127.0.0.1",)),
    ]
    text = zone_text(base)
    with tempfile.TemporaryDirectory(prefix="bench-bind-") as tmp:
        server = bind.start_bind(Path(tmp))
        try:
            results = run_all(server, text, base, ns_desired, args)
        finally:
            server.stop()
    report(results, args)


def run_all(server, text, base, desired, args) -> dict:
    contestants = {
        "ours": (lambda: ours_prepare(server, desired), ours_apply),
        "octo": (lambda: octo_prepare(server, desired), octo_apply),
        "raw": (lambda: raw_prepare(server, desired, base), raw_apply),
    }
    # Each plan is made once on the base zone; every run resets the zone to that
    # base (journal removed), so the same plan applies cleanly again.
    server.reset_zone(ZONE, text)
    prepared = {name: prepare() for name, (prepare, _) in contestants.items()}
    reference = prepared["ours"][1]
    assert len(reference.changes) == args.changes, len(reference.changes)
    times: dict[str, list[float]] = {}
    memory: dict[str, float] = {}
    for run in range(args.runs + 1):  # the last run measures memory only
        for name, (_, apply) in contestants.items():
            server.reset_zone(ZONE, text)
            if run == args.runs:
                memory[name] = peak_mb(apply, prepared[name])
                continue
            start = time.perf_counter()
            apply(prepared[name])
            applied = time.perf_counter() - start
            result = verify(reference, [server.address], timeout=60, first_delay=0.01)
            served = time.perf_counter() - start
            assert result.ok, result.summary()
            times.setdefault(f"{name}_b", []).append(applied)
            times.setdefault(f"{name}_c", []).append(served)
    return {"times": {k: statistics.median(v) for k, v in times.items()}, "memory": memory}


def report(results: dict, args) -> None:
    t, m = results["times"], results["memory"]
    print(f"BIND 9.18 on 127.0.0.1, zone of {args.records:,} records, {args.changes:,} changes,")
    print(f"median of {args.runs} runs each on a freshly reset zone. Ours sends one UPDATE with")
    print("a prerequisite on every record set; octoDNS sends its batch without any.\n")
    print(f"{'measure':58} {'ours':>9} {'octoDNS':>9} {'ours/octo':>10}")
    print(
        f"{f'(b) apply {args.changes:,} changes (s)':58} {t['ours_b']:9.3f} {t['octo_b']:9.3f}"
        f" {t['ours_b'] / t['octo_b']:10.2f}"
    )
    print(
        f"{'(c) apply -> served by the nameserver (s)':58} {t['ours_c']:9.3f} {t['octo_c']:9.3f}"
        f" {t['ours_c'] / t['octo_c']:10.2f}"
    )
    print(
        f"{'peak Python memory of the apply (MB)':58} {m['ours']:9.1f} {m['octo']:9.1f}"
        f" {m['ours'] / m['octo']:10.2f}"
    )
    print()
    print(f"{'floor: one raw dnspython UPDATE, no prerequisites (s)':58} {t['raw_b']:9.3f}")
    print(f"{'(b) ours / floor':58} {t['ours_b'] / t['raw_b']:9.2f}   (target: within 3x)")
    print(f"{'(c) floor + verify (s)':58} {t['raw_c']:9.3f}")
    print(f"{'peak memory of the floor (MB)':58} {m['raw']:9.1f}")


if __name__ == "__main__":
    main()
