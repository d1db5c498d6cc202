"""The dev/test BIND scripts in dns/: a zone reset really resets (the journal trap)."""

from __future__ import annotations

import dns.message
import dns.query
from zones_bind_server import minimal_zone, new_zone_name


def _a(server, name):
    r = dns.query.udp(dns.message.make_query(name, "A"), server.host, port=server.port, timeout=2)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def test_reset_right_after_updates_drops_them(bind_server):
    zone = new_zone_name()
    bind_server.add_zone(zone, minimal_zone(zone))
    for round_ in range(3):  # several times within the same second: mtimes collide
        bind_server.nsupdate(f"zone {zone}\nupdate add x.{zone}. 60 A 192.0.2.{round_ + 1}")
        assert _a(bind_server, f"x.{zone}") == [f"192.0.2.{round_ + 1}"]
        bind_server.reset_zone(zone, minimal_zone(zone))
        assert _a(bind_server, f"x.{zone}") == []
        assert not (bind_server.dir / "zones" / f"{zone}.db.jnl").exists()


def test_reset_loads_the_new_file_even_with_a_lower_serial(bind_server):
    zone = new_zone_name()
    bind_server.add_zone(zone, minimal_zone(zone, serial=50, extra="a IN A 192.0.2.1\n"))
    bind_server.reset_zone(zone, minimal_zone(zone, serial=1, extra="b IN A 192.0.2.2\n"))
    assert _a(bind_server, f"a.{zone}") == []
    assert _a(bind_server, f"b.{zone}") == ["192.0.2.2"]
