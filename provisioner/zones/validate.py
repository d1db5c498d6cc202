"""Turn what a school asked for into a valid desired zone, or say exactly why not.

Values are parsed with dnspython's rdata parsers and kept in canonical
presentation form (records.canonical_text). Every rule failure names the
change (or record) and the rule; when anything is invalid, nothing proceeds.
Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.tokenizer

from provisioner.zones import mailauth
from provisioner.zones.errors import InvalidRecords
from provisioner.zones.records import (
    SUPPORTED_TYPES,
    Record,
    by_key,
    canonical_text,
    make,
    parse_value,
)

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
_TXT_CHUNK = 255
# Where in each type's presentation form the host-name field sits.
_TARGET_TOKEN = {"CNAME": 0, "NS": 0, "PTR": 0, "MX": 1, "SRV": 3}
_HOST_TARGET_TYPES = ("CNAME", "MX", "NS", "SRV")
_ACTIONS = ("add", "replace", "delete")
_MAIL_AUTH = re.compile(r"v\s*=\s*(spf1|dmarc1)", re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    ttl_min: int = 60
    ttl_max: int = 86400
    default_ttl: int = 3600


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class DesiredZone:
    """A zone as it should be: every record set, plus warnings worth reading."""

    zone: str
    records: tuple[Record, ...]
    warnings: tuple[str, ...] = ()


class _Bad(Exception):
    """One rule broken; turned into a message naming the change or record."""


def normalise_zone(zone: str) -> str:
    """'Stmarys.Essex.SCH.uk.' -> 'stmarys.essex.sch.uk'; IDN -> punycode."""
    try:
        name = dns.name.from_text(zone.strip().rstrip(".") + ".")
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise InvalidRecords([f"zone '{zone}' is not a valid domain name ({exc})"]) from exc
    if len(name.labels) < 2:
        raise InvalidRecords([f"zone '{zone}' is not a valid domain name"])
    return name.canonicalize().to_text(omit_final_dot=True)


def owner_name(name: str, zone: str) -> str:
    """An owner name as the user gave it -> absolute lower-case punycode, no dot.

    '@' is the apex; a name with a trailing dot, or ending in the zone name, is
    fully qualified; anything else is relative to the zone.
    """
    text = str(name).strip()
    if text in ("", "."):
        raise _Bad("the name is empty")
    if text == "@":
        return zone
    qualified = text.endswith(".")
    try:
        ascii_name = dns.name.from_text(text.rstrip("."), origin=None).to_text().lower()
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise _Bad(f"'{text}' is not a valid name ({_reason(exc)})") from exc
    inside = ascii_name == zone or ascii_name.endswith("." + zone)
    if qualified and not inside:
        raise _Bad(f"{text} is not inside the zone {zone}")
    full = ascii_name if inside else f"{ascii_name}.{zone}"
    _check_owner_labels(full, zone)
    return full


def _check_owner_labels(full: str, zone: str) -> None:
    if len(full) > 253:  # 255 octets on the wire
        raise _Bad(f"'{full}' is not a valid name (longer than 255 octets)")
    own = full[: -len(zone)].rstrip(".").split(".") if full != zone else []
    for index, label in enumerate(own):
        if label == "*":
            if index != 0:
                raise _Bad("a wildcard '*' must be the leftmost label")
            continue
        if "*" in label:
            raise _Bad(f"'{label}': a wildcard '*' must be a whole label on its own")
        if not _LABEL.match(label) or len(label) > 63:
            raise _Bad(
                f"label '{label}' may only hold letters, digits, hyphens and underscores,"
                " may not start or end with a hyphen, and is at most 63 long"
            )


def _reason(exc: BaseException) -> str:
    return str(exc).rstrip(".") or type(exc).__name__


def check_ttl(ttl, rules: Rules) -> int:
    if isinstance(ttl, bool) or not (
        isinstance(ttl, int) or (isinstance(ttl, str) and ttl.isdigit())
    ):
        raise _Bad(f"TTL {ttl!r} is not a whole number of seconds")
    ttl = int(ttl)
    if not rules.ttl_min <= ttl <= rules.ttl_max:
        raise _Bad(f"TTL {ttl} is outside the allowed {rules.ttl_min}-{rules.ttl_max} seconds")
    return ttl


def check_type(rtype) -> str:
    text = str(rtype or "").strip().upper()
    if text == "SOA":
        raise _Bad("the SOA record is managed by the server and cannot be changed")
    if text not in SUPPORTED_TYPES:
        raise _Bad(f"type '{rtype}' is not supported; use one of {', '.join(SUPPORTED_TYPES)}")
    return text


def parse_values(name: str, rtype: str, values, zone: str) -> tuple[tuple[str, ...], list[str]]:
    """Parse, check and canonicalise the values of one record set of `name`."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise _Bad("values must be a list of strings")
    values = list(values)
    if not values:
        raise _Bad("at least one value is needed")
    if rtype == "CNAME" and len(values) != 1:
        raise _Bad("a CNAME holds exactly one target")
    warnings: list[str] = []
    texts = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise _Bad(f"value {value!r} is empty or not a string")
        rdata = _parse_one(rtype, value.strip(), zone)
        text = canonical_text(rdata)
        warnings += check_value(name, rtype, text, zone)
        warnings += _relative_target_warning(rtype, value.strip(), zone)
        texts.append(text)
    return tuple(sorted(set(texts))), warnings


