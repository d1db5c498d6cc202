"""Plans: changes, order, safety, checksum, re-verification, inverse and pure apply."""

from __future__ import annotations

import json

import pytest

from provisioner.zones.errors import ConflictError, PlanChanged, UnsafePlan
from provisioner.zones.plan import (
    Create,
    Delete,
    Update,
    apply_to,
    inverse,
    plan,
    plan_from_dict,
    verify_unchanged,
)
from provisioner.zones.providers.base import LiveZone
from provisioner.zones.records import Record, make

ZONE = "school.sch.uk"
SOA = make(ZONE, "SOA", 3600, [f"ns1.example. hostmaster.{ZONE}. 2026112901 3600 600 1209600 300"])
NS = make(ZONE, "NS", 3600, ["ns1.example.", "ns2.example."])


def a(name, *ips, ttl=3600):
    return make(f"{name}.{ZONE}", "A", ttl, ips)


def live_zone(*records):
    return LiveZone(ZONE, (SOA, NS, *records), 2026112901)


def test_create_update_delete_in_server_friendly_order():
    live = live_zone(a("old", "192.0.2.1"), a("web", "192.0.2.2"), a("www", "192.0.2.3"))
    www_cname = make(f"www.{ZONE}", "CNAME", 3600, ["web.school.sch.uk."])
    desired = [a("web", "192.0.2.9"), www_cname, a("new", "192.0.2.4")]
    result = plan(desired, live)
    assert result.changes == (
        Delete(a("old", "192.0.2.1")),
        Delete(a("www", "192.0.2.3")),  # the A at www goes before the CNAME arrives
        Update(a("web", "192.0.2.2"), a("web", "192.0.2.9")),
        Create(a("new", "192.0.2.4")),
        Create(www_cname),
    )
    assert result.describe()[2] == "~ A web 3600 192.0.2.2 -> 3600 192.0.2.9"


def test_identical_zones_give_an_empty_plan():
    live = live_zone(a("web", "192.0.2.2"))
    result = plan([a("web", "192.0.2.2")], live)
    assert not result and result.changes == ()


def test_ttl_only_change_is_an_update():
    live = live_zone(a("web", "192.0.2.2"))
    [change] = plan([a("web", "192.0.2.2", ttl=300)], live).changes
    assert isinstance(change, Update) and change.new.ttl == 300


def test_soa_is_never_planned_and_apex_ns_only_when_desired():
    live = live_zone(a("web", "192.0.2.2"))
    other_soa = make(ZONE, "SOA", 60, ["a. b. 1 1 1 1 1"])
    assert plan([other_soa, a("web", "192.0.2.2")], live).changes == ()
    new_ns = make(ZONE, "NS", 3600, ["ns1.other.example."])
    [change] = plan([new_ns, a("web", "192.0.2.2")], live).changes
    assert change == Update(NS, new_ns)


def test_unmanaged_types_are_left_alone():
    dnskey = Record(ZONE, "DNSKEY", 3600, ("257 3 13 AAAA",))
    live = LiveZone(ZONE, (SOA, NS, dnskey, a("web", "192.0.2.2")))
    assert plan([a("web", "192.0.2.2")], live).changes == ()


def test_changing_apex_ns_is_unsafe_without_force():
    live = live_zone(a("web", "192.0.2.2"))
    result = plan([make(ZONE, "NS", 3600, ["ns9.example."]), a("web", "192.0.2.2")], live)
    with pytest.raises(UnsafePlan) as caught:
        result.raise_if_unsafe()
    assert "apex NS records of school.sch.uk" in caught.value.message
    result.raise_if_unsafe(force=True)


def test_more_than_30_percent_of_a_big_zone_is_unsafe():
    hosts = [a(f"h{i}", f"192.0.2.{i}") for i in range(10)]
    live = live_zone(*hosts)  # 11 managed record sets with the apex NS
    three = plan(hosts[3:] + [NS], live)
    assert three.unsafe_reasons() == []
    four = plan(hosts[4:] + [NS], live)
    with pytest.raises(UnsafePlan) as caught:
        four.raise_if_unsafe()
    assert "updates or deletes 4 of 11 record sets (36%)" in caught.value.message
    four.raise_if_unsafe(force=True)


def test_small_zones_and_creates_are_never_unsafe_by_count():
    live = live_zone(a("h1", "192.0.2.1"))
    assert plan([NS], live).unsafe_reasons() == []
    many = [a(f"n{i}", "192.0.2.1") for i in range(50)]
    assert plan(many, live_zone(*[a(f"h{i}", "192.0.2.1") for i in range(20)])).counts() == {
        "create": 50,
        "update": 0,
        "delete": 20,
    }


