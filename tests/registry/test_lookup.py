"""RDAP first, WHOIS as fallback, and what is kept when registries fail."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from provisioner.errors import ValidationError
from provisioner.registry.errors import LookupFailed, NotRegistered, UnsupportedTld
from provisioner.registry.expiry import Known, Outcome, check_one
from provisioner.registry.lookup import RegistryLookup

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def lookup(rdap_server, whois_map, tmp_path):
    config = {
        "RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)),
        "WHOIS_SERVERS": str(whois_map),
    }
    return RegistryLookup.from_config(config, timeout=2)


def test_rdap_answers_first(lookup, whois_server):
    answer = lookup.lookup_domain("www.stmarys.essex.sch.uk")
    assert (answer.name, answer.source) == ("stmarys.essex.sch.uk", "rdap")
    assert whois_server.queries == []


def test_whois_answers_when_rdap_is_down(lookup, rdap_server, whois_server):
    rdap_server.serve("/uk/domain/stmarys.essex.sch.uk", status=502, body="bad gateway")
    answer = lookup.lookup("stmarys.essex.sch.uk")
    assert answer.source == "whois"
    assert answer.expires_at.date() == date(2027, 9, 4)
    assert whois_server.queries == ["stmarys.essex.sch.uk"]


def test_whois_answers_when_rdap_sends_garbage(lookup, rdap_server):
    rdap_server.serve("/verisign/domain/example-academy.com", "<html>oops</html>")
    assert lookup.lookup("example-academy.com").source == "whois"


def test_rdap_not_found_is_final(lookup, whois_server):
    with pytest.raises(NotRegistered):
        lookup.lookup("nosuchschool.sch.uk")
    assert whois_server.queries == []


def test_both_failing_gives_both_reasons(lookup, rdap_server, whois_server):
    rdap_server.serve("/uk/domain/stmarys.essex.sch.uk", status=500, body="")
    whois_server.answers["stmarys.essex.sch.uk"] = "%% try later\n"
    with pytest.raises(LookupFailed) as caught:
        lookup.lookup("stmarys.essex.sch.uk")
    assert "HTTP 500" in caught.value.message
    assert "no domain record" in caught.value.message


def test_whois_only_tld(tmp_path, whois_server, whois_map):
    # A bootstrap without .net: the WHOIS server is asked.
    bootstrap = tmp_path / "b.json"
    bootstrap.write_text(json.dumps({"services": [[["uk"], ["http://127.0.0.1:9/uk/"]]]}))
    whois_server.answers["example-academy.net"] = whois_server.answers[
        "example-academy.com"
    ].replace("EXAMPLE-ACADEMY.COM", "EXAMPLE-ACADEMY.NET")
    lookup = RegistryLookup.from_config(
        {"RDAP_BOOTSTRAP": str(bootstrap), "WHOIS_SERVERS": str(whois_map)}
    )
    assert lookup.lookup("example-academy.net").source == "whois"


def test_unknown_tld_is_refused(lookup, rdap_server, whois_server):
    with pytest.raises(ValidationError) as caught:
        lookup.lookup_domain("school.zz")
    assert "top-level domain is not known" in caught.value.message
    # A real TLD that neither the bootstrap nor the WHOIS map covers.
    with pytest.raises(UnsupportedTld) as caught:
        lookup.lookup_domain("school.museum")
    assert "no registry is known for .museum" in caught.value.message
    assert rdap_server.requests == [] and whois_server.queries == []


@pytest.mark.parametrize("name", ["sch.uk", "co.uk", "essex.sch.uk"])
def test_names_nobody_can_register_are_refused(lookup, rdap_server, whois_server, name):
    with pytest.raises(ValidationError) as caught:
        lookup.lookup_domain(name)
    assert name in caught.value.message
    assert rdap_server.requests == [] and whois_server.queries == []


def test_availability(lookup):
    assert lookup.is_available("nosuch.essex.sch.uk") is True
    assert lookup.is_available("stmarys.essex.sch.uk") is False


KNOWN = Known(expiry=date(2027, 9, 4), source="rdap", checked_at=datetime(2026, 11, 22, tzinfo=UTC))


def test_a_registry_that_is_down_leaves_the_date_and_says_why(dead_port):
    down = RegistryLookup.from_config({"RDAP_BOOTSTRAP": None, "WHOIS_SERVERS": None}, timeout=1)
    down.rdap.bootstrap.bases = {"uk": f"http://127.0.0.1:{dead_port}/uk/"}
    down.whois.servers = {"uk": ("127.0.0.1", dead_port)}
    result = check_one("stmarys.essex.sch.uk", KNOWN, down.lookup, NOW)
    assert result.outcome is Outcome.FAILED
    assert (result.expiry, result.source) == (date(2027, 9, 4), "rdap")
    assert f"cannot reach 127.0.0.1:{dead_port}" in result.reason
    assert "kept the known date" in result.reason


def test_a_registry_answering_garbage_leaves_the_date_and_says_why(
    lookup, rdap_server, whois_server
):
    rdap_server.serve(
        "/uk/domain/stmarys.essex.sch.uk", '{"objectClassName": "domain", "events": ['
    )
    whois_server.answers["stmarys.essex.sch.uk"] = (
        "Domain name:\n  stmarys.essex.sch.uk\n  Expiry date: 99-Zzz-9999\n"
    )
    result = check_one("stmarys.essex.sch.uk", KNOWN, lookup.lookup, NOW)
    assert result.outcome is Outcome.FAILED
    assert result.expiry == date(2027, 9, 4)
    assert "not JSON" in result.reason and "cannot read" in result.reason


def test_a_registry_answering_an_epoch_date_is_rejected(lookup, rdap_server):
    data = json.loads(rdap_server.answers["/uk/domain/stmarys.essex.sch.uk"].body)
    for event in data["events"]:
        if event["eventAction"] == "expiration":
            event["eventDate"] = "1970-01-01T00:00:00Z"
    rdap_server.serve("/uk/domain/stmarys.essex.sch.uk", json.dumps(data))
    result = check_one("stmarys.essex.sch.uk", KNOWN, lookup.lookup, NOW)
    assert result.outcome is Outcome.REJECTED
    assert result.expiry == date(2027, 9, 4)
    assert result.reported == date(1970, 1, 1)
    assert "before any domain existed" in result.reason


def test_a_fresh_date_from_the_registry_is_taken(lookup):
    result = check_one("example-academy.com", Known(), lookup.lookup, NOW)
    assert (result.outcome, result.expiry, result.source) == (
        Outcome.UPDATED,
        date(2026, 8, 13),
        "rdap",
    )
    assert result.checked_at == NOW


def test_a_delegated_sch_uk_name_has_no_registry_expiry(lookup):
    result = check_one("delegated.essex.sch.uk", Known(), lookup.lookup, NOW)
    assert result.outcome is Outcome.NO_REGISTRY_EXPIRY
    assert result.expiry is None


def test_a_lapsed_com_name_is_reported_not_erased(lookup, rdap_server):
    known = Known(expiry=date(2026, 8, 13), source="rdap", checked_at=NOW)
    result = check_one("nosuchdomain-xyz.com", known, lookup.lookup, NOW)
    assert result.outcome is Outcome.NOT_REGISTERED
    assert result.expiry == date(2026, 8, 13)
    assert "no record of nosuchdomain-xyz.com" in result.reason
