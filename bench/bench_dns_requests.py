"""DNS change requests end to end on a local BIND 9.18: approval -> verified.

    .venv/bin/python bench/bench_dns_requests.py [--requests 50] [--skip-celery]

N requests of one change each (an A record) are submitted, then approved one at a
time; each is carried to `verified` (applied with its guards, then served by the
nameserver) by
  - the embedded worker (threads in this process, woken by the commit), and
  - Celery (a `provisioner worker` process, Redis broker on 127.0.0.1:6379);
then --burst more (default 20) are approved at once, and the time until all are verified
is printed. The floor is a raw dnspython UPDATE of the same change followed by a
query until it is served. Prints p50 and p95 of each, and their ratio to the floor.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ZONE = "bench-requests.essex.sch.uk"
REDIS_DB = 11


def _bind_helpers():
    spec = importlib.util.spec_from_file_location(
        "zones_bind_server", REPO / "tests" / "zones" / "bind_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def floor(server, key_file: Path, n: int) -> list[float]:
    """Raw dnspython: one signed UPDATE, then query until the answer is served."""
    from provisioner.zones.providers.rfc2136 import load_tsig_key

    key = load_tsig_key(key_file.read_text())
    times = []
    for i in range(n):
        name = f"floor{i}"
        start = time.perf_counter()
        update = dns.update.UpdateMessage(ZONE, keyring=key, keyname=key.name)
        update.add(name, 300, "A", f"198.51.100.{i % 250 + 1}")
        response = dns.query.tcp(update, server.host, port=server.port, timeout=5)
        assert response.rcode() == 0, response
        query = dns.message.make_query(f"{name}.{ZONE}", "A")
        while not dns.query.udp(query, server.host, port=server.port, timeout=2).answer:
            pass
        times.append(time.perf_counter() - start)
    return times


def make_app(db_url: str, instance: Path, broker: str | None):
    from provisioner.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(instance),
            "BROKER_URL": broker,
            "SMTP_URL": None,
            "MAIL_FROM": "it@provider.example",
        }
    )


def prepare(app, server, prefix: str):
    """A school, a nominated contact, a technician and the zone adopted from BIND."""
    from provisioner.db import db
    from provisioner.schools.services import add_contact, add_school, add_technician
    from provisioner.zones import services as zones
    from provisioner.zones.domain_setup import add_domain_with_zone

    db.create_all()
    school = add_school("123456", "Bench School", "Essex")
    contact = add_contact(school.urn, "Sam", f"sam@{prefix}.example", nominated=True, role="slt")
    tech = add_technician(f"tech@{prefix}.example", "Tech")
    zones.add_provider("bind", "rfc2136", server=server.address, tsig_key_file=str(server.key_file))
    add_domain_with_zone(school.urn, ZONE, "bind")
    return contact, tech


def submit_many(contact, prefix: str, n: int) -> list[int]:
    from provisioner.dns_requests import intake

    ids = []
    for i in range(n):
        change = {"action": "add", "name": f"{prefix}{i}", "type": "A", "values": ["192.0.2.7"]}
        ids.append(
            intake.submit(
                requester=contact, domain=ZONE, changes=[change], notify=lambda _r: None
            ).id
        )
    return ids


def wait_verified(ids: list[int], timeout: float = 120) -> None:
    from sqlalchemy import func, select

    from provisioner.db import db
    from provisioner.dns_requests.models import DnsChangeRequest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.remove()
        done = db.session.scalar(
            select(func.count(DnsChangeRequest.id)).where(
                DnsChangeRequest.id.in_(ids), DnsChangeRequest.status.in_(("verified", "failed"))
            )
        )
        if done == len(ids):
            return
        time.sleep(0.01)
    raise SystemExit(f"requests not verified after {timeout} s")


def one_at_a_time(ids: list[int], tech_id: int) -> list[float]:
    """Approve each and wait until it is verified; latency = approve call -> verified."""
    from provisioner.db import db
    from provisioner.dns_requests import review
    from provisioner.schools.models import User

    latencies = []
    for request_id in ids:
        tech = db.session.get(User, tech_id)
        start = time.perf_counter()
        review.approve(review.get_request(request_id), tech)
        wait_verified([request_id])
        latencies.append(time.perf_counter() - start)
    return latencies


def burst(ids: list[int], tech_id: int) -> float:
    from provisioner.db import db
    from provisioner.dns_requests import review
    from provisioner.schools.models import User

    tech = db.session.get(User, tech_id)
    start = time.perf_counter()
    for request_id in ids:
        review.approve(review.get_request(request_id), tech)
    wait_verified(ids)
    return time.perf_counter() - start


def run_flavour(name: str, server, workdir: Path, args, celery: bool) -> dict:
    from provisioner.db import db

    db_file = workdir / f"{name}.sqlite"
    db_url = f"sqlite:///{db_file}"
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}" if celery else None
    app = make_app(db_url, workdir / name, broker)
    worker_proc = executor = None
    with app.app_context():
        contact, tech = prepare(app, server, name)
        ids = submit_many(contact, f"{name}-one", args.requests)
        burst_ids = submit_many(contact, f"{name}-burst", args.burst)
        tech_id = tech.id
        if celery:
            import redis

            redis.Redis("127.0.0.1", 6379, db=REDIS_DB).flushdb()
            env = {
                **os.environ,
                "PROVISIONER_DATABASE_URL": db_url,
                "PROVISIONER_BROKER_URL": broker,
                "PROVISIONER_SECRET_KEY": "bench",
                "PROVISIONER_INSTANCE_PATH": str(workdir / name),
            }
            worker_proc = subprocess.Popen(
                [str(REPO / ".venv/bin/provisioner"), "worker", "--threads", "2"],
                env=env,
                stdout=open(workdir / "celery-worker.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
            _warm_celery(contact, tech_id, name)
        else:
            from provisioner.jobs.embedded import EmbeddedExecutor
            from provisioner.jobs.registry import load_task_modules

            load_task_modules()
            executor = EmbeddedExecutor(app, threads=2, poll_interval=0.5)
            executor.start()
        try:
            latencies = one_at_a_time(ids, tech_id)
            burst_seconds = burst(burst_ids, tech_id)
        finally:
            if executor:
                executor.stop(timeout=30)
            if worker_proc:
                worker_proc.terminate()
                worker_proc.wait(timeout=30)
        db.session.remove()
        db.engine.dispose()
    return {"latencies": latencies, "burst": burst_seconds}


def _warm_celery(contact, tech_id: int, name: str) -> None:
    """One request through before timing, so worker start-up is not measured."""
    ids = submit_many(contact, f"{name}-warm", 1)
    deadline = time.monotonic() + 60
    one_at_a_time(ids, tech_id)
    if time.monotonic() > deadline:
        raise SystemExit("the Celery worker did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--burst", type=int, default=20, help="requests approved at once")
    parser.add_argument("--skip-celery", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    helpers = _bind_helpers()
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
        workdir = Path(tmp)
        server = helpers.start_bind(workdir / "bind")
        try:
            server.add_zone(ZONE, helpers.minimal_zone(ZONE))
            floor_times = floor(server, server.key_file, args.requests)
            results = {"embedded": run_flavour("embedded", server, workdir, args, False)}
            if not args.skip_celery:
                results["celery"] = run_flavour("celery", server, workdir, args, True)
        finally:
            server.stop()
    base50, base95 = pct(floor_times, 0.5), pct(floor_times, 0.95)
    print(f"{args.requests} requests of one change each, approval -> verified, local BIND 9.18")
    print(f"{'':34}{'p50':>10}{'p95':>10}{'p50/floor':>11}")
    print(f"{'floor: dnspython UPDATE + query':34}{base50 * 1000:>8.1f}ms{base95 * 1000:>8.1f}ms")
    for name, result in results.items():
        lat = result["latencies"]
        p50, p95 = pct(lat, 0.5), pct(lat, 0.95)
        print(
            f"{name + ' worker, one at a time':34}{p50 * 1000:>8.1f}ms{p95 * 1000:>8.1f}ms"
            f"{p50 / base50:>10.0f}x"
        )
    for name, result in results.items():
        per = result["burst"] / args.burst
        print(
            f"{name + f' burst: {args.burst} approved at once':34} all verified in "
            f"{result['burst']:.2f}s ({per * 1000:.0f} ms per request, "
            f"{per / statistics.median(floor_times):.0f}x the floor)"
        )


if __name__ == "__main__":
    main()
