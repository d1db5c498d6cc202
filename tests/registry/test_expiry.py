"""Plausibility of expiry dates, the per-server rate limit and concurrent refresh (pure)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from provisioner.errors import ValidationError
from provisioner.registry.answers import RegistryAnswer
from provisioner.registry.errors import LookupFailed, UnsupportedTld
from provisioner.registry.expiry import (
    Known,
    Outcome,
    RateLimiter,
    check_one,
    judge,
    manual,
    run_concurrently,
)

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
KNOWN = Known(expiry=date(2027, 9, 4), source="rdap", checked_at=datetime(2026, 11, 22, tzinfo=UTC))


def answer(
    expires: datetime | None, registered: datetime | None = None, name="stmarys.essex.sch.uk"
):
    return RegistryAnswer(name, "rdap", "rdap.nominet.uk", expires, registered)


def at(y, m, d):
    return datetime(y, m, d, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expires", "why"),
    [
        (None, "no expiry date"),
        (at(1970, 1, 1), "before any domain existed"),
        (datetime(1, 1, 1, tzinfo=UTC), "before any domain existed"),
        (at(2037, 1, 1), "more than 10 years away"),
        (at(2027, 1, 1), "earlier than the known 2027-09-04"),
    ],
)
def test_an_implausible_date_never_replaces_a_good_one(expires, why):
    result = judge(answer(expires, name="example-academy.com"), KNOWN, NOW)
    assert result.outcome is Outcome.REJECTED
    assert (result.expiry, result.source) == (date(2027, 9, 4), "rdap")
    assert why in result.reason
    assert result.keeps_known


def test_a_later_date_replaces_the_known_one():
    result = judge(answer(at(2028, 9, 4)), KNOWN, NOW)
    assert (result.outcome, result.expiry, result.source, result.checked_at) == (
        Outcome.UPDATED,
        date(2028, 9, 4),
        "rdap",
        NOW,
    )


def test_the_same_date_is_confirmed():
    assert judge(answer(at(2027, 9, 4)), KNOWN, NOW).outcome is Outcome.UNCHANGED


def test_an_earlier_date_is_taken_when_the_registry_shows_a_new_registration():
    # Held until 2029, but the name was deleted and registered again for one year.
    known = Known(expiry=date(2029, 9, 4), source="whois", checked_at=at(2026, 11, 22))
    old_registration = judge(answer(at(2027, 11, 1), registered=at(2008, 9, 4)), known, NOW)
    assert old_registration.outcome is Outcome.REJECTED
    assert old_registration.expiry == date(2029, 9, 4)
    assert "no new registration" in old_registration.reason
    new_registration = judge(answer(at(2027, 11, 25), registered=at(2026, 11, 25)), known, NOW)
    assert new_registration.outcome is Outcome.UPDATED
    assert new_registration.expiry == date(2027, 11, 25)


def test_a_date_exactly_ten_years_out_is_plausible():
    assert judge(answer(at(2036, 11, 29)), Known(), NOW).outcome is Outcome.UPDATED


def test_no_expiry_for_a_delegated_sch_uk_name_is_not_an_error():
    result = judge(answer(None, name="stmarys.essex.sch.uk"), Known(), NOW)
    assert result.outcome is Outcome.NO_REGISTRY_EXPIRY


def test_failures_become_results_that_keep_the_date():
    def down(name):
        raise LookupFailed(name, "rdap", "cannot reach rdap.nominet.uk")

    def unknown(name):
        raise UnsupportedTld(name, "zz")

    for lookup in (down, unknown):
        result = check_one("stmarys.essex.sch.uk", KNOWN, lookup, NOW)
        assert result.outcome is Outcome.FAILED
        assert result.expiry == date(2027, 9, 4)
        assert result.reason


def test_a_technician_may_set_an_earlier_date_but_not_an_implausible_one():
    result = manual("stmarys.essex.sch.uk", date(2027, 1, 31), NOW)
    assert (result.expiry, result.source) == (date(2027, 1, 31), "manual")
    with pytest.raises(ValidationError) as caught:
        manual("stmarys.essex.sch.uk", date(1970, 1, 1), NOW)
    assert "before any domain existed" in caught.value.message


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)


def test_rate_limit_spaces_requests_to_one_server_only():
    clock = FakeClock()
    limiter = RateLimiter(1.5, clock=clock, sleep=clock.sleep)
    limiter.acquire("whois.nic.uk")
    limiter.acquire("rdap.verisign.com")  # another server: no wait
    limiter.acquire("whois.nic.uk")
    limiter.acquire("whois.nic.uk")
    assert clock.sleeps == [1.5, 3.0]
    clock.now += 10  # after a quiet spell the next request goes at once
    limiter.acquire("whois.nic.uk")
    assert clock.sleeps == [1.5, 3.0]


def test_refresh_runs_lookups_at_the_same_time_and_reports_progress():
    # Four checks that each wait for the other three: only a concurrent run finishes.
    barrier = threading.Barrier(4, timeout=10)
    seen = []

    def check(name):
        barrier.wait()
        return name.upper()

    names = ["a.sch.uk", "b.sch.uk", "c.com", "d.org"]
    results = run_concurrently(
        names, check, workers=4, progress=lambda d, t, r: seen.append((d, t, r))
    )
    assert results == ["A.SCH.UK", "B.SCH.UK", "C.COM", "D.ORG"]
    assert [d for d, _, _ in seen] == [1, 2, 3, 4]
    assert {r for _, _, r in seen} == set(results)
    assert all(t == 4 for _, t, _ in seen)


def test_refresh_of_nothing_is_nothing():
    assert run_concurrently([], lambda n: n) == []
