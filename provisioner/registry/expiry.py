"""Whether to believe an expiry date, and running many lookups at once (pure logic).

No network here: the lookup is a callable passed in, the clock and sleep are injectable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

from provisioner.errors import ValidationError
from provisioner.registry.answers import RegistryAnswer
from provisioner.registry.errors import LookupFailed, NotRegistered, UnsupportedTld

# The first .com was registered in 1985: anything earlier is a parser's or registry's glitch
# (epoch, year 1, year -1 shown as 0001).
EARLIEST_PLAUSIBLE = date(1985, 1, 1)
MAX_YEARS_AHEAD = 10
# Fourth-level .sch.uk names may be delegated by the local authority's own DNS, with
# no registration (and no expiry) at Nominet.
NO_REGISTRY_SUFFIXES = ("sch.uk",)


class Source(StrEnum):
    RDAP = "rdap"
    WHOIS = "whois"
    MANUAL = "manual"


class Outcome(StrEnum):
    UPDATED = "updated"  # a new, plausible date
    UNCHANGED = "unchanged"  # the registry confirmed the date we hold
    REJECTED = "rejected"  # the registry gave an implausible date: ours is kept
    NO_REGISTRY_EXPIRY = "no_registry_expiry"  # delegated name: set a date by hand
    NOT_REGISTERED = "not_registered"  # the registry has no record: lapsed or never registered
    FAILED = "failed"  # registry down, garbage, unknown TLD: ours is kept


@dataclass(frozen=True)
class Known:
    """What we hold for a domain before the check."""

    expiry: date | None = None
    source: str | None = None
    checked_at: datetime | None = None


@dataclass(frozen=True)
class ExpiryResult:
    name: str
    outcome: Outcome
    expiry: date | None  # the date to hold after the check (new or kept)
    source: str | None  # where `expiry` came from
    checked_at: datetime
    reason: str = ""  # why a date was rejected or the lookup failed
    reported: date | None = None  # what the registry said, when it was not believed

    @property
    def keeps_known(self) -> bool:
        return self.outcome in (Outcome.REJECTED, Outcome.FAILED, Outcome.NOT_REGISTERED)


def implausibility(
    expiry: date | None, now: datetime, *, max_years: int = MAX_YEARS_AHEAD
) -> str | None:
    """Why a date cannot be an expiry date, or None if it can."""
    if expiry is None:
        return "the answer has no expiry date"
    if expiry < EARLIEST_PLAUSIBLE:
        return f"{expiry.isoformat()} is before any domain existed"
    try:
        limit = now.date().replace(year=now.year + max_years)
    except ValueError:  # 29 February
        limit = now.date().replace(year=now.year + max_years, day=28)
    if expiry > limit:
        return f"{expiry.isoformat()} is more than {max_years} years away"
    return None


def judge(
    answer: RegistryAnswer,
    known: Known,
    now: datetime,
    *,
    max_years: int = MAX_YEARS_AHEAD,
    no_registry_suffixes: Sequence[str] = NO_REGISTRY_SUFFIXES,
) -> ExpiryResult:
    """Decide what to hold after a registry answered with (maybe) a date."""
    reported = answer.expires_at.astimezone(UTC).date() if answer.expires_at else None

    def result(outcome: Outcome, reason: str = "") -> ExpiryResult:
        if outcome in (Outcome.UPDATED, Outcome.UNCHANGED):
            return ExpiryResult(answer.name, outcome, reported, answer.source, now)
        return ExpiryResult(answer.name, outcome, known.expiry, known.source, now, reason, reported)

    if reported is None and _under(answer.name, no_registry_suffixes):
        return result(Outcome.NO_REGISTRY_EXPIRY, f"{answer.server} gives no expiry for this name")
    why = implausibility(reported, now, max_years=max_years)
    if why:
        return result(Outcome.REJECTED, f"{answer.source.upper()} {answer.server}: {why}")
    if known.expiry is None or reported > known.expiry:
        return result(Outcome.UPDATED)
    if reported == known.expiry:
        return result(Outcome.UNCHANGED)
    # Earlier than what we hold: believe it only if the registry shows a new registration
    # since we last looked (the name lapsed and was registered again).
    registered = answer.registered_at
    if registered and known.checked_at and registered > known.checked_at:
        return result(Outcome.UPDATED)
    return result(
        Outcome.REJECTED,
        f"{answer.source.upper()} {answer.server} reports {reported.isoformat()}, earlier than "
        f"the known {known.expiry.isoformat()}, with no new registration; kept the known date",
    )


def check_one(
    name: str,
    known: Known,
    lookup: Callable[[str], RegistryAnswer],
    now: datetime,
    *,
    max_years: int = MAX_YEARS_AHEAD,
    no_registry_suffixes: Sequence[str] = NO_REGISTRY_SUFFIXES,
) -> ExpiryResult:
    """Look `name` up and judge the answer; registry failures become results, not exceptions."""
    try:
        answer = lookup(name)
    except NotRegistered as exc:
        if _under(name, no_registry_suffixes):
            return ExpiryResult(
                name,
                Outcome.NO_REGISTRY_EXPIRY,
                known.expiry,
                known.source,
                now,
                f"{exc.message}; a name delegated by its local authority has no registry expiry",
            )
        return ExpiryResult(
            name, Outcome.NOT_REGISTERED, known.expiry, known.source, now, exc.message
        )
    except (LookupFailed, UnsupportedTld) as exc:
        return ExpiryResult(
            name,
            Outcome.FAILED,
            known.expiry,
            known.source,
            now,
            f"{exc.message}; kept the known date",
        )
    return judge(answer, known, now, max_years=max_years, no_registry_suffixes=no_registry_suffixes)


def manual(
    name: str, expiry: date, now: datetime, *, max_years: int = MAX_YEARS_AHEAD
) -> ExpiryResult:
    """A technician's date: must be plausible, may be earlier than the known one."""
    why = implausibility(expiry, now, max_years=max_years)
    if why:
        raise ValidationError(f"expiry date for {name}: {why}", fields={"expiry": why})
    return ExpiryResult(name, Outcome.UPDATED, expiry, Source.MANUAL, now)


def _under(name: str, suffixes: Sequence[str]) -> bool:
    return any(name == s or name.endswith("." + s) for s in suffixes)


class RateLimiter:
    """At most one request per `min_interval` seconds to each server, across threads."""

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, server: str) -> None:
        # Reserve the next free slot under the lock, then wait outside it, so waiting for
        # one busy server never holds up requests to another.
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(server, now))
            self._next[server] = slot + self.min_interval
        if slot > now:
            self.sleep(slot - now)


T = TypeVar("T")
R = TypeVar("R")


def run_concurrently(
    items: Sequence[T],
    check: Callable[[T], R],
    *,
    workers: int = 8,
    progress: Callable[[int, int, R], None] | None = None,
) -> list[R]:
    """check(item) for every item on `workers` threads; results in the order of `items`.

    `progress(done, total, result)` is called from this thread as each check finishes.
    """
    results: list[R | None] = [None] * len(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        futures = {pool.submit(check, item): i for i, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            if progress is not None:
                progress(done, len(items), results[index])
    return results  # type: ignore[return-value]


def parse_day(value: object, field: str) -> date:
    """A date written YYYY-MM-DD (or a date already), else a refusal naming `field`."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        pass
    raise ValidationError(f"{value!r} is not a date: use YYYY-MM-DD", fields={field: "YYYY-MM-DD"})
