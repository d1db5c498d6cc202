"""The route53 provider against moto's Route 53 server on 127.0.0.1."""

from __future__ import annotations

import pytest
from zones_test_helpers import rec, without_soa

from provisioner.zones.errors import ProviderError, ZoneNotFound
from provisioner.zones.plan import inverse
from provisioner.zones.plan import plan as planner
from provisioner.zones.providers.route53 import Route53Provider
from provisioner.zones.validate import desired_from_changes

ZONE = "stmarys.example.sch.uk"


@pytest.fixture
def provider(moto_url):
    return Route53Provider(endpoint_url=moto_url)


@pytest.fixture
def live(provider):
    return provider.create_zone(ZONE)


def test_create_zone_for_a_new_domain(provider, live):
    assert live.zone == ZONE
    [ns] = [r for r in live.records if r.type == "NS"]
    assert ns.name == ZONE and len(ns.values) == 4
    assert provider.read_zone(ZONE) == live
    # moto serves no DNS: nothing to verify against unless nameservers are configured.
    assert provider.nameservers(ZONE) == []
    configured = Route53Provider(endpoint_url=provider.endpoint_url, nameservers=["127.0.0.1:53"])
    assert configured.nameservers(ZONE) == ["127.0.0.1:53"]


def test_creating_an_existing_zone_returns_it_without_a_duplicate(provider, live):
    assert provider.create_zone(ZONE) == live
    zones = provider.client.list_hosted_zones()["HostedZones"]
    assert [z["Name"] for z in zones] == [ZONE + "."]


def test_unknown_zone_is_not_found(provider):
    with pytest.raises(ZoneNotFound, match="no public hosted zone absent.example.test"):
        provider.read_zone("absent.example.test")


def _seed(provider, records):
    """Records made outside the product (an adopted zone), written with UPSERT."""
    # moto refuses a CREATE identical to an earlier CREATE in its journal even after a
    # DELETE in the same batch (AWS applies a batch in order); seeding with UPSERT keeps
    # the rollback below about our behaviour, not that moto quirk.
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": r.name + ".",
                "Type": r.type,
                "TTL": r.ttl,
                "ResourceRecords": [{"Value": v} for v in r.values],
            },
        }
        for r in records
    ]
    provider.client.change_resource_record_sets(
        HostedZoneId=provider.zone_id(ZONE), ChangeBatch={"Changes": changes}
    )


def test_adopt_apply_plan_then_roll_back(provider, live):
    first = {
        rec(f"www.{ZONE}", "A", 300, "192.0.2.10", "192.0.2.11"),
        rec(f"*.{ZONE}", "TXT", 300, '"hello world" "second"'),
        rec(ZONE, "MX", 3600, "10 mail.example.net."),
        rec(f"old.{ZONE}", "CNAME", 300, f"www.{ZONE}."),
    }
    _seed(provider, first)
    before = provider.read_zone(ZONE)
    assert set(before.records) == without_soa(live.records) | first

    desired = set(before.records) - {
        rec(f"www.{ZONE}", "A", 300, "192.0.2.10", "192.0.2.11"),
        rec(f"old.{ZONE}", "CNAME", 300, f"www.{ZONE}."),
    } | {
        rec(f"www.{ZONE}", "A", 60, "192.0.2.20"),
        rec(f"_sip._tcp.{ZONE}", "SRV", 300, "1 2 5060 sip.example.net."),
    }
    plan = planner(desired, before)
    result = provider.apply(plan)
    assert result.atomic and result.messages == 1 and len(result.change_ids) == 1
    assert set(provider.read_zone(ZONE).records) == desired

    provider.apply(inverse(plan))
    assert provider.read_zone(ZONE) == before


def test_reading_pages_through_every_record_set(provider, live):
    many = {rec(f"h{i}.{ZONE}", "A", 300, f"198.51.100.{i % 250}") for i in range(400)}
    provider.apply(planner(without_soa(live.records) | many, live))
    assert many <= set(provider.read_zone(ZONE).records)


def test_more_records_than_a_batch_allows_are_split_and_not_atomic(moto_url, live):
    # Route 53's limit is 1,000 records per batch (the default); a lower one keeps
    # moto fast. test_default_limits_split_at_1000_records checks the real figure.
    provider = Route53Provider(endpoint_url=moto_url, max_records=100)
    many = {rec(f"h{i}.{ZONE}", "A", 300, f"198.51.100.{i % 250}") for i in range(150)}
    result = provider.apply(planner(without_soa(live.records) | many, live))
    assert not result.atomic and result.messages == 2 and len(result.change_ids) == 2
    assert "not atomic" in result.detail
    assert many <= set(provider.read_zone(ZONE).records)


def test_default_limits_split_at_1000_records(provider):
    groups = [
        [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": f"h{i}.{ZONE}.",
                    "ResourceRecords": [{"Value": "192.0.2.1"}],
                },
            }
        ]
        for i in range(1001)
    ]
    batches = provider._batches(groups, ZONE)
    assert [len(b) for b in batches] == [1000, 1]


def test_more_than_32000_characters_is_split(provider, live):
    long = '"' + "x" * 250 + '"'
    texts = {rec(f"t{i}.{ZONE}", "TXT", 300, long) for i in range(150)}  # ~37,800 characters
    result = provider.apply(planner(without_soa(live.records) | texts, live))
    assert not result.atomic and result.messages == 2
    assert texts <= set(provider.read_zone(ZONE).records)


def test_bad_endpoint_url_is_refused_early():
    with pytest.raises(ProviderError, match="must look like http://host:port"):
        Route53Provider(endpoint_url="localhost:5000")


def test_missing_credentials_for_real_aws_are_refused_early(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ProviderError, match="no AWS credentials"):
        Route53Provider()


def test_unreachable_endpoint_is_a_clear_error(monkeypatch):
    from zones_bind_server import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    provider = Route53Provider(endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError, match="Route 53 could not be reached"):
        provider.read_zone(ZONE)


def test_delete_zone_removes_an_empty_hosted_zone_and_refuses_one_with_records(provider, live):
    changes = [{"action": "add", "name": "www", "type": "A", "values": ["192.0.2.1"]}]
    other = provider.create_zone("other.example.test")
    provider.delete_zone("other.example.test")  # empty: gone, so it is no longer billed
    names = [z["Name"] for z in provider.client.list_hosted_zones()["HostedZones"]]
    assert names == [ZONE + "."] and other.zone == "other.example.test"

    provider.apply(planner(desired_from_changes(ZONE, changes, live.records), live))
    with pytest.raises(ProviderError, match="has records besides SOA and NS"):
        provider.delete_zone(ZONE)
    assert provider.read_zone(ZONE).records != live.records  # untouched, www still there
