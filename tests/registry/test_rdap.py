"""RDAP lookups against a local HTTP server serving realistic registry answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from provisioner.registry.errors import (
    BadRegistryConfig,
    LookupFailed,
    MalformedAnswer,
    NotRegistered,
    UnsupportedTld,
)
from provisioner.registry.rdap import DEFAULT_BOOTSTRAP, RdapBootstrap, RdapClient


@pytest.fixture
def client(rdap_server, tmp_path):
    return RdapClient(RdapBootstrap.load(rdap_server.bootstrap(tmp_path)), timeout=2)


@pytest.mark.parametrize(
    ("name", "expires", "registered"),
    [
        (
            "stmarys.essex.sch.uk",
            datetime(2027, 9, 4, tzinfo=UTC),
            datetime(2008, 9, 4, tzinfo=UTC),
        ),
        (
            "example-academy.com",
            datetime(2026, 8, 13, 4, tzinfo=UTC),
            datetime(1995, 8, 14, 4, tzinfo=UTC),
        ),
        (
            "stmarys-pta.org",
            datetime(2027, 3, 2, 10, 15, 3, tzinfo=UTC),
            datetime(2014, 3, 2, 10, 15, 3, tzinfo=UTC),
        ),
    ],
)
def test_expiry_comes_from_the_expiration_event(client, rdap_server, name, expires, registered):
    answer = client.lookup(name)
    assert answer.expires_at == expires
    assert answer.registered_at == registered
    assert answer.source == "rdap"
    assert answer.server == f"127.0.0.1:{rdap_server.port}"


def test_the_request_goes_to_the_base_url_of_the_tld(client, rdap_server):
    client.lookup("stmarys.essex.sch.uk")
    client.lookup("example-academy.com")
    assert rdap_server.requests == [
        "/uk/domain/stmarys.essex.sch.uk",
        "/verisign/domain/example-academy.com",
    ]


def test_404_means_not_registered(client):
    with pytest.raises(NotRegistered) as caught:
        client.lookup("nosuchschool.sch.uk")
    assert "no record of nosuchschool.sch.uk" in caught.value.message


def test_an_answer_that_is_not_json_is_a_clear_error(client, rdap_server):
    rdap_server.serve(
        "/uk/domain/broken.sch.uk", status=200, body="<html><body>Service Unavailable</body></html>"
    )
    with pytest.raises(MalformedAnswer) as caught:
        client.lookup("broken.sch.uk")
    assert "broken.sch.uk" in caught.value.message
    assert "non-JSON" in caught.value.message or "not JSON" in caught.value.message


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('["not", "an", "object"]', "not answer with a JSON object"),
        ('{"objectClassName": "entity", "handle": "X"}', "not a domain"),
        (
            '{"objectClassName": "domain", "ldhName": "other.sch.uk", "events": []}',
            "about other.sch.uk",
        ),
        ('{"objectClassName": "domain", "events": {"eventAction": "expiration"}}', "'events'"),
        (
            '{"objectClassName": "domain", '
            '"events": [{"eventAction": "expiration", "eventDate": "soon"}]}',
            "unreadable date 'soon'",
        ),
    ],
)
def test_malformed_rdap_json_names_the_problem(client, rdap_server, body, problem):
    rdap_server.serve("/uk/domain/odd.sch.uk", status=200, body=body)
    with pytest.raises(MalformedAnswer) as caught:
        client.lookup("odd.sch.uk")
    assert problem in caught.value.message


def test_a_domain_without_an_expiration_event_has_no_expiry(client, rdap_server):
    data = json.loads(rdap_server.answers["/uk/domain/stmarys.essex.sch.uk"].body)
    data["ldhName"] = "delegated.essex.sch.uk"
    data["events"] = [e for e in data["events"] if e["eventAction"] != "expiration"]
    rdap_server.serve("/uk/domain/delegated.essex.sch.uk", status=200, body=json.dumps(data))
    assert client.lookup("delegated.essex.sch.uk").expires_at is None


def test_server_error_is_a_lookup_failure(client, rdap_server):
    rdap_server.serve("/uk/domain/stmarys.essex.sch.uk", status=503, body="busy")
    with pytest.raises(LookupFailed) as caught:
        client.lookup("stmarys.essex.sch.uk")
    assert "HTTP 503" in caught.value.message


def test_a_registry_that_is_down_is_a_lookup_failure(dead_port, tmp_path):
    bootstrap = RdapBootstrap.from_dict(
        {"services": [[["uk"], [f"http://127.0.0.1:{dead_port}/uk/"]]]}
    )
    with pytest.raises(LookupFailed) as caught:
        RdapClient(bootstrap, timeout=2).lookup("stmarys.essex.sch.uk")
    assert f"cannot reach 127.0.0.1:{dead_port}" in caught.value.message


def test_a_slow_registry_times_out(rdap_server, tmp_path):
    rdap_server.delay = 1.0
    client = RdapClient(RdapBootstrap.load(rdap_server.bootstrap(tmp_path)), timeout=0.2)
    with pytest.raises(LookupFailed) as caught:
        client.lookup("stmarys.essex.sch.uk")
    assert "did not answer within 0.2s" in caught.value.message


def test_unknown_tld_is_refused_without_a_request(client, rdap_server):
    with pytest.raises(UnsupportedTld) as caught:
        client.lookup("school.zz")
    assert "no registry is known for .zz" in caught.value.message
    assert rdap_server.requests == []


def test_shipped_bootstrap_covers_the_tlds_schools_use():
    bootstrap = RdapBootstrap.load(DEFAULT_BOOTSTRAP)
    for tld in (
        "uk",
        "com",
        "org",
        "net",
        "info",
        "academy",
        "school",
        "cymru",
        "wales",
        "london",
        "io",
    ):
        assert bootstrap.base_url(f"example.{tld}").startswith("https://"), tld
    assert bootstrap.base_url("stmarys.essex.sch.uk") == "https://rdap.nominet.uk/uk/"
    assert bootstrap.base_url("example.zz") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not JSON"),
        ('{"version": "1.0"}', "no 'services' list"),
        ('{"services": [["uk", "https://x/"]]}', "malformed service entry"),
    ],
)
def test_a_bad_bootstrap_file_is_refused(tmp_path, content, problem):
    path = tmp_path / "bootstrap.json"
    path.write_text(content)
    with pytest.raises(BadRegistryConfig) as caught:
        RdapBootstrap.load(path)
    assert problem in caught.value.message


def test_a_missing_bootstrap_file_is_named(tmp_path):
    with pytest.raises(BadRegistryConfig) as caught:
        RdapBootstrap.load(tmp_path / "nope.json")
    assert "nope.json" in caught.value.message
