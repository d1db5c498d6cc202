"""DNS records as immutable values.

A record set is identified by (name, type). Names are absolute, lower-case,
IDNA (punycode), without the trailing dot: "www.stmarys.essex.sch.uk".
Values are rdata in canonical presentation format (as dnspython prints it,
relative names made absolute with a trailing dot), held sorted so that two
equal record sets compare equal.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype


@dataclass(frozen=True, order=True)
class Record:
    name: str
    type: str
    ttl: int
    values: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.type)

    def relative_name(self, zone: str) -> str:
        """'@' for the apex, else the part of the name before the zone."""
        if self.name == zone:
            return "@"
        return self.name[: -(len(zone) + 1)]


# --- constructors and helpers (shared by validation, plans and every provider) ---

# The types a school may ask for; SOA is read-only (the server owns it).
SUPPORTED_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT")
MANAGED_TYPES = frozenset(SUPPORTED_TYPES)

# Types whose presentation form holds only names and numbers: names are
# case-insensitive, so lower-casing the whole text makes equal rdata compare equal.
_NAME_TYPES = frozenset({"CNAME", "MX", "NS", "PTR", "SRV", "SOA"})


def make(name: str, rtype: str, ttl: int, values) -> Record:
    """A Record from already-canonical values (sorted, duplicates dropped)."""
    return Record(name, rtype.upper(), int(ttl), tuple(sorted(set(values))))


@functools.lru_cache(maxsize=256)
def zone_origin(zone: str) -> dns.name.Name:
    return dns.name.from_text(zone, dns.name.root)


def name_text(name: dns.name.Name) -> str:
    """Our form of an owner name: lower-case punycode without the trailing dot."""
    return name.canonicalize().to_text(omit_final_dot=True)


def canonical_text(rdata: dns.rdata.Rdata) -> str:
    """The canonical presentation of one rdata; its names must be absolute."""
    text = rdata.to_text()
    if dns.rdatatype.to_text(rdata.rdtype) in _NAME_TYPES:
        return text.lower()
    return text


def parse_value(rtype: str, text: str, zone: str) -> dns.rdata.Rdata:
    """Parse one presentation-format value; relative names are relative to the zone.
    Raises dns.exception.DNSException subclasses on bad input."""
    return dns.rdata.from_text(
        dns.rdataclass.IN, rtype, text, origin=zone_origin(zone), relativize=False
    )


# Values already in the exact form dnspython prints skip its (slow, char-by-char)
# parser: IPv4 and IPv6 addresses, TXT strings of printable ASCII without quotes
# or backslashes (at most 255 each), and lower-case absolute host names with
# 16-bit numbers. tests/zones/test_records.py checks the shortcut against the parser.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_A = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")
_TXT_STRING = r'"[\x20\x21\x23-\x5b\x5d-\x7e]{0,255}"'
_CANONICAL_TXT = re.compile(rf"^{_TXT_STRING}(?: {_TXT_STRING})*$")
# Absolute lower-case host names, and 16-bit numbers without leading zeros.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST = rf"(?:{_LABEL}\.)+"
_U16 = r"(?:0|[1-9][0-9]{0,4})"
_CANONICAL_NAMED = {
    "CNAME": re.compile(rf"^{_HOST}$"),
    "NS": re.compile(rf"^{_HOST}$"),
    "PTR": re.compile(rf"^{_HOST}$"),
    "MX": re.compile(rf"^{_U16} {_HOST}$"),
    "SRV": re.compile(rf"^{_U16} {_U16} {_U16} {_HOST}$"),
}


def _already_canonical(rtype: str, text: str) -> bool:
    if rtype == "A":
        return _CANONICAL_A.match(text) is not None
    if rtype == "TXT":
        return _CANONICAL_TXT.match(text) is not None
    named = _CANONICAL_NAMED.get(rtype)
    if named is not None:
        return (
            named.match(text) is not None
            and len(text.rsplit(" ", 1)[-1]) <= 254
            and all(int(n) <= 65535 for n in text.split()[:-1])
        )
    if rtype == "AAAA" and not text.startswith("::") and "%" not in text:
        # dnspython prints IPv4-mapped and -compatible forms (all starting '::')
        # its own way and refuses scope ids ('%eth0'); otherwise it compresses
        # exactly like the ipaddress module.
        try:
            return str(ipaddress.IPv6Address(text)) == text
        except ValueError:
            return False
    return False


def canonical_value(rtype: str, text: str, zone: str) -> str:
    """The canonical text of one presentation-format value (raises on bad input)."""
    if _already_canonical(rtype, text):
        return text
    return canonical_text(parse_value(rtype, text, zone))


def from_text(name: str, rtype: str, ttl: int, values, zone: str) -> Record:
    """A Record from presentation-format values, as a provider reads them
    (Route 53 values, a zone file line); names in values may be relative to zone."""
    rtype = rtype.upper()
    return make(name, rtype, ttl, (canonical_value(rtype, v, zone) for v in values))


def from_rdataset(name: dns.name.Name | str, rdataset: dns.rdataset.Rdataset) -> Record:
    """A Record from a dnspython rdataset whose names are absolute (AXFR, zone)."""
    if isinstance(name, dns.name.Name):
        name = name_text(name)
    rtype = dns.rdatatype.to_text(rdataset.rdtype)
    return make(name, rtype, rdataset.ttl, (canonical_text(rd) for rd in rdataset))


def to_rdataset(record: Record) -> dns.rdataset.Rdataset:
    """The dnspython rdataset of a Record (values are absolute, so no origin needed)."""
    return dns.rdataset.from_text(dns.rdataclass.IN, record.type, record.ttl, *record.values)


def by_key(records) -> dict[tuple[str, str], Record]:
    return {r.key: r for r in records}


def record_to_dict(record: Record, zone: str | None = None) -> dict:
    """The API shape {name, type, ttl, values}; relative name when zone is given."""
    name = record.relative_name(zone) if zone else record.name
    return {"name": name, "type": record.type, "ttl": record.ttl, "values": list(record.values)}
