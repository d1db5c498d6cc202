"""Route 53 provider (boto3).

A plan becomes ONE change batch, which Route 53 applies atomically. Every change
is guarded the way Route 53 allows: a create is a CREATE (fails if someone created
the set meanwhile), a delete is a DELETE of the exact values and TTL the plan saw
(fails if they changed), and an update is that DELETE plus a CREATE of the new set
in the same batch, so a concurrent edit rejects the whole batch (InvalidChangeBatch
-> ConflictError) instead of being overwritten. Only the apex NS and SOA, which
Route 53 will not delete, are changed with UPSERT. Batches beyond Route 53's limits
(1,000 records, 32,000 characters of values) are split and reported non-atomic.
After each batch GetChange is polled with back-off until INSYNC; throttling is
retried with back-off. sleep and clock are injectable for tests.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import dns.exception

from provisioner.errors import ProvisionerError
from provisioner.zones.errors import ConflictError, ProviderError, ZoneNotFound
from provisioner.zones.providers.base import ApplyResult, LiveZone
from provisioner.zones.records import Record, from_text

MAX_RECORDS = 1000
MAX_CHARS = 32000
RETRYABLE = {"Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded"}
_CONFLICT = ("already exists", "was not found", "do not match the current values")
_OCTAL = re.compile(r"\\(\d{3})")


class Route53Provider:
    name = "route53"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        client=None,
        nameservers: list[str] | None = None,
        sync_timeout: float = 300.0,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        max_retries: int = 6,
        max_records: int = MAX_RECORDS,
        max_chars: int = MAX_CHARS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.endpoint_url = endpoint_url
        self.client = client or _make_client(endpoint_url, region)
        self._nameservers = list(nameservers) if nameservers else None
        self.sync_timeout = sync_timeout
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.max_retries = max_retries
        self.max_records = max_records
        self.max_chars = max_chars
        self.sleep = sleep
        self.clock = clock
        self._zone_ids: dict[str, str] = {}

    # ---- zones -------------------------------------------------------------------

    def zone_id(self, zone: str) -> str:
        if zone not in self._zone_ids:
            found = self._call("list_hosted_zones_by_name", zone, DNSName=zone, MaxItems="1")
            public = [
                z
                for z in found.get("HostedZones", [])
                if z["Name"].rstrip(".").lower() == zone
                and not z.get("Config", {}).get("PrivateZone")
            ]
            if not public:
                raise ZoneNotFound(
                    f"Route 53 has no public hosted zone {zone}", fields={"zone": zone}
                )
            self._zone_ids[zone] = public[0]["Id"]
        return self._zone_ids[zone]

    def read_zone(self, zone: str) -> LiveZone:
        zone_id = self.zone_id(zone)
        merged: dict[tuple[str, str], Record] = {}
        start: dict = {}
        while True:
            page = self._call(
                "list_resource_record_sets", zone, HostedZoneId=zone_id, MaxItems="300", **start
            )
            for rrset in page["ResourceRecordSets"]:
                record = _record(rrset, zone)
                if record is None:
                    continue
                seen = merged.get(record.key)
                if seen:  # never from AWS; moto stores a CREATE over an existing set twice
                    values = tuple(sorted(set(seen.values) | set(record.values)))
                    record = Record(seen.name, seen.type, seen.ttl, values)
                merged[record.key] = record
            if not page.get("IsTruncated"):
                break
            start = {
                "StartRecordName": page["NextRecordName"],
                "StartRecordType": page["NextRecordType"],
            }
            if page.get("NextRecordIdentifier"):
                start["StartRecordIdentifier"] = page["NextRecordIdentifier"]
        return LiveZone(zone=zone, records=tuple(sorted(merged.values())), serial=None)

    def create_zone(self, zone: str) -> LiveZone:
        # Route 53 happily creates a second hosted zone of the same name (only one can
        # be delegated to): an existing zone is returned instead.
        try:
            return self.read_zone(zone)
        except ZoneNotFound:
            pass
        created = self._call(
            "create_hosted_zone",
            zone,
            Name=zone,
            CallerReference=f"provisioner-{zone}-{uuid.uuid4()}",  # unique: never a replay
            HostedZoneConfig={"Comment": "created by provisioner", "PrivateZone": False},
        )
        self._zone_ids[zone] = created["HostedZone"]["Id"]
        self._wait_insync(created["ChangeInfo"], zone)
        return self.read_zone(zone)

    def delete_zone(self, zone: str) -> None:
        try:
            live = self.read_zone(zone)
        except ZoneNotFound:
            return
        if any(r.type not in ("SOA", "NS") for r in live.records):
            raise ProviderError(
                f"The hosted zone {zone} has records besides SOA and NS: not deleting it",
                fields={"zone": zone},
            )
        # a hosted zone left behind is billed every month
        self._call("delete_hosted_zone", zone, Id=self.zone_id(zone))
        self._zone_ids.pop(zone, None)

    def nameservers(self, zone: str) -> list[str]:
        if self._nameservers is not None:
            return list(self._nameservers)
        if self.endpoint_url is not None:
            # A custom endpoint (moto, LocalStack) answers the API but serves no DNS:
            # nothing to verify against unless nameservers are configured.
            return []
        found = self._call("get_hosted_zone", zone, Id=self.zone_id(zone))
        return [f"{ns.rstrip('.')}:53" for ns in found["DelegationSet"]["NameServers"]]

    # ---- applying ----------------------------------------------------------------

    def apply(self, plan) -> ApplyResult:
        groups = [_aws_changes(change, plan.zone) for change in plan.changes]
        if not groups:
            return ApplyResult(atomic=True, messages=0, detail="nothing to change")
        zone_id = self.zone_id(plan.zone)
        batches = self._batches(groups, plan.zone)
        change_ids = []
        for index, batch in enumerate(batches):
            try:
                sent = self._call(
                    "change_resource_record_sets",
                    plan.zone,
                    HostedZoneId=zone_id,
                    ChangeBatch={"Comment": f"provisioner plan {plan_id(plan)}", "Changes": batch},
                )
            except ProvisionerError as exc:
                if index:
                    exc.message += f" ({index} of {len(batches)} batches were already applied)"
                    exc.args = (exc.message,)
                raise
            change_ids.append(sent["ChangeInfo"]["Id"])
            self._wait_insync(sent["ChangeInfo"], plan.zone)
        atomic = len(batches) == 1
        detail = f"{len(plan.changes)} changes in {len(batches)} change batch(es), INSYNC"
        if not atomic:
            detail += (
                "; not atomic: split to fit Route 53's limits of 1,000 records and"
                " 32,000 characters per batch"
            )
        return ApplyResult(
            atomic=atomic, messages=len(batches), detail=detail, change_ids=tuple(change_ids)
        )

    def _batches(self, groups: list[list[dict]], zone: str) -> list[list[dict]]:
        batches: list[list[dict]] = []
        current: list[dict] = []
        records = chars = 0
        for group in groups:
            g_records, g_chars = _cost(group)
            if g_records > self.max_records or g_chars > self.max_chars:
                name = group[0]["ResourceRecordSet"]["Name"]
                raise ProviderError(
                    f"the change to {name} alone exceeds Route 53's limits for one request",
                    fields={"zone": zone},
                )
            if current and (
                records + g_records > self.max_records or chars + g_chars > self.max_chars
            ):
                batches.append(current)
                current, records, chars = [], 0, 0
            current.extend(group)
            records += g_records
            chars += g_chars
        batches.append(current)
        return batches

    def _wait_insync(self, change_info: dict, zone: str) -> None:
        change_id, status = change_info["Id"], change_info["Status"]
        deadline = self.clock() + self.sync_timeout
        delay = self.first_delay
        while status != "INSYNC":
            now = self.clock()
            if now >= deadline:
                raise ProviderError(
                    f"Route 53 accepted change {change_id} for {zone} but it was still {status} "
                    f"after {self.sync_timeout:g} s; it normally completes on its own:"
                    " verify later",
                    fields={"zone": zone, "change_id": change_id},
                    code="change_pending",
                )
            self.sleep(min(delay, deadline - now))
            delay = min(delay * 2, self.max_delay)
            status = self._call("get_change", zone, Id=change_id)["ChangeInfo"]["Status"]

    # ---- calls and errors --------------------------------------------------------

    def _call(self, operation: str, zone: str, **params):
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        delay = self.first_delay
        for attempt in range(self.max_retries + 1):
            try:
                return getattr(self.client, operation)(**params)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in RETRYABLE and attempt < self.max_retries:
                    self.sleep(delay)
                    delay = min(delay * 2, self.max_delay)
                    continue
                raise _client_error(exc, code, zone, attempt) from None
            except BotoCoreError as exc:
                outcome = ""
                if operation == "change_resource_record_sets" and not isinstance(
                    exc, EndpointConnectionError
                ):
                    outcome = "; the change may or may not have been applied: plan again"
                raise ProviderError(
                    f"Route 53 could not be reached: {exc}{outcome}", fields={"zone": zone}
                ) from None
        raise AssertionError("unreachable")  # the loop returns or raises


def plan_id(plan) -> str:
    return (getattr(plan, "checksum", "") or "")[:12]


def _make_client(endpoint_url: str | None, region: str):
    if endpoint_url is not None and not re.match(r"^https?://[^/\s]+", endpoint_url):
        raise ProviderError(
            f"Route 53 endpoint URL {endpoint_url!r} must look like http://host:port",
            fields={"endpoint_url": "invalid"},
        )
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ProviderError("the route53 provider needs boto3: pip install boto3") from None
    session = boto3.session.Session()
    credentials = {}
    if session.get_credentials() is None:
        if endpoint_url is None:
            raise ProviderError(
                "no AWS credentials found for Route 53: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY or an AWS profile",
                fields={"credentials": "missing"},
            )
        # A local endpoint (moto) checks no signature, but botocore insists on one.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    # Retries are ours (with injectable sleep), so botocore's own are switched off.
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=30)
    return session.client(
        "route53", endpoint_url=endpoint_url, region_name=region, config=config, **credentials
    )


def _client_error(exc, code: str, zone: str, attempt: int) -> ProviderError:
    message = exc.response.get("Error", {}).get("Message", "") or str(exc)
    fields = {"zone": zone, "aws_code": code}
    if code == "InvalidChangeBatch" and any(p in message for p in _CONFLICT):
        return ConflictError(
            f"zone {zone} changed in Route 53 since the plan was made, so the whole change "
            f"batch was rejected and nothing changed: {message}. Plan again.",
            fields=fields,
        )
    if code == "NoSuchHostedZone":
        return ZoneNotFound(f"Route 53 has no hosted zone {zone}: {message}", fields=fields)
    if code in RETRYABLE:
        return ProviderError(
            f"Route 53 was still throttling ({code}) after {attempt + 1} attempts for {zone}; "
            "nothing more was sent, try again later",
            fields=fields,
        )
    return ProviderError(
        f"Route 53 refused the request for {zone} ({code}): {message}", fields=fields
    )


def _record(rrset: dict, zone: str) -> Record | None:
    # Alias, weighted/latency and traffic-policy sets have no plain-record form; and
    # the SOA belongs to Route 53 (plans never touch it).
    if rrset["Type"] == "SOA" or "AliasTarget" in rrset or "SetIdentifier" in rrset:
        return None
    name = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), rrset["Name"]).rstrip(".").lower()
    values = [rr["Value"] for rr in rrset.get("ResourceRecords", [])]
    try:
        return from_text(name, rrset["Type"], rrset["TTL"], values, zone)
    except dns.exception.DNSException as exc:
        raise ProviderError(
            f"Route 53 record {name} {rrset['Type']} has a value dnspython cannot read: {exc}",
            fields={"zone": zone, "record": f"{name} {rrset['Type']}"},
        ) from None


def _rrset(record: Record) -> dict:
    return {
        "Name": record.name + ".",
        "Type": record.type,
        "TTL": record.ttl,
        "ResourceRecords": [{"Value": v} for v in record.values],
    }


def _aws_changes(change, zone: str) -> list[dict]:
    old, new = change.existing, change.desired
    rec = new or old
    if new is None:
        return [{"Action": "DELETE", "ResourceRecordSet": _rrset(old)}]
    if old is None:
        return [{"Action": "CREATE", "ResourceRecordSet": _rrset(new)}]
    if rec.name == zone and rec.type in ("NS", "SOA"):
        return [{"Action": "UPSERT", "ResourceRecordSet": _rrset(new)}]
    return [
        {"Action": "DELETE", "ResourceRecordSet": _rrset(old)},
        {"Action": "CREATE", "ResourceRecordSet": _rrset(new)},
    ]


def _cost(group: list[dict]) -> tuple[int, int]:
    """Route 53's count: every value once, twice for an UPSERT."""
    records = chars = 0
    for change in group:
        weight = 2 if change["Action"] == "UPSERT" else 1
        values = [rr["Value"] for rr in change["ResourceRecordSet"]["ResourceRecords"]]
        records += weight * len(values)
        chars += weight * sum(len(v) for v in values)
    return records, chars
