"""Route 53 behaviour moto does not reproduce, with botocore's Stubber: PENDING ->
INSYNC polling, throttling, and AWS's exact errors. The Stubber also checks that each
request is exactly what AWS must receive."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber
from zones_test_helpers import creating, rec

from provisioner.zones.errors import ConflictError, ProviderError
from provisioner.zones.plan import Delete, Plan, Update, checksum
from provisioner.zones.providers.route53 import Route53Provider

ZONE = "stmarys.example.sch.uk"
ZONE_ID = "/hostedzone/Z0123456789ABC"
NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC)


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def stubbed(fake_time):
    client = boto3.client(
        "route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    provider = Route53Provider(
        client=client, sleep=fake_time.sleep, clock=fake_time.clock, sync_timeout=60
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "list_hosted_zones_by_name",
            {
                "HostedZones": [{"Id": ZONE_ID, "Name": ZONE + ".", "CallerReference": "r"}],
                "IsTruncated": False,
                "MaxItems": "1",
            },
            {"DNSName": ZONE, "MaxItems": "1"},
        )
        yield provider, stubber
        stubber.assert_no_pending_responses()


def _info(status, change_id="/change/C1"):
    return {"ChangeInfo": {"Id": change_id, "Status": status, "SubmittedAt": NOW}}


def _rrset(r):
    return {
        "Name": r.name + ".",
        "Type": r.type,
        "TTL": r.ttl,
        "ResourceRecords": [{"Value": v} for v in r.values],
    }


def _plan(*changes):
    return Plan(ZONE, changes, checksum(ZONE, changes))


OLD = rec(f"www.{ZONE}", "A", 300, "192.0.2.10")
NEW = rec(f"www.{ZONE}", "A", 60, "192.0.2.20")
GONE = rec(f"old.{ZONE}", "CNAME", 300, f"www.{ZONE}.")
API = rec(f"api.{ZONE}", "A", 300, "192.0.2.5")


def test_batch_guards_every_change_and_polls_until_insync(stubbed, fake_time):
    provider, stubber = stubbed
    plan = _plan(Delete(GONE), Update(OLD, NEW))
    stubber.add_response(
        "change_resource_record_sets",
        _info("PENDING"),
        {
            "HostedZoneId": ZONE_ID,
            "ChangeBatch": {
                "Comment": f"provisioner plan {plan.checksum[:12]}",
                "Changes": [
                    {"Action": "DELETE", "ResourceRecordSet": _rrset(GONE)},
                    {"Action": "DELETE", "ResourceRecordSet": _rrset(OLD)},
                    {"Action": "CREATE", "ResourceRecordSet": _rrset(NEW)},
                ],
            },
        },
    )
    stubber.add_response("get_change", _info("PENDING"), {"Id": "/change/C1"})
    stubber.add_response("get_change", _info("PENDING"), {"Id": "/change/C1"})
    stubber.add_response("get_change", _info("INSYNC"), {"Id": "/change/C1"})

    result = provider.apply(plan)
    assert result.atomic and result.change_ids == ("/change/C1",)
    assert fake_time.sleeps == [1.0, 2.0, 4.0]  # exponential back-off between polls


def test_change_still_pending_at_the_limit_is_reported(stubbed, fake_time):
    provider, stubber = stubbed
    stubber.add_response("change_resource_record_sets", _info("PENDING"))
    for _ in range(6):  # polls after 1, 2, 4, 8, 16 and 29 s of waiting: the 60 s limit
        stubber.add_response("get_change", _info("PENDING"), {"Id": "/change/C1"})
    with pytest.raises(ProviderError, match="still PENDING after 60 s") as caught:
        provider.apply(creating(ZONE, API))
    assert caught.value.code == "change_pending"
    assert caught.value.fields["change_id"] == "/change/C1"
    assert sum(fake_time.sleeps) == pytest.approx(60)


@pytest.mark.parametrize("code", ["Throttling", "PriorRequestNotComplete"])
def test_throttling_is_retried_with_back_off(stubbed, fake_time, code):
    provider, stubber = stubbed
    for _ in range(2):
        stubber.add_client_error(
            "change_resource_record_sets",
            service_error_code=code,
            service_message="Rate exceeded",
            http_status_code=400,
        )
    stubber.add_response("change_resource_record_sets", _info("INSYNC"))
    result = provider.apply(creating(ZONE, API))
    assert result.messages == 1
    assert fake_time.sleeps == [1.0, 2.0]


def test_throttling_that_never_stops_is_a_clear_error(stubbed, fake_time):
    provider, stubber = stubbed
    provider.max_retries = 2
    for _ in range(3):
        stubber.add_client_error(
            "change_resource_record_sets",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
        )
    with pytest.raises(ProviderError, match="still throttling .* after 3 attempts"):
        provider.apply(creating(ZONE, API))


@pytest.mark.parametrize(
    "aws_message",
    [
        f"[Tried to create resource record set [name='api.{ZONE}.', type='A'] "
        "but it already exists]",
        f"[Tried to delete resource record set [name='www.{ZONE}.', type='A'] "
        "but it was not found]",
        f"[Tried to delete resource record set [name='www.{ZONE}.', type='A'] but the values "
        "provided do not match the current values]",
    ],
)
def test_concurrent_edit_is_a_conflict_with_aws_message(stubbed, aws_message):
    provider, stubber = stubbed
    stubber.add_client_error(
        "change_resource_record_sets",
        service_error_code="InvalidChangeBatch",
        service_message=aws_message,
        http_status_code=400,
    )
    with pytest.raises(ConflictError) as caught:
        provider.apply(_plan(Update(OLD, NEW)))
    assert aws_message in caught.value.message
    assert "nothing changed" in caught.value.message


def test_other_invalid_batches_are_provider_errors_not_conflicts(stubbed):
    provider, stubber = stubbed
    message = f"RRSet of type CNAME with DNS name {ZONE}. is not permitted at apex in zone {ZONE}."
    stubber.add_client_error(
        "change_resource_record_sets",
        service_error_code="InvalidChangeBatch",
        service_message=message,
        http_status_code=400,
    )
    with pytest.raises(ProviderError, match="InvalidChangeBatch") as caught:
        provider.apply(creating(ZONE, rec(ZONE, "CNAME", 300, "elsewhere.example.net.")))
    assert message in caught.value.message


def test_access_denied_is_a_clear_error(stubbed):
    provider, stubber = stubbed
    stubber.add_client_error(
        "change_resource_record_sets",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::1:user/x is not authorized",
        http_status_code=403,
    )
    with pytest.raises(ProviderError, match=r"refused the request .*\(AccessDenied\): User"):
        provider.apply(creating(ZONE, API))


def test_apex_ns_is_upserted(stubbed):
    provider, stubber = stubbed
    old = rec(ZONE, "NS", 172800, "ns-1.awsdns-01.org.")
    new = rec(ZONE, "NS", 3600, "ns-1.awsdns-01.org.")
    plan = _plan(Update(old, new))
    stubber.add_response(
        "change_resource_record_sets",
        _info("INSYNC"),
        {
            "HostedZoneId": ZONE_ID,
            "ChangeBatch": {
                "Comment": f"provisioner plan {plan.checksum[:12]}",
                "Changes": [{"Action": "UPSERT", "ResourceRecordSet": _rrset(new)}],
            },
        },
    )
    provider.apply(plan)


def test_nameservers_are_the_zones_delegation_set(stubbed):
    provider, stubber = stubbed
    stubber.add_response(
        "get_hosted_zone",
        {
            "HostedZone": {"Id": ZONE_ID, "Name": ZONE + ".", "CallerReference": "r"},
            "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk."]},
        },
        {"Id": ZONE_ID},
    )
    assert provider.nameservers(ZONE) == ["ns-1.awsdns-01.org:53", "ns-2.awsdns-02.co.uk:53"]
