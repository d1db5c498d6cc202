"""The DNS commands of contract.md, driven as a technician would, on a real BIND."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stmarys.essex.sch.uk.db"
_numbers = itertools.count(1)


def served(server, name: str, rtype: str) -> list[str]:
    query = dns.message.make_query(name, rtype)
    answer = dns.query.udp(query, server.host, port=server.port, timeout=2)
    return sorted(
        rd.to_text()
        for rrset in answer.answer
        for rd in rrset
        if rrset.rdtype == dns.rdatatype.from_text(rtype)
    )


@pytest.fixture
def school_zone(bind_server, runner, tmp_path):
    """A school's zone loaded in BIND and adopted as a domain through the CLI."""
    name = f"stmarys{next(_numbers)}.essex.sch.uk"
    bind_server.add_zone(name, FIXTURE.read_text().replace("stmarys.essex.sch.uk", name))
    assert runner.invoke(["school", "add", "--urn", "100001", "--name", "St Mary's"]).exit_code == 0
    result = runner.invoke(
        [
            "provider",
            "add",
            "bind",
            "--kind",
            "rfc2136",
            "--server",
            bind_server.address,
            "--tsig-key-file",
            str(bind_server.key_file),
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(["domain", "add", name, "--school", "100001", "--provider", "bind"])
    assert result.exit_code == 0, result.output
    return name


def test_export_plan_apply_history_rollback(school_zone, bind_server, runner, tmp_path):
    zone = school_zone
    exported = runner.invoke(["dns", "export", zone]).output
    assert "intranet\t3600\tIN\tA\t10.1.0.10" in exported
    desired = tmp_path / "desired.db"
    desired.write_text(
        exported.replace("intranet\t3600\tIN\tA\t10.1.0.10", "intranet\t3600\tIN\tA\t192.0.2.10")
        + "newhost\t300\tIN\tA\t192.0.2.99\n"
    )

    plan = runner.invoke(["dns", "plan", zone, "--zone-file", str(desired), "--json"])
    body = json.loads(plan.output)
    assert sorted(c["action"] for c in body["changes"]) == ["create", "update"]
    assert served(bind_server, f"newhost.{zone}", "A") == []  # plan changes nothing

    applied = runner.invoke(["dns", "apply", zone, "--zone-file", str(desired), "--json"])
    assert applied.exit_code == 0, applied.output
    change_id = json.loads(applied.output)["change_id"]
    assert served(bind_server, f"newhost.{zone}", "A") == ["192.0.2.99"]
    assert served(bind_server, f"intranet.{zone}", "A") == ["192.0.2.10"]

    history = json.loads(runner.invoke(["dns", "history", zone, "--json"]).output)
    assert [h["id"] for h in history] == [change_id]

    rolled = runner.invoke(["dns", "rollback", str(change_id)])
    assert rolled.exit_code == 0, rolled.output
    assert served(bind_server, f"newhost.{zone}", "A") == []
    assert served(bind_server, f"intranet.{zone}", "A") == ["10.1.0.10"]
    again = runner.invoke(["dns", "rollback", str(change_id)])
    assert again.exit_code == 1 and "already rolled back" in again.output


def test_unsafe_plan_refused_without_force(school_zone, bind_server, runner, tmp_path):
    zone = school_zone
    bare = tmp_path / "bare.db"
    bare.write_text(f"$ORIGIN {zone}.\n@ 3600 IN NS ns1.{zone}.\nns1 3600 IN A 192.0.2.53\n")
    result = runner.invoke(["dns", "apply", zone, "--zone-file", str(bare)])
    assert result.exit_code == 1
    assert "--force" in result.output and "more than the 30% allowed" in result.output
    assert served(bind_server, f"remote.{zone}", "A") == ["192.0.2.20"]  # untouched


def test_malformed_zone_file_names_the_line(school_zone, runner, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text(f"$ORIGIN {school_zone}.\nwww 300 IN A 192.0.2.1\nmail 300 IN A not-an-ip\n")
    result = runner.invoke(["dns", "plan", school_zone, "--zone-file", str(bad)])
    assert result.exit_code == 1
    assert "line 3" in result.output


def test_drift_reports_edits_made_behind_our_back(school_zone, bind_server, runner, tmp_path):
    zone = school_zone
    desired = tmp_path / "d.db"
    desired.write_text(runner.invoke(["dns", "export", zone]).output + "extra 300 IN A 192.0.2.7\n")
    assert runner.invoke(["dns", "apply", zone, "--zone-file", str(desired)]).exit_code == 0
    assert runner.invoke(["dns", "drift", zone]).output.strip() == "no drift"
    bind_server.nsupdate(f"zone {zone}\nupdate add sneaky.{zone}. 300 A 192.0.2.66")
    drift = runner.invoke(["dns", "drift", zone]).output
    assert "sneaky" in drift


def test_provider_with_unreadable_key_is_refused(runner, tmp_path):
    result = runner.invoke(
        [
            "provider",
            "add",
            "bad",
            "--kind",
            "rfc2136",
            "--server",
            "127.0.0.1:1",
            "--tsig-key-file",
            str(tmp_path / "missing.key"),
        ]
    )
    assert result.exit_code == 1
    assert "missing.key" in result.output
    listed = runner.invoke(
        ["provider", "add", "bad", "--kind", "zonefile", "--directory", str(tmp_path)]
    )
    assert listed.exit_code == 0  # the failed attempt saved nothing under that name


def test_drift_scan_tells_technicians_once(
    school_zone, bind_server, runner, tmp_path, app, make_technician
):
    from provisioner.zones.drift import drift_scan

    make_technician("tech@provider.example")
    zone = school_zone
    desired = tmp_path / "d.db"
    desired.write_text(runner.invoke(["dns", "export", zone]).output + "extra 300 IN A 192.0.2.7\n")
    assert runner.invoke(["dns", "apply", zone, "--zone-file", str(desired)]).exit_code == 0
    sent = []
    assert drift_scan(sent.append) == {}
    bind_server.nsupdate(f"zone {zone}\nupdate delete extra.{zone}. A")
    found = drift_scan(sent.append)
    assert any("extra" in line for line in found[zone])
    assert len(sent) == 1 and sent[0].to == ["tech@provider.example"]
    assert "extra" in sent[0].text
    drift_scan(sent.append)
    assert len(sent) == 1  # the same drift is not reported twice


def test_a_domain_refused_at_the_limit_leaves_no_zone_on_the_provider(runner, tmp_path):
    zones = tmp_path / "zones"
    zones.mkdir()
    assert runner.invoke(["school", "add", "--urn", "100002", "--name", "Oak"]).exit_code == 0
    for i in range(10):
        result = runner.invoke(["domain", "add", f"oak{i}.essex.sch.uk", "--school", "100002"])
        assert result.exit_code == 0, result.output
    runner.invoke(["provider", "add", "files", "--kind", "zonefile", "--directory", str(zones)])

    result = runner.invoke(
        ["domain", "add", "eleventh.essex.sch.uk", "--school", "100002", "--provider", "files"]
    )
    assert result.exit_code == 1 and "already has 10 domains" in result.output
    assert list(zones.iterdir()) == []  # no zone was made for the refused domain


def test_a_provider_that_cannot_be_reached_saves_no_domain(runner, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    key = tmp_path / "tsig.key"
    key.write_text('key "k" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0"; };\n')
    assert runner.invoke(["school", "add", "--urn", "100003", "--name", "Elm"]).exit_code == 0
    added = runner.invoke(
        [
            "provider",
            "add",
            "down",
            "--kind",
            "rfc2136",
            "--server",
            f"127.0.0.1:{dead}",
            "--tsig-key-file",
            str(key),
        ]
    )
    assert added.exit_code == 0, added.output

    result = runner.invoke(
        ["domain", "add", "elm.essex.sch.uk", "--school", "100003", "--provider", "down"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    listed = json.loads(runner.invoke(["domain", "list", "--json"]).stdout or "[]")
    assert "elm.essex.sch.uk" not in [d["name"] for d in listed]
    # the school's slot was given back: ten more still fit
    for i in range(10):
        assert (
            runner.invoke(["domain", "add", f"elm{i}.essex.sch.uk", "--school", "100003"]).exit_code
            == 0
        )
