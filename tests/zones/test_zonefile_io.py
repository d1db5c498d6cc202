"""Zone file text <-> Records, with the real St Mary's zone (long DKIM TXT, SRV, CAA)."""

from __future__ import annotations

from pathlib import Path

import dns.rdatatype
import dns.zone
import pytest

from provisioner.zones.errors import InvalidRecords
from provisioner.zones.records import Record
from provisioner.zones.zonefile_io import parse_zone_text, render_zone_text, soa_serial

ZONE = "stmarys.essex.sch.uk"
FIXTURE = Path(__file__).with_name("fixtures") / f"{ZONE}.db"


@pytest.fixture(scope="module")
def records():
    return parse_zone_text(FIXTURE.read_text(), ZONE)


def by_key(records):
    return {r.key: r for r in records}


def test_reads_every_record_set_with_absolute_names(records):
    got = by_key(records)
    assert len(records) == 21
    assert got[(ZONE, "A")] == Record(ZONE, "A", 300, ("192.0.2.10",))
    assert got[(f"_sip._tls.{ZONE}", "SRV")].values == ("100 1 443 sipdir.online.lync.com.",)
    assert got[(ZONE, "CAA")].values == ('0 issue "letsencrypt.org"',)
    assert got[(f"www.{ZONE}", "CNAME")].values == (f"{ZONE}.",)
    assert soa_serial(records) == 2026112901


def test_long_dkim_txt_keeps_its_strings(records):
    [dkim] = by_key(records)[(f"mail2._domainkey.{ZONE}", "TXT")].values
    assert dkim.startswith('"v=DKIM1; k=rsa; p=MIIBIjAN')
    assert dkim.count('" "') == 1  # two strings, each at most 255 bytes


def test_written_text_reads_back_identically_with_our_reader_and_dnspython(records):
    text = render_zone_text(ZONE, records)
    assert text.startswith(f"$ORIGIN {ZONE}.\n")
    assert text.splitlines()[2].startswith("@\t3600\tIN\tSOA\t")
    assert parse_zone_text(text, ZONE) == records
    zone = dns.zone.from_text(text, origin=ZONE + ".", relativize=False)
    served = zone.get_rdataset(f"mail2._domainkey.{ZONE}.", dns.rdatatype.TXT)
    assert b"".join(served[0].strings).endswith(b"IDAQAB")
    assert len(list(zone.iterate_rdatasets())) == len(records)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@ 3600 IN SOA a. b. 1 2 3 4 5\nwww IN A 192.0.2\nok IN A 192.0.2.1\n", "line 2: "),
        ("@ 3600 IN SOA a. b. 1 2 3 4 5\n\n; note\nwww IN BOGUS x\n", "line 4: unknown rdatatype"),
        ("@ 3600 IN SOA a. b. 1 2 3 4 5\nmx IN MX mail.\nok IN A 192.0.2.1\n", "line 2: expecting"),
        ('@ 3600 IN SOA a. b. 1 2 3 4 5\nt IN TXT "open\nok IN A 192.0.2.1\n', "line 2: newline"),
        ("@ 3600 IN SOA a. b. 1 2 3 4 5\nw IN A 192.0.2.1 extra\n", "line 2: expected EOL"),
        (
            "@ 3600 IN SOA a. b. 1 2 3 4 5\nw 60 IN CNAME a.\nw 60 IN A 192.0.2.1\n",
            "line 3: w.x.sch.uk has a CNAME and other records",
        ),
        (
            "@ 3600 IN SOA a. b. 1 2 3 4 5\nw.example.com. 60 IN A 192.0.2.1\n",
            "line 2: w.example.com is not inside the zone x.sch.uk",
        ),
        ("$INCLUDE /etc/passwd\n", "line 1: zone file directive '$INCLUDE' is not allowed"),
        ("; zone\n$TTL soon\n@ 60 IN SOA a. b. 1 2 3 4 5\n", "line 2: DNS TTL value"),
        ("$ORIGIN x.sch.uk.\n$FROB 1\n", "line 2: zone file directive '$FROB' is not allowed"),
    ],
)
def test_malformed_zone_file_names_the_line(text, message):
    with pytest.raises(InvalidRecords) as caught:
        parse_zone_text(text, "x.sch.uk")
    [reason] = caught.value.reasons
    assert reason.startswith(message), reason
