"""RDAP lookups (RFC 9082/9083): base URL from IANA's bootstrap file, expiry from `events`.

The bootstrap file is a copy shipped with the product (or a path from configuration);
it is never fetched at run time.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from provisioner.registry.answers import Limiter, RegistryAnswer
from provisioner.registry.errors import (
    BadRegistryConfig,
    LookupFailed,
    MalformedAnswer,
    NotRegistered,
    UnsupportedTld,
)

DEFAULT_BOOTSTRAP = Path(__file__).resolve().parent.parent / "data" / "rdap-bootstrap.json"


class RdapBootstrap:
    """TLD -> RDAP base URL, from an IANA-format file (`services: [[tlds], [urls]]`)."""

    def __init__(self, bases: dict[str, str]):
        self.bases = bases

    @classmethod
    def load(cls, path: str | Path) -> RdapBootstrap:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadRegistryConfig(f"cannot read the RDAP bootstrap file {path}: {exc}") from exc
        except ValueError as exc:
            raise BadRegistryConfig(f"the RDAP bootstrap file {path} is not JSON: {exc}") from exc
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: object, origin: str = "RDAP bootstrap") -> RdapBootstrap:
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, list):
            raise BadRegistryConfig(f"{origin} has no 'services' list (IANA format expected)")
        bases: dict[str, str] = {}
        for entry in services:
            if (
                not isinstance(entry, list)
                or len(entry) < 2
                or not isinstance(entry[0], list)
                or not isinstance(entry[1], list)
                or not all(isinstance(x, str) for x in entry[0])
                or not all(isinstance(x, str) for x in entry[1])
                or not entry[1]
            ):
                raise BadRegistryConfig(f"{origin}: malformed service entry {entry!r}")
            # IANA lists https first where both exist; prefer it.
            urls = sorted(entry[1], key=lambda u: not u.startswith("https:"))
            base = urls[0] if urls[0].endswith("/") else urls[0] + "/"
            for tld in entry[0]:
                bases[tld.lower().strip(".")] = base
        return cls(bases)

    def base_url(self, name: str) -> str | None:
        labels = name.lower().strip(".").split(".")
        # Longest match first, although IANA entries today are single labels.
        for i in range(len(labels)):
            base = self.bases.get(".".join(labels[i:]))
            if base:
                return base
        return None


def _parse_date(value: object, name: str, server: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedAnswer(name, "rdap", f"{server} gave an eventDate that is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedAnswer(name, "rdap", f"{server} gave an unreadable date {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_domain_answer(data: object, name: str, server: str) -> RegistryAnswer:
    """Read an RDAP domain object (RFC 9083 section 5.3); raise MalformedAnswer if it is not one."""
    if not isinstance(data, dict):
        raise MalformedAnswer(name, "rdap", f"{server} did not answer with a JSON object")
    if data.get("objectClassName", "domain") != "domain":
        raise MalformedAnswer(
            name, "rdap", f"{server} answered a {data.get('objectClassName')!r}, not a domain"
        )
    ldh = data.get("ldhName")
    if isinstance(ldh, str) and ldh.lower().rstrip(".") != name:
        raise MalformedAnswer(name, "rdap", f"{server} answered about {ldh}, not {name}")
    events = data.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise MalformedAnswer(
            name, "rdap", f"{server} gave 'events' that are not a list of objects"
        )
    expiries = [
        _parse_date(e.get("eventDate"), name, server)
        for e in events
        if e.get("eventAction") == "expiration"
    ]
    registered = [
        _parse_date(e.get("eventDate"), name, server)
        for e in events
        if e.get("eventAction") == "registration"
    ]
    return RegistryAnswer(
        name=name,
        source="rdap",
        server=server,
        expires_at=max(expiries) if expiries else None,
        registered_at=max(registered) if registered else None,
    )


class RdapClient:
    """Asks the RDAP server of a name's TLD; thread-safe (one HTTP session per thread)."""

    def __init__(
        self,
        bootstrap: RdapBootstrap,
        *,
        timeout: float = 10.0,
        limiter: Limiter | None = None,
    ):
        self.bootstrap = bootstrap
        self.timeout = timeout
        self.limiter = limiter
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/rdap+json, application/json"
            self._local.session = session
        return session

    def server_for(self, name: str) -> str | None:
        base = self.bootstrap.base_url(name)
        return urlsplit(base).netloc if base else None

    def lookup(self, name: str) -> RegistryAnswer:
        """`name` must be a registrable name in IDNA (A-label) form."""
        base = self.bootstrap.base_url(name)
        if base is None:
            raise UnsupportedTld(name, name.rsplit(".", 1)[-1])
        server = urlsplit(base).netloc
        if self.limiter is not None:
            self.limiter.acquire(server)
        url = f"{base}domain/{name}"
        try:
            response = self._session().get(url, timeout=self.timeout, allow_redirects=True)
        except requests.Timeout as exc:
            raise LookupFailed(
                name, "rdap", f"{server} did not answer within {self.timeout:g}s"
            ) from exc
        except requests.RequestException as exc:
            raise LookupFailed(name, "rdap", f"cannot reach {server}: {exc}") from exc
        if response.status_code == 404:
            raise NotRegistered(name, "rdap")
        if response.status_code != 200:
            raise LookupFailed(name, "rdap", f"{server} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise MalformedAnswer(
                name, "rdap", f"{server} answered something that is not JSON"
            ) from exc
        return parse_domain_answer(data, name, server)