def _parse_one(rtype: str, text: str, zone: str) -> dns.rdata.Rdata:
    try:
        if rtype == "TXT":
            return txt_rdata(text)
        return parse_value(rtype, text, zone)
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        raise _Bad(f"'{text}' is not a valid {rtype} value ({_reason(exc)})") from exc


def txt_rdata(text: str) -> dns.rdata.Rdata:
    """A TXT value: quoted presentation form ('"a" "b"') or plain text. Any
    string longer than 255 bytes is split into 255-byte strings."""
    if text.startswith('"'):
        tok = dns.tokenizer.Tokenizer(text)
        strings = []
        while True:
            token = tok.get().unescape_to_bytes()
            if token.is_eol_or_eof():
                break
            if not (token.is_quoted_string() or token.is_identifier()):
                raise dns.exception.SyntaxError("expected a string")
            strings.append(token.value)
    else:
        strings = [text.encode()]
    chunks = [s[i : i + _TXT_CHUNK] for s in strings for i in range(0, max(len(s), 1), _TXT_CHUNK)]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


def txt_joined(value: str) -> str:
    """The strings of a canonical TXT value joined, as mail software reads them."""
    if "\\" not in value:  # no escapes: the strings are exactly what sits between quotes
        return "".join(value.split('"')[1::2])
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, value)
    return b"".join(rdata.strings).decode("utf-8", "replace")


def check_value(name: str, rtype: str, text: str, zone: str) -> list[str]:
    """Rules on one canonical value; raises _Bad, returns warnings. The canonical
    form puts the host name last, so no second parse is needed for targets."""
    if rtype in _HOST_TARGET_TYPES:
        target = text.split()[-1].rstrip(".")
        if target.endswith("." + zone):
            target = target[: -len(zone) - 1]
        if target and _looks_like_address(target):
            raise _Bad(f"target {target} is an address; {rtype} needs a host name")
    if rtype == "NS" and name.startswith("*."):
        raise _Bad("NS records cannot be wildcards")
    if rtype == "TXT" and (name.startswith("_dmarc.") or _MAIL_AUTH.search(text)):
        return _mail_auth_warnings(name, txt_joined(text))
    return []


def _looks_like_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        # No top-level domain is all digits, so an all-numeric name is an address typo.
        return ":" in text or all(label.isdigit() for label in text.split("."))


def _mail_auth_warnings(name: str, text: str) -> list[str]:
    at_dmarc = name.startswith("_dmarc.")
    if mailauth.is_spf(text):
        return [f"SPF value does not parse: {p}" for p in mailauth.spf_problems(text)]
    if at_dmarc or mailauth.is_dmarc(text):
        warnings = [f"DMARC value does not parse: {p}" for p in mailauth.dmarc_problems(text)]
        if not at_dmarc:
            warnings.append("a DMARC record only takes effect at _dmarc.<domain>")
        return warnings
    return []


