"""RFC 2136 provider: any primary server that takes TSIG-signed UPDATEs (BIND).

Reads a zone by AXFR. Applies a whole plan in ONE UPDATE over TCP, with a
prerequisite on every record set it touches: the set must still hold exactly the
values the plan saw (`present` with the full rdataset), and a set the plan creates
must still be absent. The server checks every prerequisite before changing
anything, so a concurrent edit makes the whole update fail (YXRRSET/NXRRSET) and
leaves the zone as it was. Prerequisites compare values, not TTLs (RFC 2136 3.2.5).
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.update
import dns.xfr
import dns.zone

from provisioner.zones.dnsio import abs_name, parse_server, rdatas, records_from_zone
from provisioner.zones.errors import ConflictError, ProviderError, ZoneNotFound
from provisioner.zones.providers.base import ApplyResult, LiveZone
from provisioner.zones.records import Record

MAX_MESSAGE = 65535  # a DNS message over TCP has a 16-bit length
_KEY_RE = re.compile(r'key\s+"?([^"\s{]+)"?\s*\{(.*?)\}\s*;', re.S)


def load_tsig_key(text: str, key_name: str | None = None, source: str = "key file") -> dns.tsig.Key:
    """Parse a BIND key file (`key "name" { algorithm hmac-sha256; secret "..."; };`)."""
    keys = {}
    for name, body in _KEY_RE.findall(text):
        algorithm = re.search(r"algorithm\s+([\w.-]+)\s*;", body)
        secret = re.search(r'secret\s+"([^"]+)"\s*;', body)
        if not (algorithm and secret):
            raise ProviderError(f"{source}: key {name!r} needs both an algorithm and a secret")
        keys[name] = (algorithm.group(1), secret.group(1))
    if not keys:
        raise ProviderError(f'{source}: no `key "name" {{ algorithm ...; secret "..."; }};` found')
    if key_name is None:
        if len(keys) > 1:
            raise ProviderError(f"{source}: several keys ({', '.join(keys)}); say which one")
        key_name = next(iter(keys))
    if key_name not in keys:
        raise ProviderError(f"{source}: no key named {key_name!r} (found {', '.join(keys)})")
    algorithm, secret = keys[key_name]
    try:
        key = dns.tsig.Key(key_name, secret, algorithm)
        dns.tsig.get_context(key)  # rejects algorithms dnspython cannot sign with
    except (ValueError, NotImplementedError, dns.exception.DNSException) as exc:
        raise ProviderError(f"{source}: key {key_name!r} is not usable: {exc}") from None
    return key


@dataclass(frozen=True)
class _Part:
    changes: tuple
    message: dns.update.UpdateMessage
    wire: bytes


class Rfc2136Provider:
    name = "rfc2136"

    def __init__(
        self,
        server: str,
        *,
        key_file: str | Path | None = None,
        key_text: str | None = None,
        key_name: str | None = None,
        nameservers: list[str] | None = None,
        timeout: float = 10.0,
        max_message_size: int = MAX_MESSAGE,
    ):
        self.server = server
        self.host, self.port = parse_server(server)
        if key_text is None and key_file is not None:
            try:
                key_text = Path(key_file).read_text()
            except OSError as exc:
                raise ProviderError(
                    f"cannot read TSIG key file {key_file}: {exc.strerror}"
                ) from None
        if key_text is None:
            raise ProviderError("the rfc2136 provider needs a TSIG key file")
        self.key = load_tsig_key(key_text, key_name, source=str(key_file or "TSIG key"))
        self._nameservers = list(nameservers) if nameservers else [server]
        self.timeout = timeout
        self.max_message_size = max_message_size

    def __repr__(self) -> str:  # never show the secret
        return f"Rfc2136Provider({self.server!r}, key={self.key.name.to_text()!r})"

    def nameservers(self, zone: str) -> list[str]:
        return list(self._nameservers)

    # ---- reading -----------------------------------------------------------------

    def read_zone(self, zone: str) -> LiveZone:
        origin = abs_name(zone)
        z = dns.zone.Zone(origin, relativize=False)
        query, _ = dns.xfr.make_query(z, keyring=self.key, keyname=self.key.name)
        try:
            dns.query.inbound_xfr(
                self.host, z, query, port=self.port, timeout=self.timeout, lifetime=self.timeout * 6
            )
        except dns.xfr.TransferError as exc:
            if exc.rcode in (dns.rcode.NOTAUTH, dns.rcode.NOTZONE):
                raise ZoneNotFound(
                    f"{self.server} does not serve zone {zone}", fields={"zone": zone}
                ) from None
            raise self._rcode_error(exc.rcode, zone, "transfer") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise self._transport_error(exc, zone, "transfer") from None
        records, serial = records_from_zone(z)
        return LiveZone(zone=zone, records=records, serial=serial)

    def create_zone(self, zone: str) -> LiveZone:
        # RFC 2136 cannot create zones; BIND zones are configured on the server.
        try:
            return self.read_zone(zone)
        except ZoneNotFound:
            raise ProviderError(
                f"zone {zone} is not configured on {self.server}: add a primary zone with "
                f"allow-update and allow-transfer for key {self.key.name.to_text(True)!r} to "
                "named.conf (dns/add-zone.sh does this for a dev server), then adopt it",
                fields={"zone": zone},
            ) from None

    def delete_zone(self, zone: str) -> None:
        # create_zone never creates one here, so there is never one of ours to undo
        raise ProviderError(
            f"zone {zone} is configured in named.conf on {self.server}; remove it there",
            fields={"zone": zone},
        )

    # ---- applying ----------------------------------------------------------------

    def apply(self, plan) -> ApplyResult:
        changes = tuple(plan.changes)
        if not changes:
            return ApplyResult(atomic=True, messages=0, detail="nothing to change")
        parts = self._split(plan.zone, changes)
        for index, part in enumerate(parts):
            try:
                self._send(plan.zone, part)
            except ConflictError as exc:
                self._raise_conflict(plan.zone, part.changes, exc, index, len(parts))
            except ProviderError as exc:
                if index:
                    exc.message += f" ({index} of {len(parts)} parts were already applied)"
                    exc.args = (exc.message,)
                raise
        total = sum(len(p.wire) for p in parts)
        if len(parts) == 1:
            detail = f"{len(changes)} changes in one UPDATE ({total} bytes)"
        else:
            detail = (
                f"{len(changes)} changes split into {len(parts)} UPDATEs ({total} bytes): "
                "not atomic, a failure part-way leaves earlier parts applied"
            )
        return ApplyResult(atomic=len(parts) == 1, messages=len(parts), detail=detail)

    def _message(self, zone: str, changes: tuple) -> dns.update.UpdateMessage:
        # Record sets are built directly rather than through UpdateMessage.present/add,
        # whose per-call lookups cost more than the rendering for large plans.
        msg = dns.update.UpdateMessage(abs_name(zone), keyring=self.key, keyname=self.key.name)
        for change in changes:
            existing, desired = change.existing, change.desired
            rec = existing or desired
            name = abs_name(rec.name)
            rdtype = dns.rdatatype.from_text(rec.type)
            old = rdatas(existing) if existing else None
            if old is None:  # "RRset does not exist" (RFC 2136 2.4.3)
                msg.prerequisite.append(_rrset(name, rdtype, rdclass=dns.rdataclass.NONE))
            else:  # "RRset exists (value dependent)" (2.4.2): exactly these values
                msg.prerequisite.append(_rrset(name, rdtype, 0, old))
            msg.update.extend(_updates(zone, name, rdtype, rec, old, desired))
        return msg

    def _split(self, zone: str, changes: tuple) -> list[_Part]:
        msg = self._message(zone, changes)
        try:
            return [_Part(changes, msg, msg.to_wire(max_size=self.max_message_size))]
        except dns.exception.TooBig:
            if len(changes) == 1:
                rec = changes[0].desired or changes[0].existing
                raise ProviderError(
                    f"the change to {rec.name} {rec.type} alone is larger than a DNS message"
                ) from None
        # Size the parts from the full (oversized) rendering, then check each part.
        size = len(msg.to_wire(max_size=2**31))
        count = -(-size // int(self.max_message_size * 0.9))
        step = -(-len(changes) // count)
        parts: list[_Part] = []
        for start in range(0, len(changes), step):
            parts.extend(self._split(zone, changes[start : start + step]))
        return parts

    def _send(self, zone: str, part: _Part) -> None:
        expiration = time.time() + self.timeout
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                dns.query.send_tcp(sock, part.wire, expiration)
                response, _ = dns.query.receive_tcp(
                    sock, expiration, keyring=part.message.keyring, request_mac=part.message.mac
                )
        except (dns.exception.DNSException, OSError) as exc:
            raise self._transport_error(exc, zone, "update") from None
        if not part.message.is_response(response):
            raise ProviderError(
                f"DNS server {self.server} answered something other than our update of "
                f"zone {zone}; whether it was applied is unknown: plan again to see the zone",
                fields={"zone": zone},
            )
        rcode = response.rcode()
        if rcode == dns.rcode.NOERROR:
            return
        if rcode in (dns.rcode.YXRRSET, dns.rcode.NXRRSET, dns.rcode.YXDOMAIN, dns.rcode.NXDOMAIN):
            raise ConflictError(dns.rcode.to_text(rcode))
        raise self._rcode_error(rcode, zone, "update")

    def _raise_conflict(self, zone, changes, exc, index, count):
        where = f" ({index} of {count} earlier parts were applied)" if index else ""
        changed = self._changed_since_plan(zone, changes)
        names = ", ".join(f"{r.name} {r.type}" for r in changed[:10])
        if len(changed) > 10:
            names += f" and {len(changed) - 10} more"
        what = f": {names} changed on the server" if names else ""
        raise ConflictError(
            f"zone {zone} was edited since the plan was made{what}; the server refused the "
            f"update ({exc.message}) and changed nothing{where}. Plan again.",
            fields={"zone": zone, "changed": [f"{r.name} {r.type}" for r in changed]},
        ) from None

    def _changed_since_plan(self, zone: str, changes: tuple) -> list[Record]:
        try:
            live = {r.key: r for r in self.read_zone(zone).records}
        except ProviderError:
            return []
        changed = []
        for change in changes:
            seen = change.existing
            key = (seen or change.desired).key
            now = live.get(key)
            if (seen.values if seen else None) != (now.values if now else None):
                changed.append(seen or change.desired)
        return changed

    # ---- errors ------------------------------------------------------------------

    def _rcode_error(self, rcode, zone: str, what: str) -> ProviderError:
        text = dns.rcode.to_text(rcode)
        reasons = {
            dns.rcode.REFUSED: f"refused the {what} of zone {zone}: the zone may be frozen "
            f"(rndc freeze), key {self.key.name.to_text(True)!r} may not be allowed to do this, "
            "or the server's own checks rejected a record (BIND refuses an in-zone MX or SRV "
            "target without an address record, and A, AAAA or MX records whose owner is not a "
            "host name, such as _dmarc; its log says which)",
            dns.rcode.NOTAUTH: f"is not authoritative for zone {zone} (or did not accept the key)",
            dns.rcode.NOTZONE: f"says a record is outside zone {zone}",
            dns.rcode.SERVFAIL: f"failed internally during the {what} of zone {zone}",
            dns.rcode.FORMERR: f"could not parse the {what} message for zone {zone}",
        }
        reason = reasons.get(rcode, f"answered {text} to the {what} of zone {zone}")
        return ProviderError(
            f"DNS server {self.server} {reason} ({text}); nothing was changed",
            fields={"zone": zone, "rcode": text},
        )

    def _transport_error(self, exc: BaseException, zone: str, what: str) -> ProviderError:
        key = self.key.name.to_text(True)
        if isinstance(exc, dns.tsig.PeerBadSignature):
            reason = f"rejected the signature of TSIG key {key!r}: the secret is wrong"
        elif isinstance(exc, dns.tsig.PeerBadKey):
            reason = f"does not know TSIG key {key!r}"
        elif isinstance(exc, dns.tsig.PeerBadTime):
            reason = "rejected the TSIG signature time: check both clocks"
        elif isinstance(exc, (dns.tsig.BadSignature, dns.tsig.PeerError)):
            reason = f"sent an answer whose TSIG check failed ({exc})"
        elif isinstance(exc, dns.exception.Timeout | TimeoutError):
            reason = f"did not answer the {what} within {self.timeout:g} s"
        elif isinstance(exc, ConnectionRefusedError):
            reason = "refused the connection: is named running on that port?"
        elif isinstance(exc, OSError):
            reason = f"could not be reached for the {what}: {exc}"
        else:
            reason = f"sent an answer to the {what} that could not be used: {exc}"
        # The server rejects a bad signature before looking at the update, and a refused
        # connection sent nothing; otherwise the update may have landed before the failure.
        rejected = isinstance(exc, dns.tsig.PeerError | ConnectionRefusedError)
        if what != "update" or rejected:
            outcome = "nothing was changed"
        else:
            outcome = "the update may or may not have been applied: plan again to see the zone"
        return ProviderError(
            f"DNS server {self.server} {reason} (zone {zone}); {outcome}",
            fields={"zone": zone},
        )


def _rrset(name, rdtype, ttl=0, rds=(), rdclass=dns.rdataclass.IN, deleting=None):
    rrset = dns.rrset.RRset(name, rdclass, rdtype, deleting=deleting)
    rrset.update_ttl(ttl)
    for rd in rds:
        rrset.add(rd)
    return rrset


def _updates(zone: str, name, rdtype, rec: Record, old, desired) -> list:
    delete_rrset = _rrset(name, rdtype, deleting=dns.rdataclass.ANY)
    if desired is None:
        return [delete_rrset]
    new = rdatas(desired)
    add = _rrset(name, rdtype, desired.ttl, new)
    if old is None:
        return [add]
    if rdtype == dns.rdatatype.SOA:
        return [add]  # an SOA add replaces the SOA
    if rec.name == zone and rdtype == dns.rdatatype.NS:
        # Deleting the whole apex NS rrset is ignored by servers (RFC 2136 3.4.2.4):
        # add the new set, then remove the old values that are no longer wanted.
        gone = [rd for rd in old if rd not in set(new)]
        if gone:
            return [add, _rrset(name, rdtype, 0, gone, deleting=dns.rdataclass.NONE)]
        return [add]
    return [delete_rrset, add]
