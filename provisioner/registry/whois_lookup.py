"""WHOIS fallback: our own port-43 client, python-whois's parsers for the text.

We never call `whois.whois()`: it asks whois.iana.org first and cuts `.sch.uk` names
down to `sch.uk`. We ask the server for the registrable name's suffix directly and
hand the text to `WhoisEntry.load`.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from whois.exceptions import WhoisDomainNotFoundError, WhoisError
from whois.parser import WhoisEntry

from provisioner.registry.answers import Limiter, RegistryAnswer
from provisioner.registry.errors import (
    BadRegistryConfig,
    LookupFailed,
    MalformedAnswer,
    NotRegistered,
    UnsupportedTld,
)

WHOIS_PORT = 43

# Registry (thin) WHOIS servers by TLD or public suffix; a PROVISIONER_WHOIS_SERVERS file
# replaces this map whole, so tests can never reach a real registry by accident.
BUILTIN_SERVERS: dict[str, str] = {
    "uk": "whois.nic.uk",
    "com": "whois.verisign-grs.com",
    "net": "whois.verisign-grs.com",
    "cc": "ccwhois.verisign-grs.com",
    "tv": "whois.nic.tv",
    "org": "whois.publicinterestregistry.org",
    "info": "whois.nic.info",
    "io": "whois.nic.io",
    "cymru": "whois.nic.cymru",
    "wales": "whois.nic.wales",
    "london": "whois.nic.london",
    "scot": "whois.nic.scot",
    "academy": "whois.nic.academy",
    "school": "whois.nic.school",
    "education": "whois.nic.education",
    "college": "whois.nic.college",
    "ie": "whois.weare.ie",
    "eu": "whois.eu",
    "fr": "whois.nic.fr",
    "de": "whois.denic.de",
    "app": "whois.nic.google",
    "dev": "whois.nic.google",
    "xyz": "whois.nic.xyz",
    "biz": "whois.nic.biz",
    "co": "whois.nic.co",
    "me": "whois.nic.me",
}

# Answers that mean "ask again later", not "free" and not a record.
_REFUSALS = ("query rate limit exceeded", "quota exceeded", "too many requests", "access denied")
_NO_MATCH = ("no match for", "not found", "no entries found", "no data found")


def parse_server(value: str) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        return value.strip(), WHOIS_PORT
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadRegistryConfig(f"WHOIS server {value!r} is not 'host' or 'host:port'")
    return host, int(port)


def load_servers(path: str | Path | None) -> dict[str, tuple[str, int]]:
    """The built-in map, or the JSON object in `path` (suffix -> "host[:port]") instead."""
    if path is None:
        raw: object = BUILTIN_SERVERS
    else:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadRegistryConfig(f"cannot read the WHOIS server map {path}: {exc}") from exc
        except ValueError as exc:
            raise BadRegistryConfig(f"the WHOIS server map {path} is not JSON: {exc}") from exc
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise BadRegistryConfig(
            f"the WHOIS server map {path} must be a JSON object of suffix -> 'host[:port]'"
        )
    return {k.lower().strip("."): parse_server(v) for k, v in raw.items()}


def fetch(host: str, port: int, query: str, timeout: float) -> str:
    """One WHOIS exchange (RFC 3912): send the query line, read until the server closes."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(query.encode("ascii") + b"\r\n")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete answer within {timeout:g}s")
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > 1_000_000:
                raise ValueError("answer larger than 1 MB")
    return b"".join(chunks).decode("utf-8", errors="replace")


def parse_text(name: str, text: str, server: str) -> RegistryAnswer:
    """Read WHOIS text with python-whois's parser for the TLD."""
    stripped = text.strip()
    lowered = stripped.lower()
    if not stripped:
        raise MalformedAnswer(name, "whois", f"{server} sent an empty answer")
    if any(r in lowered for r in _REFUSALS):
        raise LookupFailed(name, "whois", f"{server} refused the query: {stripped.splitlines()[0]}")
    try:
        entry = WhoisEntry.load(name, text)
    except WhoisDomainNotFoundError as exc:
        raise NotRegistered(name, "whois") from exc
    except (WhoisError, ValueError, OverflowError) as exc:
        raise MalformedAnswer(name, "whois", f"{server} sent text we cannot read: {exc}") from exc
    if entry is None or not entry.get("domain_name"):
        # Generic parsers do not all recognise "No match"; look for it ourselves.
        if any(lowered.startswith(m) or f"\n{m}" in lowered for m in _NO_MATCH):
            raise NotRegistered(name, "whois")
        raise MalformedAnswer(name, "whois", f"{server} sent no domain record for {name}")
    return RegistryAnswer(
        name=name,
        source="whois",
        server=server,
        expires_at=_first_date(entry.get("expiration_date"), name, server),
        registered_at=_first_date(entry.get("creation_date"), name, server),
    )


def _first_date(value: object, name: str, server: str):
    # Verisign text may add the registrar's own expiry after the registry's; the first wins.
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or hasattr(value, "year"):
        return value
    raise MalformedAnswer(name, "whois", f"{server} gave a date we cannot read: {value!r}")


class WhoisClient:
    def __init__(
        self,
        servers: dict[str, tuple[str, int]],
        *,
        timeout: float = 10.0,
        limiter: Limiter | None = None,
    ):
        self.servers = servers
        self.timeout = timeout
        self.limiter = limiter

    def server_for(self, name: str) -> tuple[str, int] | None:
        labels = name.lower().strip(".").split(".")
        # Longest suffix first: a map may send sch.uk somewhere other than uk.
        for i in range(len(labels)):
            server = self.servers.get(".".join(labels[i:]))
            if server:
                return server
        return None

    def lookup(self, name: str) -> RegistryAnswer:
        """`name` must be a registrable name in IDNA (A-label) form."""
        target = self.server_for(name)
        if target is None:
            raise UnsupportedTld(name, name.rsplit(".", 1)[-1])
        host, port = target
        server = f"{host}:{port}"
        if self.limiter is not None:
            self.limiter.acquire(server)
        try:
            text = fetch(host, port, name, self.timeout)
        except TimeoutError as exc:
            raise LookupFailed(
                name, "whois", f"{server} did not answer within {self.timeout:g}s"
            ) from exc
        except OSError as exc:
            raise LookupFailed(name, "whois", f"cannot reach {server}: {exc}") from exc
        except ValueError as exc:
            raise MalformedAnswer(name, "whois", f"{server}: {exc}") from exc
        return parse_text(name, text, server)
