"""Random zones through a real BIND (hypothesis): whatever the live zone holds,
applying plan(desired, live) makes the server serve exactly `desired`, and applying
the inverse plan restores what was there. One zone is reused, so every example
starts from the state the previous one left: transitions between arbitrary zones.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zones_bind_server import new_zone_name

from provisioner.zones.plan import inverse
from provisioner.zones.plan import plan as planner
from provisioner.zones.providers.rfc2136 import Rfc2136Provider
from provisioner.zones.records import MANAGED_TYPES, canonical_text, make, parse_value
from provisioner.zones.validate import txt_rdata

OWNERS = ["@", "www", "mail", "a.b", "*", "*.staff", "_dmarc", "xn--bcher-kva", "_sip._tls"]
# Targets outside the zone: BIND refuses an in-zone MX/SRV target without an address.
HOSTS = ["mail.example.net.", "x.example.", "host.example.org."]
host = st.sampled_from(HOSTS)
VALUES = {
    "A": st.ip_addresses(v=4).map(str),
    "AAAA": st.ip_addresses(v=6).map(str),
    "MX": st.builds(lambda p, h: f"{p} {h}", st.integers(0, 100), host),
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
        st.sampled_from(["letsencrypt.org", "sectigo.com", "mailto:it@x.uk"]),
    ),
    "TXT": st.text(max_size=400).filter(lambda t: not t.startswith('"')),
}


@pytest.fixture(scope="module")
def live_zone(bind_server):
    zone = new_zone_name()
    bind_server.add_zone(
        zone,
        f"$ORIGIN {zone}.\n$TTL 300\n"
        f"@ IN SOA ns1.example.net. hostmaster.{zone}. 1 3600 600 86400 300\n"
        "@ IN NS ns1.example.net.\n",
    )
    return zone, Rfc2136Provider(bind_server.address, key_file=bind_server.key_file)


def canonical(rtype: str, value: str, zone: str) -> str:
    if rtype == "TXT":
        return canonical_text(txt_rdata(value))
    return canonical_text(parse_value(rtype, value, zone))


@st.composite
def desired_zones(draw, zone: str):
    out = []
    for owner in draw(st.lists(st.sampled_from(OWNERS), max_size=len(OWNERS), unique=True)):
        name = zone if owner == "@" else f"{owner}.{zone}"
        types = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=3, unique=True))
        if "CNAME" in types:  # alone at its name, never at the apex
            types = ["TXT"] if name == zone else ["CNAME"]
        if "_" in owner:  # BIND's check-names: A, AAAA and MX owners must be host names
            types = [t for t in types if t not in ("A", "AAAA", "MX")] or ["TXT"]
        for rtype in types:
            count = 1 if rtype == "CNAME" else draw(st.integers(1, 3))
            values = draw(st.lists(VALUES[rtype], min_size=count, max_size=count))
            ttl = draw(st.sampled_from([60, 300, 3600]))
            out.append(make(name, rtype, ttl, [canonical(rtype, v, zone) for v in values]))
    return out


def managed(records) -> set:
    return {r for r in records if r.type in MANAGED_TYPES}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_bind_serves_exactly_the_desired_zone_and_inverse_restores(live_zone, data):
    zone, provider = live_zone
    desired = data.draw(desired_zones(zone))
    apex_ns = make(zone, "NS", 300, ["ns1.example.net."])
    before = provider.read_zone(zone)

    applied = planner(desired, before)
    provider.apply(applied)
    after = provider.read_zone(zone)
    assert managed(after.records) == set(desired) | {apex_ns}
    assert planner(desired, after).changes == ()

    provider.apply(inverse(applied))
    assert managed(provider.read_zone(zone).records) == managed(before.records)
