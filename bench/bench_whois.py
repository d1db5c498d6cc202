"""`whois refresh` of 1,000 domains against local registries that answer in 50 ms:
wall time of the concurrent refresh beside the same lookups done one after another.

Three RDAP servers (.uk, .com, .org) and one WHOIS server (.net, no RDAP) on 127.0.0.1,
each answering every request after a 50 ms pause.

Run: .venv/bin/python bench/bench_whois.py [--domains N] [--workers N] [--delay S]
"""

from __future__ import annotations

import argparse
import json
import socketserver
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from provisioner.registry.expiry import Known, Outcome, RateLimiter, check_one, run_concurrently
from provisioner.registry.lookup import RegistryLookup
from provisioner.registry.rdap import RdapBootstrap, RdapClient
from provisioner.registry.whois_lookup import WhoisClient

NOMINET_STYLE = """
    Domain name:
        {name}

    Relevant dates:
        Registered on: 04-Sep-2008
        Expiry date:  04-Sep-2027
        Last updated:  15-Aug-2025

    Registration status:
        Registered until expiry date.
"""
VERISIGN_STYLE = """   Domain Name: {upper}
   Registry Expiry Date: 2027-08-13T04:00:00Z
   Creation Date: 1995-08-14T04:00:00Z
>>> Last update of whois database: 2026-11-29T07:10:11Z <<<
"""


def rdap_server(delay: float):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(delay)
            name = self.path.rsplit("/", 1)[-1]
            body = json.dumps(
                {
                    "objectClassName": "domain",
                    "ldhName": name,
                    "events": [
                        {"eventAction": "registration", "eventDate": "2008-09-04T00:00:00Z"},
                        {"eventAction": "expiration", "eventDate": "2027-09-04T00:00:00Z"},
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    return _start(Server(("127.0.0.1", 0), Handler))


def whois_server(delay: float):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            name = self.rfile.readline().decode().strip()
            time.sleep(delay)
            self.wfile.write(VERISIGN_STYLE.format(upper=name.upper()).encode())

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 256

    return _start(Server(("127.0.0.1", 0), Handler))


def _start(server):
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def make_lookup(rdap_ports, whois_port, limiter=None):
    bootstrap = RdapBootstrap.from_dict(
        {
            "services": [
                [[tld], [f"http://127.0.0.1:{port}/{tld}/"]]
                for tld, port in zip(("uk", "com", "org"), rdap_ports, strict=True)
            ]
        }
    )
    return RegistryLookup(
        RdapClient(bootstrap, timeout=10, limiter=limiter),
        WhoisClient({"net": ("127.0.0.1", whois_port)}, timeout=10, limiter=limiter),
    )


def names(n: int) -> list[str]:
    # Roughly a schools provider's mix: mostly .sch.uk, then .com, .org and a few .net.
    out = []
    for i in range(n):
        kind = i % 20
        if kind < 8:
            out.append(f"school{i}.essex.sch.uk")
        elif kind < 13:
            out.append(f"academy{i}.com")
        elif kind < 16:
            out.append(f"pta{i}.org")
        else:
            out.append(f"trust{i}.net")
    return out


def run(label, domains, lookup, workers):
    now = datetime.now(UTC)
    start = time.perf_counter()
    if workers == 1:
        results = [check_one(d, Known(), lookup.lookup, now) for d in domains]
    else:
        results = run_concurrently(
            domains, lambda d: check_one(d, Known(), lookup.lookup, now), workers=workers
        )
    wall = time.perf_counter() - start
    bad = [r for r in results if r.outcome is not Outcome.UPDATED]
    if bad:
        raise SystemExit(f"{label}: {len(bad)} lookups did not give a date, e.g. {bad[0]}")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.05, help="server answer time (s)")
    parser.add_argument(
        "--interval", type=float, default=0.02, help="per-server rate limit for the third run (s)"
    )
    args = parser.parse_args()

    rdaps = [rdap_server(args.delay) for _ in range(3)]
    whois = whois_server(args.delay)
    ports = [s.server_address[1] for s in rdaps]
    domains = names(args.domains)

    print(
        f"{args.domains} domains, servers answer in {args.delay * 1000:.0f} ms (3 RDAP + 1 WHOIS)"
    )
    serial = run("serial", domains, make_lookup(ports, whois.server_address[1]), workers=1)
    print(f"  one after another:                          {serial:7.2f} s")
    concurrent = run(
        "concurrent", domains, make_lookup(ports, whois.server_address[1]), workers=args.workers
    )
    print(
        f"  concurrent, {args.workers} workers, no rate limit:  {concurrent:7.2f} s"
        f"   speed-up x{serial / concurrent:.1f}"
    )
    limiter = RateLimiter(args.interval)
    limited = run(
        "limited",
        domains,
        make_lookup(ports, whois.server_address[1], limiter),
        workers=args.workers,
    )
    busiest = max(sum(d.endswith(t) for d in domains) for t in (".uk", ".com", ".org", ".net"))
    print(
        f"  concurrent, {args.workers} workers, 1 req/{args.interval:g}s/server: {limited:7.2f} s"
        f"   speed-up x{serial / limited:.1f}"
        f"   (floor set by the limit: {busiest} names on the busiest server"
        f" = {busiest * args.interval:.1f} s)"
    )
    for server in [*rdaps, whois]:
        server.shutdown()


if __name__ == "__main__":
    main()
