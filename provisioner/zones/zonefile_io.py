"""RFC 1035 zone file text <-> Records. Pure: takes and returns strings.

Reading uses dnspython's zone file reader; a malformed file raises
InvalidRecords naming the line where the bad record starts (dnspython
itself reports the line it had reached, often the next one).
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.rdataclass
import dns.tokenizer
import dns.zone
import dns.zonefile

from provisioner.zones.errors import InvalidRecords
from provisioner.zones.records import Record, from_rdataset, make, zone_origin


class _LineReader(dns.zonefile.Reader):
    """Remembers where each record starts and refuses names outside the zone
    (dnspython skips those silently)."""

    record_line: int | None = None

    def _rr_line(self) -> None:
        self.record_line = self.tok.line_number
        super()._rr_line()
        name = self.last_name
        if name is not None and not name.is_subdomain(self.zone_origin):
            raise dns.exception.SyntaxError(
                f"{name.to_text(omit_final_dot=True)} is not inside the zone"
                f" {self.zone_origin.to_text(omit_final_dot=True)}"
            )
        self.record_line = None


def parse_zone_text(text: str, zone: str) -> tuple[Record, ...]:
    """Every record set of a zone file, names absolute. SOA included when present."""
    origin = zone_origin(zone)
    parsed = dns.zone.Zone(origin, dns.rdataclass.IN, relativize=False)
    reader = None
    try:
        with parsed.writer(True) as txn:
            tok = dns.tokenizer.Tokenizer(text, "<zone file>")
            reader = _LineReader(tok, dns.rdataclass.IN, txn, allow_include=False)
            reader.read()
    except dns.exception.SyntaxError as exc:
        raise InvalidRecords([_located(str(exc), reader)]) from exc
    except dns.zonefile.CNAMEAndOtherData as exc:
        line = reader.record_line if reader else None
        where = f"line {line}: " if line else ""
        name = reader.last_name.to_text(omit_final_dot=True) if reader and reader.last_name else ""
        message = f"{where}{name} has a CNAME and other records; a CNAME must be alone at its name"
        raise InvalidRecords([message]) from exc
    except dns.exception.DNSException as exc:
        raise InvalidRecords([_located(str(exc) or type(exc).__name__, reader)]) from exc
    records = []
    for name, node in parsed.nodes.items():
        for rdataset in node.rdatasets:
            records.append(from_rdataset(name, rdataset))
    return tuple(sorted(records))


def _located(message: str, reader: _LineReader | None) -> str:
    # dnspython prefixes "<zone file>:N: "; prefer the line the record started on.
    prefix, _, detail = message.partition(": ")
    if not prefix.startswith("<zone file>:"):
        prefix, detail = "", message
    line = reader.record_line if reader and reader.record_line else None
    if line is None and reader is not None:
        # The tokenizer counts a newline it has peeked at and put back.
        tok = reader.tok
        line = tok.line_number - (1 if getattr(tok, "ungotten_char", None) == "\n" else 0)
    elif line is None and prefix:
        line = prefix.rsplit(":", 1)[-1]
    return f"line {line}: {detail}" if line else detail


def soa_serial(records) -> int | None:
    for record in records:
        if record.type == "SOA":
            return int(record.values[0].split()[2])
    return None


def with_serial(soa: Record, serial: int) -> Record:
    fields = soa.values[0].split()
    fields[2] = str(serial)
    return make(soa.name, "SOA", soa.ttl, [" ".join(fields)])


def _sort_key(record: Record, zone: str):
    # SOA first, then apex NS, then names in DNS tree order (parents before children).
    rank = {"SOA": 0, "NS": 1}.get(record.type, 2) if record.name == zone else 3
    labels = tuple(reversed(record.name.split(".")))
    return (rank, labels, record.type)


def render_zone_text(zone: str, records) -> str:
    """RFC 1035 text of the records: $ORIGIN, one line per value, explicit TTLs,
    owner names relative to the zone, values fully qualified."""
    lines = [f"$ORIGIN {zone}.", ""]
    for record in sorted(records, key=lambda r: _sort_key(r, zone)):
        owner = _owner(record, zone)
        for value in record.values:
            lines.append(f"{owner}\t{record.ttl}\tIN\t{record.type}\t{value}")
    return "\n".join(lines) + "\n"


def _owner(record: Record, zone: str) -> str:
    name = record.relative_name(zone)
    # Re-escape through dnspython so that unusual labels stay unambiguous.
    return name if name == "@" else dns.name.from_text(name, None).to_text()
