"""Prove a change is being served: ask every authoritative nameserver directly.

After an apply, each nameserver is queried (UDP, TCP when the answer is truncated)
for every record set the plan touched, until it serves exactly the desired values
and TTL (or no such record set, for a delete) with the AA bit set. Servers that
are not there yet are asked again with a growing delay until the timeout. The
result says, per server, whether it caught up and what it still lacked.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from provisioner.zones.dnsio import abs_name, parse_server, same_rrset
from provisioner.zones.errors import ProviderError
from provisioner.zones.records import Record


@dataclass(frozen=True)
class Expectation:
    name: str
    type: str
    record: Record | None  # None: the record set must be gone

    def __str__(self) -> str:
        return f"{self.name} {self.type}"


@dataclass(frozen=True)
class ServerResult:
    server: str
    ok: bool
    attempts: int
    seconds: float
    pending: tuple[str, ...] = ()  # "name TYPE" still not served as desired
    error: str = ""  # the last problem talking to the server, if any


@dataclass(frozen=True)
class VerifyResult:
    zone: str
    servers: tuple[ServerResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.servers)

    def summary(self) -> str:
        lines = []
        for s in self.servers:
            if s.ok:
                lines.append(f"{s.server}: serving the change after {s.seconds:.2f} s")
            else:
                missing = ", ".join(s.pending[:5]) + (" ..." if len(s.pending) > 5 else "")
                why = f" ({s.error})" if s.error else ""
                lines.append(
                    f"{s.server}: still not serving {missing} after {s.seconds:.1f} s{why}"
                )
        return "\n".join(lines)


def expectations(plan) -> list[Expectation]:
    """What every server must serve once the plan is applied."""
    out = []
    for change in plan.changes:
        rec = change.desired or change.existing
        out.append(Expectation(rec.name, rec.type, change.desired))
    return out


def _query(expectation: Expectation) -> dns.message.Message:
    rdtype = dns.rdatatype.from_text(expectation.type)
    return dns.message.make_query(abs_name(expectation.name), rdtype)


def _serves(response: dns.message.Message, expectation: Expectation) -> bool:
    if not response.flags & dns.flags.AA:
        return False  # not authoritative (REFUSED, a referral, a cache): not proof
    if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return False
    question = response.question[0]
    rrset = response.get_rrset(response.answer, question.name, dns.rdataclass.IN, question.rdtype)
    if expectation.record is None:
        return rrset is None
    return same_rrset(expectation.record, rrset)


def check(server: str, expectation: Expectation, timeout: float = 2.0) -> bool:
    """Does this server serve the expectation authoritatively right now? (UDP, then TCP
    when the answer is truncated)"""
    host, port = parse_server(server)
    query = _query(expectation)
    response, _ = dns.query.udp_with_fallback(query, host, timeout=timeout, port=port)
    return _serves(response, expectation)


def check_many(
    server: str, expectations: list[Expectation], timeout: float = 2.0, window: int = 64
) -> list[bool]:
    """check() for many expectations, with up to `window` UDP queries in flight on one
    socket; truncated or unanswered ones are asked again one by one (TCP fallback)."""
    host, port = parse_server(server)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    results: list[bool | None] = [None] * len(expectations)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        for start in range(0, len(expectations), window):
            waiting = {}
            for offset, exp in enumerate(expectations[start : start + window]):
                query = _query(exp)
                query.id = (start + offset) % 65536
                waiting[query.id] = (start + offset, query)
                sock.send(query.to_wire())
            deadline = time.monotonic() + timeout
            while waiting and (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    wire = sock.recv(65535)
                except TimeoutError:
                    break
                try:
                    response = dns.message.from_wire(wire)
                except dns.exception.DNSException:
                    continue  # garbage is not an answer; the query is retried below
                found = waiting.get(response.id)
                if found is None or not found[1].is_response(response):
                    continue
                del waiting[response.id]
                index = found[0]
                if not response.flags & dns.flags.TC:
                    results[index] = _serves(response, expectations[index])
    for index, result in enumerate(results):
        if result is None:
            results[index] = check(server, expectations[index], timeout)
    return results  # type: ignore[return-value]


def verify(
    plan,
    nameservers: list[str],
    *,
    timeout: float = 30.0,
    first_delay: float = 0.05,
    max_delay: float = 2.0,
    query_timeout: float = 2.0,
    checker: Callable[[str, list[Expectation], float], list[bool]] = check_many,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyResult:
    """Poll every nameserver until it serves the plan's outcome or `timeout` passes."""
    if not nameservers:
        raise ProviderError(f"no nameservers to verify zone {plan.zone} against")
    for server in nameservers:
        parse_server(server)  # a malformed address is a configuration error, not a wait
    start = clock()
    deadline = start + timeout
    todo = expectations(plan)
    pending = {server: list(todo) for server in nameservers}
    attempts = dict.fromkeys(nameservers, 0)
    errors = dict.fromkeys(nameservers, "")
    finished: dict[str, float] = {}
    delay = first_delay
    while True:
        for server in nameservers:
            if server in finished:
                continue
            attempts[server] += 1
            try:
                served = checker(server, pending[server], query_timeout)
            except (dns.exception.DNSException, OSError) as exc:
                errors[server] = f"{type(exc).__name__}: {exc}".rstrip(": ")
                still = pending[server]
            else:
                errors[server] = ""
                still = [exp for exp, ok in zip(pending[server], served, strict=True) if not ok]
            pending[server] = still
            if not still:
                finished[server] = clock() - start
        now = clock()
        if len(finished) == len(nameservers) or now >= deadline:
            break
        sleep(min(delay, max(deadline - now, 0)))
        delay = min(delay * 2, max_delay)
    elapsed = clock() - start
    results = tuple(
        ServerResult(
            server=server,
            ok=server in finished,
            attempts=attempts[server],
            seconds=finished.get(server, elapsed),
            pending=tuple(str(e) for e in pending[server]),
            error=errors[server],
        )
        for server in nameservers
    )
    return VerifyResult(zone=plan.zone, servers=results)
