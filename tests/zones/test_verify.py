"""Verification asks the authoritative servers themselves until they serve the change."""

from __future__ import annotations

import pytest
from zones_bind_server import free_port, minimal_zone, new_zone_name
from zones_test_helpers import creating, rec, without_soa

from provisioner.zones.errors import ProviderError
from provisioner.zones.plan import plan as planner
from provisioner.zones.providers.rfc2136 import Rfc2136Provider
from provisioner.zones.verify import expectations, verify


@pytest.fixture
def setup(bind_server):
    zone = new_zone_name()
    bind_server.add_zone(zone, minimal_zone(zone, extra="www IN A 192.0.2.10\nold IN TXT gone\n"))
    provider = Rfc2136Provider(bind_server.address, key_file=bind_server.key_file)
    live = provider.read_zone(zone)
    desired = without_soa(live.records) - {rec(f"old.{zone}", "TXT", 300, '"gone"')} | {
        rec(f"www.{zone}", "A", 300, "192.0.2.20"),
        rec(f"new.{zone}", "MX", 300, "10 mail.example.net."),
    }
    desired -= {rec(f"www.{zone}", "A", 300, "192.0.2.10")}
    return zone, provider, planner(desired, live)


def test_applied_plan_is_verified_on_the_server(bind_server, setup):
    zone, provider, plan = setup
    provider.apply(plan)
    result = verify(plan, provider.nameservers(zone), timeout=5)
    assert result.ok
    [server] = result.servers
    assert server.server == bind_server.address and server.attempts == 1 and not server.pending


def test_verification_waits_until_the_server_serves_the_change(setup):
    zone, provider, plan = setup
    delays = []

    def sleep(seconds):
        delays.append(seconds)
        if len(delays) == 2:  # the change "propagates" during the second wait
            provider.apply(plan)

    result = verify(plan, provider.nameservers(zone), timeout=60, sleep=sleep)
    assert result.ok
    assert result.servers[0].attempts == 3
    assert delays == [0.05, 0.1]


def test_server_that_never_catches_up_is_reported_with_what_it_lacks(setup):
    zone, provider, plan = setup  # never applied
    result = verify(plan, provider.nameservers(zone), timeout=0.3, first_delay=0.05)
    assert not result.ok
    [server] = result.servers
    assert set(server.pending) == {str(e) for e in expectations(plan)}
    assert "still not serving" in result.summary()


def test_each_nameserver_gets_its_own_result(bind_server, setup):
    zone, provider, plan = setup
    provider.apply(plan)
    dead = f"127.0.0.1:{free_port()}"
    result = verify(
        plan, [bind_server.address, dead], timeout=0.3, first_delay=0.05, query_timeout=0.1
    )
    good, bad = result.servers
    assert good.ok and not bad.ok
    assert not result.ok
    assert bad.error and len(bad.pending) == len(plan.changes)


def test_server_not_authoritative_for_the_zone_does_not_count(bind_server):
    plan = creating("absent.example.test", rec("absent.example.test", "A", 60, "192.0.2.1"))
    result = verify(plan, [bind_server.address], timeout=0.1, first_delay=0.05)
    assert not result.ok


def test_backoff_grows_and_is_capped(setup):
    zone, _, plan = setup
    now = [0.0]
    delays = []

    def sleep(seconds):
        delays.append(seconds)
        now[0] += seconds

    result = verify(
        plan,
        ["192.0.2.53:53"],  # never contacted: the checker below answers
        timeout=10,
        first_delay=0.5,
        max_delay=2.0,
        checker=lambda server, exps, t: [False] * len(exps),
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert not result.ok
    assert delays[:4] == [0.5, 1.0, 2.0, 2.0]
    assert sum(delays) == pytest.approx(10)


def test_no_nameservers_or_bad_address_is_an_error(setup):
    _, _, plan = setup
    with pytest.raises(ProviderError, match="no nameservers"):
        verify(plan, [])
    with pytest.raises(ProviderError, match="port 'x' is not a number"):
        verify(plan, ["127.0.0.1:x"])


def test_many_record_sets_and_a_truncated_answer_are_verified(bind_server):
    zone = new_zone_name()
    bind_server.add_zone(zone, minimal_zone(zone))
    provider = Rfc2136Provider(bind_server.address, key_file=bind_server.key_file)
    live = provider.read_zone(zone)
    big_txt = rec(f"big.{zone}", "TXT", 300, *(f'"{i:03d}{"x" * 200}"' for i in range(5)))
    many = {rec(f"h{i}.{zone}", "A", 300, f"198.51.100.{i}") for i in range(200)}
    plan = planner(without_soa(live.records) | many | {big_txt}, live)
    provider.apply(plan)
    # The TXT answer (over 1,000 bytes) is truncated over UDP and fetched again over TCP.
    result = verify(plan, [bind_server.address], timeout=5)
    assert result.ok and result.servers[0].attempts == 1
