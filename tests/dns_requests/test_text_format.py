"""The plain-text change format read from emails."""

from __future__ import annotations

from provisioner.dns_requests.text_format import parse_request, relative_name
from provisioner.zones.records import Record
from provisioner.zones.validate import desired_from_changes

DOMAINS = ["stmarys.essex.sch.uk", "other.essex.sch.uk"]


def test_the_documented_example_becomes_contract_shaped_changes():
    parsed = parse_request(
        "Domain: stmarys.essex.sch.uk\n"
        "ADD intranet.stmarys.essex.sch.uk A 192.0.2.10 TTL 3600\n"
        "REPLACE @ MX 10 mail.example.net.\n"
        "DELETE old.stmarys.essex.sch.uk CNAME\n"
    )
    assert parsed.domain == "stmarys.essex.sch.uk"
    assert parsed.problems == []
    assert parsed.changes == [
        {"action": "add", "name": "intranet", "type": "A", "ttl": 3600, "values": ["192.0.2.10"]},
        {"action": "replace", "name": "@", "type": "MX", "values": ["10 mail.example.net."]},
        {"action": "delete", "name": "old", "type": "CNAME"},
    ]


def test_domain_comes_from_fully_qualified_names_choosing_the_longest_known_zone():
    parsed = parse_request(
        "ADD intranet.stmarys.essex.sch.uk A 192.0.2.10", DOMAINS + ["essex.sch.uk"]
    )
    assert parsed.domain == "stmarys.essex.sch.uk"
    assert parsed.changes[0]["name"] == "intranet"


def test_domain_mentioned_in_the_prose_is_used_for_relative_names():
    parsed = parse_request(
        "Please add this for stmarys.essex.sch.uk:\nADD www A 192.0.2.1\n", DOMAINS
    )
    assert parsed.domain == "stmarys.essex.sch.uk"
    assert parsed.changes == [
        {"action": "add", "name": "www", "type": "A", "values": ["192.0.2.1"]}
    ]


def test_no_domain_named_leaves_it_to_the_caller():
    parsed = parse_request("ADD www A 192.0.2.1", DOMAINS)
    assert parsed.domain is None
    assert parsed.changes[0]["name"] == "www"


def test_two_domains_in_one_message_is_a_problem():
    parsed = parse_request(
        "ADD www.stmarys.essex.sch.uk A 192.0.2.1\nADD www.other.essex.sch.uk A 192.0.2.2",
        DOMAINS,
    )
    assert parsed.domain is None
    assert any("more than one domain" in p for p in parsed.problems)


def test_prose_lines_are_kept_as_free_text_and_not_parsed():
    parsed = parse_request(
        "Hi,\nplease delete the old record for the library when you can.\n"
        "add a note to the case\nThanks, Sam",
        DOMAINS,
    )
    assert parsed.changes == []
    assert parsed.problems == []
    assert "delete the old record for the library" in parsed.free_text
    assert "Thanks, Sam" in parsed.free_text


def test_broken_change_lines_are_named_by_line_number():
    parsed = parse_request("Domain: stmarys.essex.sch.uk\nADD www\nADD www AX 1.2.3.4\n")
    assert parsed.changes == []
    assert len(parsed.problems) == 2
    assert parsed.problems[0].startswith("line 2")
    assert "ADD NAME TYPE VALUE" in parsed.problems[0]
    assert parsed.problems[1].startswith("line 3")
    assert "'AX' is not a record type" in parsed.problems[1]


def test_values_that_need_spaces_and_quotes_are_kept_whole():
    parsed = parse_request(
        'Domain: stmarys.essex.sch.uk\nADD @ TXT "v=spf1 include:_spf.example.net -all"\n'
        "ADD _sip._tcp SRV 10 60 5060 sip.example.net. TTL 600\n"
    )
    assert parsed.changes[0]["values"] == ['"v=spf1 include:_spf.example.net -all"']
    assert parsed.changes[1]["values"] == ["10 60 5060 sip.example.net."]
    assert parsed.changes[1]["ttl"] == 600


def test_repeated_lines_for_one_record_set_merge_into_one_change():
    parsed = parse_request(
        "Domain: stmarys.essex.sch.uk\n"
        "REPLACE @ MX 10 a.example.net.\n"
        "* REPLACE @ MX 20 b.example.net.\n"
    )
    assert parsed.changes == [
        {
            "action": "replace",
            "name": "@",
            "type": "MX",
            "values": ["10 a.example.net.", "20 b.example.net."],
        }
    ]
    assert parsed.change_lines == [[2, 3]]


def test_ttl_before_the_type_and_lower_case_keywords_are_understood():
    parsed = parse_request("Domain: stmarys.essex.sch.uk\nadd www 300 A 192.0.2.1\n")
    assert parsed.changes == [
        {"action": "add", "name": "www", "type": "A", "ttl": 300, "values": ["192.0.2.1"]}
    ]


def test_bad_ttls_are_reported():
    parsed = parse_request("Domain: x.sch.uk\nADD www A 192.0.2.1 TTL soon\nDELETE www A TTL 60")
    assert [p.split(" ")[1] for p in parsed.problems] == ["2", "3"]
    assert "not a whole number" in parsed.problems[0]
    assert "DELETE takes no TTL" in parsed.problems[1]


def test_relative_name():
    assert relative_name("stmarys.essex.sch.uk.", "stmarys.essex.sch.uk") == "@"
    assert relative_name("WWW.stmarys.essex.sch.uk", "stmarys.essex.sch.uk") == "WWW"
    assert relative_name("www", "stmarys.essex.sch.uk") == "www"


def test_parsed_changes_are_accepted_by_the_zone_validator():
    zone = "stmarys.essex.sch.uk"
    live = [
        Record(zone, "MX", 3600, ("10 old.example.net.",)),
        Record(f"old.{zone}", "CNAME", 3600, ("www.example.net.",)),
    ]
    parsed = parse_request(
        "ADD intranet.stmarys.essex.sch.uk A 192.0.2.10 TTL 3600\n"
        "REPLACE @ MX 10 mail.example.net.\nDELETE old CNAME\n",
        [zone],
    )
    desired = desired_from_changes(zone, parsed.changes, live)
    assert {(r.name, r.type, r.values) for r in desired.records} == {
        (zone, "MX", ("10 mail.example.net.",)),
        (f"intranet.{zone}", "A", ("192.0.2.10",)),
    }