def _relative_target_warning(rtype: str, value: str, zone: str) -> list[str]:
    index = _TARGET_TOKEN.get(rtype)
    tokens = value.split()
    if index is None or len(tokens) <= index:
        return []
    target = tokens[index]
    if target.endswith(".") or target == "@" or "." not in target:
        return []
    return [f"target '{target}' has no trailing dot, so it means {target}.{zone}."]


def zone_problems(zone: str, records: Mapping[tuple[str, str], Record], names) -> tuple:
    """Rules across record sets, for the given owner names.

    Returns (errors, warnings), each a list of (name, types involved, message)."""
    names = set(names)
    errors: list[tuple[str, tuple[str, ...], str]] = []
    warnings: list[tuple[str, tuple[str, ...], str]] = []
    types_at: dict[str, set[str]] = {}
    for name, rtype in records:
        types_at.setdefault(name, set()).add(rtype)
    cnames = {name for name, types in types_at.items() if "CNAME" in types}
    for name in sorted(names):
        types = types_at.get(name, set())
        if "CNAME" in types and name == zone:
            errors.append((name, ("CNAME",), "a CNAME is not allowed at the zone apex"))
        elif "CNAME" in types and len(types) > 1:
            others = sorted(types - {"CNAME"})
            message = f"a CNAME must be alone at its name, but {name} also has {', '.join(others)}"
            errors.append((name, ("CNAME", *others), message))
        txt = records.get((name, "TXT"))
        spf = [v for v in txt.values if "spf1" in v.lower()] if txt else []
        if len(spf) > 1 and sum(mailauth.is_spf(txt_joined(v)) for v in spf) > 1:
            errors.append((name, ("TXT",), f"{name} has more than one SPF record"))
    for (name, rtype), record in records.items():
        if rtype not in ("MX", "SRV"):
            continue
        for value in record.values:
            target = value.split()[-1].rstrip(".")
            if target in cnames and (name in names or target in names):
                message = (
                    f"{rtype} target {target} is a CNAME; mail and SRV clients may not follow it"
                )
                warnings.append((name, (rtype,), message))
    return errors, warnings


def _label(index: int, change) -> str:
    if not isinstance(change, Mapping):
        return f"change {index}"
    return f"change {index} ({str(change.get('type', '?')).upper()} {change.get('name', '?')})"


def _apply_change(zone: str, change, records: dict, rules: Rules) -> tuple[str, list[str]]:
    """Apply one change to the working zone in place; returns (owner name, warnings)."""
    if not isinstance(change, Mapping):
        raise _Bad("must be an object with action, name, type and values")
    action = str(change.get("action", "")).lower()
    if action not in _ACTIONS:
        raise _Bad(f"action '{change.get('action')}' must be one of {', '.join(_ACTIONS)}")
    rtype = check_type(change.get("type"))
    name = owner_name(change.get("name", ""), zone)
    key = (name, rtype)
    current = records.get(key)
    if action == "delete":
        if current is None:
            raise _Bad(f"there is no {rtype} record at {name} to delete")
        if key == (zone, "NS"):
            named = change.get("values")
            dropped = parse_values(name, rtype, named, zone)[0] if named else current.values
            if not set(current.values) - set(dropped):
                raise _Bad("the zone's own NS records can be replaced but not all deleted")
        if not change.get("values"):
            del records[key]
            return name, []
        drop, _ = parse_values(name, rtype, change["values"], zone)
        missing = [v for v in drop if v not in current.values]
        if missing:
            raise _Bad(f"{', '.join(missing)} is not a value of {rtype} {name}")
        kept = [v for v in current.values if v not in drop]
        if kept:
            records[key] = make(name, rtype, current.ttl, kept)
        else:
            del records[key]
        return name, []
    values, warnings = parse_values(name, rtype, change.get("values"), zone)
    if change.get("ttl") is not None:
        ttl = check_ttl(change["ttl"], rules)
    else:
        ttl = current.ttl if current else rules.default_ttl
    if action == "add" and current is not None:
        present = [v for v in values if v in current.values]
        if present:
            raise _Bad(f"{', '.join(present)} already exists at {name}")
        if rtype == "CNAME":
            raise _Bad(f"{name} already has a CNAME; use replace to change it")
        values = current.values + values
    records[key] = make(name, rtype, ttl, values)
    return name, warnings


