"""WHOIS lookups against a local TCP server serving Nominet and Verisign text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from provisioner.registry.errors import (
    BadRegistryConfig,
    LookupFailed,
    MalformedAnswer,
    NotRegistered,
    UnsupportedTld,
)
from provisioner.registry.whois_lookup import BUILTIN_SERVERS, WhoisClient, load_servers


@pytest.fixture
def client(whois_map):
    return WhoisClient(load_servers(whois_map), timeout=2)


def test_nominet_text_gives_the_expiry(client, whois_server):
    answer = client.lookup("stmarys.essex.sch.uk")
    assert answer.expires_at == datetime(2027, 9, 4, tzinfo=UTC)
    assert answer.registered_at == datetime(2008, 9, 4, tzinfo=UTC)
    assert (answer.source, answer.server) == ("whois", whois_server.address)
    # The registrable name is asked for, never the `sch.uk` python-whois would cut it to.
    assert whois_server.queries == ["stmarys.essex.sch.uk"]


def test_a_pre_1996_nominet_name_still_has_its_expiry(client):
    answer = client.lookup("oldschool.co.uk")
    assert answer.expires_at.date() == date(2026, 12, 13)


def test_verisign_text_gives_the_registry_expiry(client):
    assert client.lookup("example-academy.com").expires_at.date() == date(2026, 8, 13)


@pytest.mark.parametrize("name", ["nosuchschool.sch.uk", "nosuchdomain-xyz.com"])
def test_no_match_means_not_registered(client, name):
    with pytest.raises(NotRegistered):
        client.lookup(name)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty answer"),
        ("%% internal error, please try later\n", "no domain record"),
        (
            "Domain name:\n    garbled.sch.uk\n\n    Expiry date:  the 31st of Smarch\n",
            "cannot read",
        ),
    ],
)
def test_garbage_text_is_a_clear_error(client, whois_server, text, problem):
    whois_server.answers["garbled.sch.uk"] = text
    with pytest.raises(MalformedAnswer) as caught:
        client.lookup("garbled.sch.uk")
    assert problem in caught.value.message
    assert "garbled.sch.uk" in caught.value.message


def test_a_rate_limit_refusal_is_a_failure_not_a_free_name(client, whois_server, fixture_text):
    whois_server.answers["stmarys.essex.sch.uk"] = fixture_text("nominet-ratelimit.txt")
    with pytest.raises(LookupFailed) as caught:
        client.lookup("stmarys.essex.sch.uk")
    assert "refused the query" in caught.value.message


def test_nothing_listening_is_raised_not_returned(dead_port):
    client = WhoisClient({"uk": ("127.0.0.1", dead_port)}, timeout=2)
    with pytest.raises(LookupFailed) as caught:
        client.lookup("stmarys.essex.sch.uk")
    assert f"cannot reach 127.0.0.1:{dead_port}" in caught.value.message


def test_a_slow_server_times_out(whois_server):
    whois_server.delay = 1.0
    client = WhoisClient({"uk": ("127.0.0.1", whois_server.port)}, timeout=0.2)
    with pytest.raises(LookupFailed) as caught:
        client.lookup("stmarys.essex.sch.uk")
    assert "did not answer within 0.2s" in caught.value.message


def test_unknown_tld_is_refused(client, whois_server):
    with pytest.raises(UnsupportedTld):
        client.lookup("school.zz")
    assert whois_server.queries == []


def test_the_longest_matching_suffix_picks_the_server(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"uk": "uk.example:43", "sch.uk": "127.0.0.1:4343"}))
    client = WhoisClient(load_servers(path))
    assert client.server_for("stmarys.essex.sch.uk") == ("127.0.0.1", 4343)
    assert client.server_for("oldschool.co.uk") == ("uk.example", 43)


def test_a_server_map_file_replaces_the_built_in_map(whois_map):
    servers = load_servers(whois_map)
    assert set(servers) == {"uk", "com", "net"}
    assert load_servers(None)["uk"] == ("whois.nic.uk", 43)
    assert {"uk", "com", "org", "net"} <= set(BUILTIN_SERVERS)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", "must be a JSON object"),
        ('{"uk": "whois.example:port"}', "is not 'host' or 'host:port'"),
        ("{", "is not JSON"),
    ],
)
def test_a_bad_server_map_is_refused(tmp_path, content, problem):
    path = tmp_path / "map.json"
    path.write_text(content)
    with pytest.raises(BadRegistryConfig) as caught:
        load_servers(path)
    assert problem in caught.value.message
