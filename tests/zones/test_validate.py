"""Every validation rule a school's DNS request meets, one message per bad change."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.zones.errors import InvalidRecords
from provisioner.zones.records import Record
from provisioner.zones.validate import (
    Rules,
    desired_from_changes,
    desired_from_records,
    normalise_zone,
)
from provisioner.zones.zonefile_io import parse_zone_text

ZONE = "stmarys.essex.sch.uk"
FIXTURE = Path(__file__).with_name("fixtures") / f"{ZONE}.db"


@pytest.fixture(scope="module")
def live():
    return parse_zone_text(FIXTURE.read_text(), ZONE)


def change(action="add", name="intranet", rtype="A", values=("192.0.2.10",), ttl=None):
    out = {"action": action, "name": name, "type": rtype}
    if values is not None:
        out["values"] = list(values)
    if ttl is not None:
        out["ttl"] = ttl
    return out


def reasons(live, *changes, rules=Rules()):
    with pytest.raises(InvalidRecords) as caught:
        desired_from_changes(ZONE, list(changes), live, rules)
    return caught.value.reasons


def records(desired):
    return {r.key: r for r in desired.records}


def test_contract_example_builds_the_desired_zone(live):
    desired = desired_from_changes(
        ZONE,
        [
            change(name="newhost", values=["192.0.2.10"], ttl=3600),
            change("replace", "@", "MX", ["10 mail.example.net."]),
            change("delete", "learning", "CNAME", values=None),
        ],
        live,
    )
    got = records(desired)
    assert got[(f"newhost.{ZONE}", "A")] == Record(f"newhost.{ZONE}", "A", 3600, ("192.0.2.10",))
    assert got[(ZONE, "MX")].values == ("10 mail.example.net.",)
    assert got[(ZONE, "MX")].ttl == 3600  # replace without a TTL keeps the live one
    assert (f"learning.{ZONE}", "CNAME") not in got
    assert desired.warnings == ()


def test_add_joins_existing_values_and_delete_can_remove_one(live):
    desired = desired_from_changes(
        ZONE,
        [
            change(name="vpn", values=["192.0.2.22"]),
            change("delete", "@", "TXT", ["MS=ms91827364"]),
        ],
        live,
    )
    got = records(desired)
    assert got[(f"vpn.{ZONE}", "A")].values == ("192.0.2.21", "192.0.2.22")
    assert got[(ZONE, "TXT")].values == ('"v=spf1 include:spf.protection.outlook.com -all"',)


def test_names_may_be_relative_fqdn_or_fqdn_with_dot(live):
    desired = desired_from_changes(
        ZONE,
        [
            change(name="a"),
            change(name=f"b.{ZONE}"),
            change(name=f"C.{ZONE.upper()}."),
            change(name="@", rtype="AAAA", values=["2001:DB8::0:1"]),
        ],
        live,
    )
    got = records(desired)
    for name in ("a", "b", "c"):
        assert (f"{name}.{ZONE}", "A") in got
    assert got[(ZONE, "AAAA")].values == ("2001:db8::1",)


def test_relative_values_are_made_absolute_and_names_lower_cased(live):
    desired = desired_from_changes(
        ZONE, [change("replace", "@", "MX", ["10 Mail", "20 BACKUP.Example.NET."])], live
    )
    assert records(desired)[(ZONE, "MX")].values == (f"10 mail.{ZONE}.", "20 backup.example.net.")


def test_a_relative_target_that_looks_qualified_gets_a_warning(live):
    desired = desired_from_changes(
        ZONE, [change("replace", "@", "MX", ["10 mail.example.net"])], live
    )
    assert records(desired)[(ZONE, "MX")].values == (f"10 mail.example.net.{ZONE}.",)
    assert "no trailing dot" in desired.warnings[0]


def test_name_outside_the_zone_is_refused(live):
    assert reasons(live, change(name="www.example.com.")) == [
        "change 1 (A www.example.com.): www.example.com. is not inside the zone"
        " stmarys.essex.sch.uk"
    ]


def test_cname_must_be_alone_at_its_name(live):
    [message] = reasons(live, change(name="www", values=["192.0.2.1"]))
    assert message.startswith("change 1 (A www): a CNAME must be alone")


def test_cname_is_refused_where_other_data_exists(live):
    [message] = reasons(live, change(name="vpn", rtype="CNAME", values=["host.example.net."]))
    assert message.startswith("change 1 (CNAME vpn): a CNAME must be alone")
    assert "A, AAAA" in message


def test_cname_replacing_other_data_in_one_request_is_fine(live):
    desired = desired_from_changes(
        ZONE,
        [
            change("delete", "remote", "A", values=None),
            change(name="remote", rtype="CNAME", values=["vpn.example.net."]),
        ],
        live,
    )
    assert records(desired)[(f"remote.{ZONE}", "CNAME")].values == ("vpn.example.net.",)


def test_cname_never_at_the_apex(live):
    assert reasons(live, change(name="@", rtype="CNAME", values=["example.net."])) == [
        "change 1 (CNAME @): a CNAME is not allowed at the zone apex"
    ]


def test_cname_holds_one_target(live):
    [message] = reasons(live, change(name="x", rtype="CNAME", values=["a.example.", "b.example."]))
    assert "exactly one target" in message


@pytest.mark.parametrize(
    ("rtype", "value", "shown"),
    [
        ("MX", "10 192.0.2.25", "192.0.2.25"),
        ("MX", "10 192.0.2.25.", "192.0.2.25"),
        ("SRV", "10 5 5060 2001:db8::5", "2001:db8::5"),
        ("NS", "198.51.100.1.", "198.51.100.1"),
        ("CNAME", "192.0.2.1", "192.0.2.1"),
    ],
)
def test_targets_must_be_host_names_not_addresses(live, rtype, value, shown):
    [message] = reasons(live, change(name="sub", rtype=rtype, values=[value]))
    assert message == (
        f"change 1 ({rtype} sub): target {shown} is an address; {rtype} needs a host name"
    )


def test_long_txt_is_split_into_255_byte_strings(live):
    key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "x" * 400
    desired = desired_from_changes(
        ZONE, [change(name="s1._domainkey", rtype="TXT", values=[f"v=DKIM1; k=rsa; p={key}"])], live
    )
    [value] = records(desired)[(f"s1._domainkey.{ZONE}", "TXT")].values
    strings = value.split('" "')
    assert len(strings) == 2
    assert len(strings[0].strip('"')) == 255
    assert "".join(s.strip('"') for s in strings) == f"v=DKIM1; k=rsa; p={key}"


def test_quoted_txt_strings_are_kept_and_long_ones_split(live):
    desired = desired_from_changes(
        ZONE, [change(name="t", rtype="TXT", values=['"short" "' + "y" * 300 + '"'])], live
    )
    [value] = records(desired)[(f"t.{ZONE}", "TXT")].values
    assert value == '"short" "' + "y" * 255 + '" "' + "y" * 45 + '"'


def test_one_spf_record_per_name(live):
    assert reasons(live, change(name="@", rtype="TXT", values=["v=spf1 mx -all"])) == [
        "change 1 (TXT @): stmarys.essex.sch.uk has more than one SPF record"
    ]


def test_replacing_the_spf_record_is_fine(live):
    desired = desired_from_changes(
        ZONE,
        [change("replace", "@", "TXT", ["v=spf1 mx -all", "MS=ms91827364"])],
        live,
    )
    assert '"v=spf1 mx -all"' in records(desired)[(ZONE, "TXT")].values


@pytest.mark.parametrize("ttl", [59, 86401, -1, "soon", True])
def test_ttl_outside_bounds_or_not_a_number(live, ttl):
    [message] = reasons(live, change(ttl=ttl))
    assert message.startswith("change 1 (A intranet): TTL")


def test_ttl_bounds_are_configurable(live):
    strict = Rules(ttl_min=300, ttl_max=3600)
    assert reasons(live, change(ttl=120), rules=strict) == [
        "change 1 (A intranet): TTL 120 is outside the allowed 300-3600 seconds"
    ]


def test_idn_names_become_punycode(live):
    desired = desired_from_changes(ZONE, [change(name="Bücher")], live)
    assert (f"xn--bcher-kva.{ZONE}", "A") in records(desired)
    assert normalise_zone("Bücher.Example.") == "xn--bcher-kva.example"


@pytest.mark.parametrize("name", ["*", "*.staff", "*._tcp"])
def test_wildcards_where_legal(live, name):
    desired = desired_from_changes(ZONE, [change(name=name)], live)
    assert (f"{name}.{ZONE}", "A") in records(desired)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("staff.*", "must be the leftmost label"),
        ("st*ff", "must be a whole label"),
        ("my server", "letters, digits, hyphens and underscores"),
        ("-bad", "may not start or end with a hyphen"),
        ("a..b", "is not a valid name"),
        ("x" * 64, "is not a valid name"),
    ],
)
def test_illegal_names(live, name, expected):
    [message] = reasons(live, change(name=name))
    assert expected in message


def test_wildcard_ns_is_refused(live):
    [message] = reasons(live, change(name="*.sub", rtype="NS", values=["ns.example.net."]))
    assert "NS records cannot be wildcards" in message


def test_unparseable_values_name_the_value(live):
    assert reasons(live, change(values=["192.0.2"])) == [
        "change 1 (A intranet): '192.0.2' is not a valid A value (Text input is malformed)"
    ]
    [message] = reasons(live, change(rtype="MX", values=["mail.example.net."]))
    assert "'mail.example.net.' is not a valid MX value" in message


def test_soa_and_unsupported_types_are_refused(live):
    assert reasons(
        live, change(rtype="SOA", values=["a. b. 1 2 3 4 5"]), change(rtype="HINFO")
    ) == [
        "change 1 (SOA intranet): the SOA record is managed by the server and cannot be changed",
        "change 2 (HINFO intranet): type 'HINFO' is not supported; use one of "
        "A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT",
    ]


def test_delete_of_missing_record_or_value(live):
    assert reasons(
        live,
        change("delete", "ghost", "A", values=None),
        change("delete", "vpn", "A", ["192.0.2.99"]),
    ) == [
        "change 1 (A ghost): there is no A record at ghost.stmarys.essex.sch.uk to delete",
        "change 2 (A vpn): 192.0.2.99 is not a value of A vpn.stmarys.essex.sch.uk",
    ]


def test_add_of_existing_value_is_refused(live):
    [message] = reasons(live, change(name="vpn", values=["192.0.2.21"]))
    assert "192.0.2.21 already exists" in message


def test_every_bad_change_gets_its_own_message_and_nothing_is_returned(live):
    messages = reasons(
        live,
        change(name="ok"),
        change(action="frob"),
        change("replace", "@", "MX", ["10 192.0.2.1"]),
        "not an object",
        change(values=[]),
    )
    assert [m.split(":")[0] for m in messages] == [
        "change 2 (A intranet)",
        "change 3 (MX @)",
        "change 4",
        "change 5 (A intranet)",
    ]


def test_caa_and_srv_and_ptr_parse(live):
    desired = desired_from_changes(
        ZONE,
        [
            change(
                "replace", "@", "CAA", ['0 issue "letsencrypt.org"', '0 iodef "mailto:it@x.uk"']
            ),
            change(name="_xmpp._tcp", rtype="SRV", values=["5 0 5269 xmpp"]),
            change(name="10", rtype="PTR", values=["host.example.net."]),
        ],
        live,
    )
    got = records(desired)
    assert got[(f"_xmpp._tcp.{ZONE}", "SRV")].values == (f"5 0 5269 xmpp.{ZONE}.",)
    assert len(got[(ZONE, "CAA")].values) == 2


def test_mx_pointing_at_a_cname_is_a_warning(live):
    desired = desired_from_changes(ZONE, [change("replace", "@", "MX", ["10 www"])], live)
    assert desired.warnings == (
        "change 1 (MX @): MX target www.stmarys.essex.sch.uk is a CNAME;"
        " mail and SRV clients may not follow it",
    )


def test_broken_spf_and_dmarc_are_warnings_not_errors(live):
    desired = desired_from_changes(
        ZONE,
        [
            change("replace", "@", "TXT", ["v=spf1 ip4:300.1.1.1 incude:x.com -all"]),
            change("replace", "_dmarc", "TXT", ["v=DMARC1; p=maybe; pct=150"]),
        ],
        live,
    )
    assert desired.warnings == (
        "change 1 (TXT @): SPF value does not parse: '300.1.1.1' in 'ip4:300.1.1.1'"
        " is not an IP address or network",
        "change 1 (TXT @): SPF value does not parse: 'incude:x.com' is not an SPF mechanism",
        "change 2 (TXT _dmarc): DMARC value does not parse: p=maybe must be none,"
        " quarantine or reject",
        "change 2 (TXT _dmarc): DMARC value does not parse: pct=150 must be a whole number"
        " from 0 to 100",
    )


def test_the_fixture_zone_is_valid_as_a_desired_zone(live):
    desired = desired_from_records(ZONE, live)
    assert desired.warnings == ()
    assert len(desired.records) == len(live)


def test_a_whole_zone_names_each_bad_record():
    text = (
        "$ORIGIN x.sch.uk.\n@ 3600 IN SOA ns. h. 1 2 3 4 5\n@ 3600 IN NS ns.example.\n"
        '@ 30 IN A 192.0.2.1\nmail 3600 IN MX 10 192.0.2.2\n@ 3600 IN TXT "v=spf1 -all"\n'
        '@ 3600 IN TXT "v=spf1 mx -all"\nold 3600 IN HINFO "pc" "dos"\n'
    )
    with pytest.raises(InvalidRecords) as caught:
        desired_from_records("x.sch.uk", parse_zone_text(text, "x.sch.uk"))
    assert caught.value.reasons == [
        "record MX mail: target 192.0.2.2 is an address; MX needs a host name",
        "record HINFO old: type 'HINFO' is not supported; use one of "
        "A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT",
        "record A @: TTL 30 is outside the allowed 60-86400 seconds",
        "record TXT @: x.sch.uk has more than one SPF record",
    ]


def test_the_apex_ns_set_cannot_be_deleted_only_replaced(live):
    assert reasons(live, change("delete", "@", "NS", values=None)) == [
        "change 1 (NS @): the zone's own NS records can be replaced but not all deleted"
    ]
    [message] = reasons(live, change("delete", "@", "NS", ["ns1.stmarys.essex.sch.uk."]))
    assert "can be replaced but not all deleted" in message
    desired = desired_from_changes(ZONE, [change("replace", "@", "NS", ["ns.example.net."])], live)
    assert records(desired)[(ZONE, "NS")].values == ("ns.example.net.",)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
change_like = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["add", "replace", "delete", "ADD", ""]) | json_values,
        "name": st.sampled_from(["@", "www", "*.x", "a..b", "Bücher", ZONE + "."]) | json_values,
        "type": st.sampled_from(["A", "mx", "TXT", "CNAME", "SRV", "SOA", "NS"]) | json_values,
        "ttl": st.integers(-10, 100_000) | json_values,
        "values": st.lists(
            st.sampled_from(["192.0.2.1", "10 mail", '"x" "y"', "www", "", "::1"])
            | st.text(max_size=30),
            max_size=3,
        )
        | json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(change_like | json_values, max_size=4))
def test_any_input_gives_a_desired_zone_or_named_reasons_never_a_crash(live, changes):
    try:
        desired = desired_from_changes(ZONE, changes, live)
    except InvalidRecords as exc:
        assert exc.reasons and all(isinstance(r, str) and r for r in exc.reasons)
    else:
        assert all(r.name == ZONE or r.name.endswith("." + ZONE) for r in desired.records)
