"""Properties of plans and zone files over random zones (hypothesis)."""

from __future__ import annotations

import datetime as dt
import tempfile

import dns.rdatatype
import dns.zone
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.zones.plan import apply_to, inverse, plan, verify_unchanged
from provisioner.zones.providers.base import LiveZone
from provisioner.zones.providers.zonefile import ZonefileProvider
from provisioner.zones.records import MANAGED_TYPES, Record, canonical_text, make, parse_value
from provisioner.zones.validate import txt_rdata
from provisioner.zones.zonefile_io import parse_zone_text, render_zone_text

ZONE = "prop.sch.uk"
SOA = make(ZONE, "SOA", 3600, [f"ns1.example. hostmaster.{ZONE}. 2026010100 3600 600 86400 300"])
OWNERS = ["@", "www", "mail", "a.b", "*", "*.staff", "_dmarc", "xn--bcher-kva", "_sip._tls"]
HOSTS = ["mail.example.net.", "www", "@", "host.b", "x.example."]

ttls = st.sampled_from([60, 300, 3600, 86400])
host = st.sampled_from(HOSTS)
value_by_type = {
    "A": st.ip_addresses(v=4).map(str),
    "AAAA": st.ip_addresses(v=6).map(str),
    "MX": st.builds(lambda p, h: f"{p} {h}", st.integers(0, 100), host),
    "NS": host,
    "CNAME": host,
    "PTR": host,
    "SRV": st.builds(
        lambda p, w, port, h: f"{p} {w} {port} {h}",
        st.integers(0, 10),
        st.integers(0, 10),
        st.integers(1, 65535),
        host,
    ),
    "CAA": st.builds(
        lambda tag, v: f'0 {tag} "{v}"',
        st.sampled_from(["issue", "issuewild", "iodef"]),
        st.sampled_from(["letsencrypt.org", "sectigo.com", "mailto:it@x.uk", ";"]),
    ),
    # Any text at all, including quotes, backslashes, non-ASCII and > 255 bytes.
    # (a leading '"' means the quoted presentation form, tested elsewhere).
    "TXT": st.text(max_size=600).filter(lambda t: not t.startswith('"')),
}


def canonical(rtype: str, value: str) -> str:
    if rtype == "TXT":
        return canonical_text(txt_rdata(value))
    return canonical_text(parse_value(rtype, value, ZONE))


@st.composite
def record_sets(draw, owners=OWNERS):
    out = {}
    for owner in draw(st.lists(st.sampled_from(owners), max_size=len(owners), unique=True)):
        name = ZONE if owner == "@" else f"{owner}.{ZONE}"
        types = draw(st.lists(st.sampled_from(sorted(value_by_type)), min_size=1, max_size=3))
        if "CNAME" in types:  # zone files refuse a CNAME beside other data, or at the apex
            types = ["A"] if name == ZONE else ["CNAME"]
        for rtype in types:
            if rtype == "CNAME":
                values = [draw(value_by_type["CNAME"])]
            else:
                values = draw(st.lists(value_by_type[rtype], min_size=1, max_size=3))
            out[(name, rtype)] = make(
                name, rtype, draw(ttls), [canonical(rtype, v) for v in values]
            )
    return out


@st.composite
def zones(draw):
    live = draw(record_sets())
    live[(ZONE, "NS")] = make(ZONE, "NS", 3600, ["ns1.example.", "ns2.example."])
    # Half the time the live zone also holds a type nobody manages.
    if draw(st.booleans()):
        live[(ZONE, "DNSKEY")] = Record(ZONE, "DNSKEY", 3600, ("257 3 13 AQAB",))
    desired = draw(record_sets())
    desired.pop((ZONE, "NS"), None)
    if draw(st.booleans()):
        desired[(ZONE, "NS")] = make(ZONE, "NS", draw(ttls), [canonical("NS", draw(host))])
    # Often keep much of live so updates (not just creates/deletes) show up.
    for key, record in live.items():
        if key not in desired and key[1] in MANAGED_TYPES and draw(st.booleans()):
            types = {t for n, t in desired if n == key[0]}
            if not types or ("CNAME" not in types and key[1] != "CNAME"):
                desired[key] = record
    return LiveZone(ZONE, tuple(sorted({SOA.key: SOA, **live}.values()))), tuple(desired.values())


def expected_after(live: LiveZone, desired) -> set[Record]:
    kept = {r for r in live.records if r.type not in MANAGED_TYPES}  # SOA, DNSKEY
    wanted = set(desired)
    if (ZONE, "NS") not in {r.key for r in desired}:
        kept |= {r for r in live.records if r.key == (ZONE, "NS")}
    return kept | wanted


@settings(max_examples=75, deadline=None)
@given(zones())
def test_applying_the_plan_to_live_gives_desired(case):
    live, desired = case
    reviewed = plan(desired, live)
    after = apply_to(live.records, reviewed)
    assert set(after) == expected_after(live, desired)
    # Planning again from the result has nothing left to do.
    assert plan(desired, LiveZone(ZONE, after)).changes == ()
    assert verify_unchanged(reviewed, live).checksum == reviewed.checksum
    kinds = [c.kind for c in reviewed.changes]
    assert kinds == sorted(kinds, key=["delete", "update", "create"].index)


@settings(max_examples=75, deadline=None)
@given(zones())
def test_rollback_after_apply_restores_live(case):
    live, desired = case
    reviewed = plan(desired, live)
    after = apply_to(live.records, reviewed)
    assert set(apply_to(after, inverse(reviewed))) == set(live.records)


@settings(max_examples=30, deadline=None)
@given(zones())
def test_zonefile_provider_round_trips_through_dnspython(case):
    live, desired = case
    with tempfile.TemporaryDirectory() as directory:
        provider = ZonefileProvider(directory, today=lambda: dt.date(2026, 1, 2))
        path = provider.path(ZONE)
        path.write_text(render_zone_text(ZONE, live.records))
        assert set(provider.read_zone(ZONE).records) == set(live.records)
        reviewed = plan(desired, provider.read_zone(ZONE))
        provider.apply(reviewed)
        stored = provider.read_zone(ZONE)
        expected = {r for r in expected_after(live, desired) if r.type != "SOA"}
        assert {r for r in stored.records if r.type != "SOA"} == expected
        assert stored.serial == (2026010200 if reviewed.changes else 2026010100)
        # dnspython's own reader sees exactly the same rdata.
        text = path.read_text()
        parsed = dns.zone.from_text(text, origin=ZONE + ".", relativize=False, check_origin=False)
        seen = {
            (n.to_text(omit_final_dot=True), dns.rdatatype.to_text(rds.rdtype), rds.ttl): {
                canonical_text(rd) for rd in rds
            }
            for n, rds in parsed.iterate_rdatasets()
        }
        assert seen == {(r.name, r.type, r.ttl): set(r.values) for r in stored.records}
        assert parse_zone_text(text, ZONE) == stored.records
