"""The rfc2136 provider against a real BIND 9.18 (started by the bind_server fixture)."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.query
import dns.rcode
import pytest
from zones_bind_server import free_port, minimal_zone, new_zone_name
from zones_test_helpers import creating, rec, without_soa

from provisioner.zones.errors import ConflictError, ProviderError, ZoneNotFound
from provisioner.zones.plan import inverse
from provisioner.zones.plan import plan as planner
from provisioner.zones.providers.rfc2136 import Rfc2136Provider, load_tsig_key

ZONE_EXTRA = """\
www IN A 192.0.2.10
www IN A 192.0.2.11
@ IN MX 10 mail.example.net.
@ IN TXT "v=spf1 -all"
old IN CNAME www
"""


@pytest.fixture
def provider(bind_server):
    return Rfc2136Provider(bind_server.address, key_file=bind_server.key_file, timeout=3.0)


@pytest.fixture
def zone(bind_server):
    name = new_zone_name()
    bind_server.add_zone(name, minimal_zone(name, extra=ZONE_EXTRA))
    return name


def _served(server, name, rtype):
    q = dns.message.make_query(name, rtype)
    r = dns.query.udp(q, server.host, port=server.port, timeout=2)
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    return sorted(
        rd.to_text() for rrset in r.answer for rd in rrset if rrset.name.to_text(True) == name
    )


def test_adopt_reads_every_record_by_axfr(provider, zone):
    live = provider.read_zone(zone)
    assert live.serial == 1
    assert rec(f"www.{zone}", "A", 300, "192.0.2.10", "192.0.2.11") in live.records
    assert rec(zone, "MX", 300, "10 mail.example.net.") in live.records
    assert rec(zone, "TXT", 300, '"v=spf1 -all"') in live.records
    assert rec(f"old.{zone}", "CNAME", 300, f"www.{zone}.") in live.records
    assert rec(zone, "NS", 300, f"ns1.{zone}.") in live.records


def test_apply_plan_is_served_and_inverse_restores(provider, bind_server, zone):
    before = provider.read_zone(zone)
    desired = without_soa(before.records) - {
        rec(f"old.{zone}", "CNAME", 300, f"www.{zone}."),
        rec(f"www.{zone}", "A", 300, "192.0.2.10", "192.0.2.11"),
    } | {
        rec(f"www.{zone}", "A", 600, "192.0.2.20"),
        rec(f"new.{zone}", "AAAA", 300, "2001:db8::1"),
        rec(f"_sip._tcp.{zone}", "SRV", 300, f"10 5 5060 sip.{zone}."),
    }
    plan = planner(desired, before)
    result = provider.apply(plan)

    assert result.atomic and result.messages == 1
    assert _served(bind_server, f"www.{zone}", "A") == ["192.0.2.20"]
    assert _served(bind_server, f"new.{zone}", "AAAA") == ["2001:db8::1"]
    assert _served(bind_server, f"old.{zone}", "CNAME") == []
    after = provider.read_zone(zone)
    assert without_soa(after.records) == desired
    assert after.serial > before.serial

    provider.apply(inverse(plan))
    assert without_soa(provider.read_zone(zone).records) == without_soa(before.records)
    assert _served(bind_server, f"www.{zone}", "A") == ["192.0.2.10", "192.0.2.11"]


def test_concurrent_edit_between_plan_and_apply_conflicts_and_changes_nothing(
    provider, bind_server, zone
):
    before = provider.read_zone(zone)
    desired = without_soa(before.records) - {
        rec(f"www.{zone}", "A", 300, "192.0.2.10", "192.0.2.11")
    } | {rec(f"www.{zone}", "A", 300, "192.0.2.99"), rec(f"api.{zone}", "A", 300, "192.0.2.5")}
    plan = planner(desired, before)

    # Someone edits www by hand after the plan was reviewed.
    bind_server.nsupdate(f"zone {zone}\nupdate add www.{zone}. 300 A 192.0.2.77")
    edited = provider.read_zone(zone)

    with pytest.raises(ConflictError) as caught:
        provider.apply(plan)
    assert f"www.{zone} A changed on the server" in caught.value.message
    assert "changed nothing" in caught.value.message
    assert provider.read_zone(zone) == edited  # not even the unrelated api create happened
    assert _served(bind_server, f"api.{zone}", "A") == []


def test_records_typed_in_mixed_case_by_hand_can_be_updated(provider, bind_server, zone):
    bind_server.nsupdate(f"zone {zone}\nupdate add Shop.{zone.upper()}. 300 MX 5 Mail.Example.NET.")
    live = provider.read_zone(zone)
    mx = rec(f"shop.{zone}", "MX", 300, "5 mail.example.net.")
    assert mx in live.records  # names are compared case-insensitively, held lower-case
    desired = without_soa(live.records) - {mx} | {
        rec(f"shop.{zone}", "MX", 300, "10 mx.example.net.")
    }
    provider.apply(planner(desired, live))
    assert _served(bind_server, f"shop.{zone}", "MX") == ["10 mx.example.net."]


def test_concurrent_create_conflicts(provider, bind_server, zone):
    before = provider.read_zone(zone)
    plan = planner(
        without_soa(before.records) | {rec(f"api.{zone}", "A", 300, "192.0.2.5")}, before
    )
    bind_server.nsupdate(f"zone {zone}\nupdate add api.{zone}. 300 A 192.0.2.6")
    with pytest.raises(ConflictError, match=f"api.{zone} A changed"):
        provider.apply(plan)
    assert _served(bind_server, f"api.{zone}", "A") == ["192.0.2.6"]


def test_concurrent_delete_conflicts(provider, bind_server, zone):
    before = provider.read_zone(zone)
    plan = planner(
        without_soa(before.records) - {rec(f"old.{zone}", "CNAME", 300, f"www.{zone}.")}
        | {rec(f"x.{zone}", "A", 60, "192.0.2.1")},
        before,
    )
    bind_server.nsupdate(f"zone {zone}\nupdate delete old.{zone}. CNAME")
    with pytest.raises(ConflictError, match=f"old.{zone} CNAME"):
        provider.apply(plan)
    assert _served(bind_server, f"x.{zone}", "A") == []


def test_wrong_tsig_secret_is_a_clear_error(bind_server, zone):
    good = bind_server.key_file.read_text()
    secret = good.split('secret "')[1].split('"')[0]
    wrong = good.replace(secret, "A" * 43 + "=")
    provider = Rfc2136Provider(bind_server.address, key_text=wrong, timeout=3.0)
    with pytest.raises(ProviderError, match="secret is wrong"):
        provider.read_zone(zone)
    plan = creating(zone, rec(f"x.{zone}", "A", 60, "192.0.2.1"))
    with pytest.raises(ProviderError, match="secret is wrong.*nothing was changed"):
        provider.apply(plan)
    assert _served(bind_server, f"x.{zone}", "A") == []


def test_unknown_key_is_a_clear_error(bind_server, zone):
    text = bind_server.key_file.read_text().replace(bind_server.key_name, "stranger")
    provider = Rfc2136Provider(bind_server.address, key_text=text, timeout=3.0)
    with pytest.raises(ProviderError, match="does not know TSIG key 'stranger'"):
        provider.read_zone(zone)


def test_frozen_zone_refuses_with_clear_error(provider, bind_server, zone):
    plan = creating(zone, rec(f"x.{zone}", "A", 60, "192.0.2.1"))
    bind_server.rndc("freeze", zone)
    try:
        with pytest.raises(ProviderError, match="REFUSED") as caught:
            provider.apply(plan)
        assert "frozen" in caught.value.message
    finally:
        bind_server.rndc("thaw", zone)
    assert _served(bind_server, f"x.{zone}", "A") == []


def test_server_side_integrity_refusal_is_explained(provider, bind_server, zone):
    # BIND refuses an in-zone MX target that has no address record.
    plan = creating(zone, rec(f"m.{zone}", "MX", 60, f"10 nohost.{zone}."))
    with pytest.raises(ProviderError, match="REFUSED") as caught:
        provider.apply(plan)
    assert "MX or SRV target without an address" in caught.value.message
    assert _served(bind_server, f"m.{zone}", "MX") == []


def test_record_outside_the_zone_is_notzone(provider, bind_server, zone):
    plan = creating(
        zone, rec(f"in.{zone}", "A", 60, "192.0.2.1"), rec("x.elsewhere.test", "A", 60, "192.0.2.1")
    )
    with pytest.raises(
        ProviderError, match=f"outside zone {zone} \\(NOTZONE\\); nothing was changed"
    ):
        provider.apply(plan)
    assert _served(bind_server, f"in.{zone}", "A") == []


def test_zone_not_on_server(provider):
    with pytest.raises(ZoneNotFound, match="does not serve zone absent.example.test"):
        provider.read_zone("absent.example.test")
    with pytest.raises(ProviderError, match="not configured on"):
        provider.create_zone("absent.example.test")


def test_create_zone_returns_existing_zone(provider, zone):
    assert provider.create_zone(zone).serial == 1


def test_update_of_zone_the_server_does_not_serve(provider):
    plan = creating("absent.example.test", rec("x.absent.example.test", "A", 60, "192.0.2.1"))
    with pytest.raises(ProviderError, match="NOTAUTH"):
        provider.apply(plan)


def test_plan_too_large_for_one_message_is_split_and_says_so(bind_server, zone):
    provider = Rfc2136Provider(
        bind_server.address, key_file=bind_server.key_file, max_message_size=2048
    )
    live = provider.read_zone(zone)
    extra = {rec(f"h{i}.{zone}", "A", 300, f"198.51.100.{i}") for i in range(200)}
    result = provider.apply(planner(without_soa(live.records) | extra, live))
    assert not result.atomic and result.messages > 1
    assert "not atomic" in result.detail
    assert extra <= set(provider.read_zone(zone).records)


def test_apex_ns_can_be_replaced(provider, bind_server, zone):
    live = provider.read_zone(zone)
    old_ns = rec(zone, "NS", 300, f"ns1.{zone}.")
    new = without_soa(live.records) - {old_ns} | {
        rec(zone, "NS", 300, f"ns2.{zone}."),
        rec(f"ns2.{zone}", "A", 300, "127.0.0.1"),
    }
    provider.apply(planner(new, live))
    assert _served(bind_server, zone, "NS") == [f"ns2.{zone}."]


def test_silent_server_times_out_with_clear_error(zone, bind_server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    provider = Rfc2136Provider(
        f"127.0.0.1:{listener.getsockname()[1]}", key_file=bind_server.key_file, timeout=0.3
    )
    plan = creating(zone, rec(f"x.{zone}", "A", 60, "192.0.2.1"))
    try:
        with pytest.raises(
            ProviderError,
            match="did not answer the update within 0.3 s.*may or may not have been applied",
        ):
            provider.apply(plan)
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()


def test_nothing_listening_is_a_clear_error(bind_server, zone):
    provider = Rfc2136Provider(f"127.0.0.1:{free_port()}", key_file=bind_server.key_file)
    with pytest.raises(ProviderError, match="refused the connection"):
        provider.read_zone(zone)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no `key"),
        ('key "k" { algorithm hmac-sha256; };', "needs both an algorithm and a secret"),
        (
            'key "a" { algorithm hmac-sha256; secret "YWFh"; };\n'
            'key "b" { algorithm hmac-sha256; secret "YWFh"; };',
            "several keys",
        ),
        ('key "k" { algorithm hmac-nope; secret "YWFh"; };', "not usable"),
    ],
)
def test_bad_key_files_are_named(text, problem):
    with pytest.raises(ProviderError, match=problem):
        load_tsig_key(text, source="school.key")


def test_missing_key_file_is_named(tmp_path):
    with pytest.raises(ProviderError, match="cannot read TSIG key file .*nope.key"):
        Rfc2136Provider("127.0.0.1:53", key_file=tmp_path / "nope.key")


def test_repr_never_shows_the_secret(bind_server):
    provider = Rfc2136Provider(bind_server.address, key_file=bind_server.key_file)
    secret = bind_server.key_file.read_text().split('secret "')[1].split('"')[0]
    assert secret not in repr(provider)
