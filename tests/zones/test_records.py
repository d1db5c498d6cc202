"""Record constructors: canonical values, and the parser shortcut agreeing with dnspython."""

from __future__ import annotations

import dns.exception
import dns.rdata
import dns.rdataclass
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.zones.records import (
    Record,
    canonical_text,
    canonical_value,
    from_rdataset,
    from_text,
    parse_value,
    record_to_dict,
    to_rdataset,
)

ZONE = "school.sch.uk"


def by_dnspython(rtype: str, text: str) -> str | None:
    try:
        return canonical_text(parse_value(rtype, text, ZONE))
    except (dns.exception.DNSException, ValueError):
        return None


ipv6_texts = st.one_of(
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=6).map(lambda a: str(a).upper()),
    st.ip_addresses(v=6).map(lambda a: f"{a}%eth0"),
)
txt_texts = st.one_of(
    st.lists(st.text(max_size=300), min_size=1, max_size=3).map(
        lambda parts: " ".join(f'"{p}"' for p in parts)
    ),
    st.text(alphabet='"\\ ab;', max_size=12),
)
ipv4_texts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.lists(st.integers(0, 300).map(str), min_size=3, max_size=5).map(".".join),
    st.lists(st.integers(0, 9).map(lambda d: f"0{d}"), min_size=4, max_size=4).map(".".join),
)


host_texts = st.lists(
    st.text(alphabet="abAB09_-.*", min_size=0, max_size=8), min_size=1, max_size=4
).map(".".join) | st.just(".")
number_texts = st.integers(0, 70000).map(str) | st.just("007")
named_texts = st.one_of(
    host_texts.map(lambda h: ("CNAME", h)),
    host_texts.map(lambda h: ("NS", h + ".")),
    st.tuples(number_texts, host_texts).map(lambda t: ("MX", f"{t[0]} {t[1]}.")),
    st.tuples(number_texts, number_texts, number_texts, host_texts).map(
        lambda t: ("SRV", f"{t[0]} {t[1]} {t[2]} {t[3]}.")
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        ipv4_texts.map(lambda t: ("A", t)),
        ipv6_texts.map(lambda t: ("AAAA", t)),
        txt_texts.map(lambda t: ("TXT", t)),
        named_texts,
    )
)
def test_the_parser_shortcut_gives_exactly_what_dnspython_gives(case):
    rtype, text = case
    expected = by_dnspython(rtype, text)
    try:
        got = canonical_value(rtype, text, ZONE)
    except (dns.exception.DNSException, ValueError):
        got = None
    assert got == expected


def test_from_text_canonicalises_and_sorts():
    record = from_text(f"mail.{ZONE}", "mx", 300, ["20 B.Example.", "10 a"], ZONE)
    assert record == Record(f"mail.{ZONE}", "MX", 300, (f"10 a.{ZONE}.", "20 b.example."))


def test_rdataset_round_trip():
    record = from_text(ZONE, "TXT", 300, ['"v=spf1 -all"', '"a" "b"'], ZONE)
    rdataset = to_rdataset(record)
    assert from_rdataset(ZONE, rdataset) == record
    assert record_to_dict(record, ZONE) == {
        "name": "@",
        "type": "TXT",
        "ttl": 300,
        "values": ['"a" "b"', '"v=spf1 -all"'],
    }
    assert dns.rdata.from_text(dns.rdataclass.IN, "TXT", record.values[0]).strings == (b"a", b"b")