def test_checksum_is_stable_and_depends_on_every_detail():
    live = live_zone(a("web", "192.0.2.2"))
    one = plan([a("web", "192.0.2.3")], live)
    assert one.checksum == plan([a("web", "192.0.2.3")], live).checksum
    assert len(one.checksum) == 64
    assert one.checksum != plan([a("web", "192.0.2.3", ttl=60)], live).checksum
    assert one.checksum != plan([a("web", "192.0.2.4")], live).checksum


def test_verify_unchanged_passes_when_live_is_the_same():
    live = live_zone(a("web", "192.0.2.2"))
    reviewed = plan([a("web", "192.0.2.3")], live)
    assert verify_unchanged(reviewed, live).checksum == reviewed.checksum


def test_verify_unchanged_refuses_after_a_concurrent_edit():
    live = live_zone(a("web", "192.0.2.2"))
    reviewed = plan([a("web", "192.0.2.3"), a("mail", "192.0.2.5")], live)
    edited = live_zone(a("web", "192.0.2.99"), a("mail", "192.0.2.5"))
    with pytest.raises(PlanChanged) as caught:
        verify_unchanged(reviewed, edited)
    assert "changed since the plan was reviewed" in caught.value.message
    assert "now: ~ A web 3600 192.0.2.99 -> 3600 192.0.2.3" in caught.value.fields["differences"]
    assert "no longer: + A mail 3600 192.0.2.5" in caught.value.fields["differences"]


def test_apply_to_gives_the_desired_zone_and_keeps_soa():
    live = live_zone(a("old", "192.0.2.1"), a("web", "192.0.2.2"))
    desired = [NS, a("web", "192.0.2.9"), a("new", "192.0.2.4")]
    after = apply_to(live.records, plan(desired, live))
    assert set(after) == {SOA, *desired}


def test_apply_to_refuses_when_a_touched_rrset_changed():
    live = live_zone(a("web", "192.0.2.2"))
    reviewed = plan([a("web", "192.0.2.9"), a("new", "192.0.2.4")], live)
    moved = live_zone(a("web", "192.0.2.7"), a("new", "192.0.2.4"))
    with pytest.raises(ConflictError) as caught:
        apply_to(moved.records, reviewed)
    assert caught.value.fields["record_sets"] == ["A web.school.sch.uk", "A new.school.sch.uk"]


def test_inverse_restores_the_live_zone():
    live = live_zone(a("old", "192.0.2.1"), a("web", "192.0.2.2"))
    forward = plan([NS, a("web", "192.0.2.9"), a("new", "192.0.2.4")], live)
    after = apply_to(live.records, forward)
    back = inverse(forward)
    assert set(apply_to(after, back)) == set(live.records)
    # The rollback is itself a plan that re-verifies against the zone it undoes.
    assert verify_unchanged(back, LiveZone(ZONE, after)).checksum == back.checksum


def test_changes_expose_existing_and_desired_for_providers():
    create, delete = Create(a("n", "192.0.2.1")), Delete(a("o", "192.0.2.1"))
    assert (create.existing, create.desired) == (None, a("n", "192.0.2.1"))
    assert (delete.existing, delete.desired) == (a("o", "192.0.2.1"), None)


def test_plan_to_dict_for_the_api():
    live = live_zone(a("web", "192.0.2.2"))
    out = plan([NS, a("web", "192.0.2.3")], live).to_dict()
    assert out["changes"] == [
        {
            "action": "update",
            "name": "web",
            "type": "A",
            "old": {"ttl": 3600, "values": ["192.0.2.2"]},
            "new": {"ttl": 3600, "values": ["192.0.2.3"]},
        }
    ]
    assert out["unsafe"] == [] and len(out["checksum"]) == 64


def test_a_stored_plan_reads_back_and_is_verified_by_its_touched_record_sets():
    live = live_zone(a("old", "192.0.2.1"), a("web", "192.0.2.2"))
    reviewed = plan([NS, a("web", "192.0.2.9"), a("new", "192.0.2.4")], live)
    stored = json.loads(json.dumps(reviewed.to_dict()))
    loaded = plan_from_dict(stored)
    assert loaded.changes == reviewed.changes and loaded.checksum == reviewed.checksum
    assert verify_unchanged(loaded, live) is loaded
    edited = live_zone(a("old", "192.0.2.1"), a("web", "192.0.2.77"))
    with pytest.raises(PlanChanged) as caught:
        verify_unchanged(loaded, edited)
    assert caught.value.fields["differences"] == ["A web.school.sch.uk is now 3600 192.0.2.77"]
    back = inverse(loaded)
    after = apply_to(live.records, loaded)
    assert set(apply_to(after, back)) == set(live.records)


def test_a_tampered_stored_plan_is_refused():
    live = live_zone(a("web", "192.0.2.2"))
    stored = plan([NS, a("web", "192.0.2.9")], live).to_dict()
    stored["changes"][0]["new"]["values"] = ["203.0.113.66"]
    with pytest.raises(PlanChanged) as caught:
        plan_from_dict(stored)
    assert "does not match its checksum" in caught.value.message
