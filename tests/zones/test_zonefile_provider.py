"""The embedded zonefile provider: real files, real BIND checks, guarded atomic writes."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.zone
import pytest

from provisioner.zones.errors import ConflictError, ProviderError, ZoneExists, ZoneNotFound
from provisioner.zones.plan import plan
from provisioner.zones.providers.zonefile import ZonefileProvider, next_serial
from provisioner.zones.records import canonical_text
from provisioner.zones.validate import desired_from_changes

ZONE = "stmarys.essex.sch.uk"
FIXTURE = Path(__file__).with_name("fixtures") / f"{ZONE}.db"
TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="session")
def named_checkzone():
    # BIND's own zone checker proves the files are ready for any BIND to load.
    sys.modules["zones_bind_server"].ensure_bind_installed()
    path = shutil.which("named-checkzone", path="/usr/bin:/usr/sbin:/bin:/sbin")
    assert path, "named-checkzone missing after installing BIND"
    return path


@pytest.fixture
def provider(tmp_path):
    shutil.copy(FIXTURE, tmp_path / f"{ZONE}.db")
    return ZonefileProvider(tmp_path, today=lambda: TODAY)


def checkzone(binary, zone, path):
    return subprocess.run([binary, zone, str(path)], capture_output=True, text=True)


def request(provider, *changes):
    live = provider.read_zone(ZONE)
    return plan(desired_from_changes(ZONE, list(changes), live.records), live)


def test_reads_the_zone_and_its_serial(provider):
    live = provider.read_zone(ZONE)
    assert live.serial == 2026112901
    assert (f"mail2._domainkey.{ZONE}", "TXT") in {r.key for r in live.records}
    assert provider.nameservers(ZONE) == []


def test_apply_writes_the_change_and_bumps_the_serial(provider, named_checkzone):
    reviewed = request(
        provider,
        {"action": "add", "name": "intranet2", "type": "A", "ttl": 600, "values": ["192.0.2.11"]},
        {"action": "replace", "name": "@", "type": "MX", "values": ["10 mail.example.net."]},
    )
    result = provider.apply(reviewed)
    assert result.atomic and result.messages == 1
    path = provider.path(ZONE)
    served = dns.zone.from_file(str(path), origin=ZONE + ".", relativize=False)
    assert served.get_rdataset(f"intranet2.{ZONE}.", "A").ttl == 600
    assert [rd.to_text() for rd in served.get_rdataset(f"{ZONE}.", "MX")] == [
        "10 mail.example.net."
    ]
    assert provider.read_zone(ZONE).serial == 2026112902
    checked = checkzone(named_checkzone, ZONE, path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "serial 2026112902" in checked.stdout


def test_serial_never_goes_backwards():
    assert next_serial(None, TODAY) == 2026112900
    assert next_serial(2026112807, TODAY) == 2026112900
    assert next_serial(2026112907, TODAY) == 2026112908
    assert next_serial(2026112999, TODAY) == 2026113000
    assert next_serial(2099010100, TODAY) == 2099010101  # a serial from the future stays ahead


def test_a_concurrent_edit_makes_the_apply_fail_and_writes_nothing(provider):
    reviewed = request(
        provider, {"action": "replace", "name": "vpn", "type": "A", "values": ["192.0.2.99"]}
    )
    path = provider.path(ZONE)
    # Someone edits the same record set behind the product's back.
    edited = path.read_text().replace("vpn IN A 192.0.2.21", "vpn IN A 192.0.2.50")
    path.write_text(edited)
    with pytest.raises(ConflictError) as caught:
        provider.apply(reviewed)
    assert "A vpn.stmarys.essex.sch.uk" in caught.value.message
    assert path.read_text() == edited


def test_create_zone_is_loadable_and_refuses_to_overwrite(tmp_path, named_checkzone):
    provider = ZonefileProvider(tmp_path, today=lambda: TODAY)
    live = provider.create_zone("New-School.sch.uk.")
    assert live.zone == "new-school.sch.uk" and live.serial == 2026112900
    assert {r.type for r in live.records} == {"SOA", "NS"}
    checked = checkzone(named_checkzone, "new-school.sch.uk", provider.path("new-school.sch.uk"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with pytest.raises(ZoneExists):
        provider.create_zone("new-school.sch.uk")


def test_missing_and_broken_zone_files_give_clear_errors(tmp_path):
    provider = ZonefileProvider(tmp_path)
    with pytest.raises(ZoneNotFound):
        provider.read_zone("absent.sch.uk")
    (tmp_path / "broken.sch.uk.db").write_text("@ 3600 IN SOA a. b. 1 2 3 4 5\nw IN A 1.2\n")
    with pytest.raises(ProviderError) as caught:
        provider.read_zone("broken.sch.uk")
    assert "line 2" in caught.value.message


def test_no_temporary_files_are_left_behind(provider):
    provider.apply(
        request(provider, {"action": "add", "name": "x", "type": "A", "values": ["192.0.2.1"]})
    )
    leftovers = [p.name for p in provider.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def _apply_all_at_once(provider, plans):
    outcomes = []

    def run(reviewed):
        try:
            provider.apply(reviewed)
            outcomes.append("applied")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_writers_on_different_records_both_land(provider):
    # Both plans were made against the same file; the lock serialises the writes,
    # so the second re-reads the file and keeps the first one's record.
    plans = [
        request(provider, {"action": "add", "name": f"t{i}", "type": "A", "values": ["192.0.2.1"]})
        for i in range(2)
    ]
    assert _apply_all_at_once(provider, plans) == ["applied", "applied"]
    live = provider.read_zone(ZONE)
    assert {f"t0.{ZONE}", f"t1.{ZONE}"} <= {r.name for r in live.records}
    assert live.serial == 2026112903


def test_two_writers_on_the_same_record_one_is_refused(provider):
    plans = [
        request(provider, {"action": "replace", "name": "vpn", "type": "A", "values": [ip]})
        for ip in ("192.0.2.31", "192.0.2.32")
    ]
    assert _apply_all_at_once(provider, plans) == ["applied", "conflict"]
    [vpn] = [r for r in provider.read_zone(ZONE).records if r.key == (f"vpn.{ZONE}", "A")]
    assert vpn.values[0] in {"192.0.2.31", "192.0.2.32"}


def test_bind_serves_the_written_zone(provider, bind_server):
    # The file the provider wrote, loaded by a real BIND, answers with every record.
    provider.apply(
        request(
            provider,
            {
                "action": "add",
                "name": "Bücher",
                "type": "TXT",
                "values": ["v=DKIM1; p=" + "k" * 400],
            },
            {"action": "replace", "name": "_sip._tls", "type": "SRV", "values": ["5 1 443 sip"]},
        )
    )
    bind_server.add_zone(ZONE, provider.path(ZONE).read_text())
    live = provider.read_zone(ZONE)
    for record in live.records:
        query = dns.message.make_query(record.name + ".", record.type)
        answer = dns.query.tcp(query, bind_server.host, port=bind_server.port, timeout=3)
        [rrset] = [r for r in answer.answer if r.rdtype == dns.rdatatype.from_text(record.type)]
        assert rrset.ttl == record.ttl
        assert sorted(canonical_text(rd) for rd in rrset) == list(record.values), record


def test_delete_zone_removes_an_empty_zone_and_refuses_one_with_records(tmp_path, provider):
    fresh = ZonefileProvider(tmp_path / "fresh", today=lambda: TODAY)
    fresh.create_zone("new-school.sch.uk")
    fresh.delete_zone("new-school.sch.uk")
    with pytest.raises(ZoneNotFound):
        fresh.read_zone("new-school.sch.uk")
    fresh.delete_zone("new-school.sch.uk")  # already gone: nothing to do
    before = provider.path(ZONE).read_text()
    with pytest.raises(ProviderError, match="has records besides SOA and NS"):
        provider.delete_zone(ZONE)
    assert provider.path(ZONE).read_text() == before