def desired_from_changes(
    zone: str, changes, live_records: Iterable[Record], rules: Rules = DEFAULT_RULES
) -> DesiredZone:
    """The zone after the user's changes (the API's JSON shape), applied in order
    to the live zone. Raises InvalidRecords with one message per bad change."""
    zone = normalise_zone(zone)
    if isinstance(changes, (str, bytes)) or not isinstance(changes, Iterable):
        raise InvalidRecords(["changes must be a list"])
    changes = list(changes)
    if not changes:
        raise InvalidRecords(["there are no changes"])
    records = by_key(live_records)
    failed: dict[int, str] = {}
    warnings: list[str] = []
    by_name: dict[str, int] = {}  # owner name -> index of the last change touching it
    by_type: dict[tuple[str, str], int] = {}
    for index, change in enumerate(changes, 1):
        try:
            name, found = _apply_change(zone, change, records, rules)
        except _Bad as exc:
            failed[index] = f"{_label(index, change)}: {exc}"
            continue
        by_name[name] = index
        by_type[(name, str(change["type"]).upper())] = index
        warnings += [f"{_label(index, change)}: {w}" for w in found]

    def blame(name: str, types: tuple[str, ...]) -> int:
        # The change that made the problem: one touching an involved type, else the name.
        return (
            max((by_type[(name, t)] for t in types if (name, t) in by_type), default=0)
            or (by_name[name])
        )

    errors, zone_warnings = zone_problems(zone, records, by_name)
    for name, types, message in errors:
        index = blame(name, types)
        failed.setdefault(index, f"{_label(index, changes[index - 1])}: {message}")
    for name, types, message in zone_warnings:
        where = name
        if name in by_name:
            index = blame(name, types)
            where = _label(index, changes[index - 1])
        warnings.append(f"{where}: {message}")
    if failed:
        raise InvalidRecords([failed[i] for i in sorted(failed)])
    return DesiredZone(zone, tuple(sorted(records.values())), tuple(warnings))


def desired_from_records(
    zone: str, records: Iterable[Record], rules: Rules = DEFAULT_RULES
) -> DesiredZone:
    """Check a whole desired zone (e.g. read from a zone file). SOA is kept as
    read (plans ignore it); other unsupported types are refused."""
    zone = normalise_zone(zone)
    records = list(records)
    problems: list[str] = []
    warnings: list[str] = []
    for record in records:
        label = f"record {record.type} {record.relative_name(zone)}"
        if record.type == "SOA":
            continue
        try:
            check_type(record.type)
            if record.name != zone and not record.name.endswith("." + zone):
                raise _Bad(f"{record.name} is not inside the zone {zone}")
            _check_owner_labels(record.name, zone)
            check_ttl(record.ttl, rules)
            if record.type == "CNAME" and len(record.values) != 1:
                raise _Bad("a CNAME holds exactly one target")
            for value in record.values:
                found = check_value(record.name, record.type, value, zone)
                warnings += [f"{label}: {w}" for w in found]
        except _Bad as exc:
            problems.append(f"{label}: {exc}")
    keyed = by_key(records)
    errors, zone_warnings = zone_problems(zone, keyed, {r.name for r in records})
    rel = {r.name: r.relative_name(zone) for r in records}
    problems += [f"record {t[0]} {rel[n]}: {m}" for n, t, m in errors]
    warnings += [f"record {t[0]} {rel[n]}: {m}" for n, t, m in zone_warnings]
    if problems:
        raise InvalidRecords(problems)
    return DesiredZone(zone, tuple(sorted(records)), tuple(warnings))
