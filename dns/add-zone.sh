#!/usr/bin/env bash
# Add (or reset) a primary zone on the private BIND started by dns/run-bind.sh.
#   dns/add-zone.sh DIR ZONE [ZONEFILE]
# Without ZONEFILE a minimal zone (SOA, one NS, its A record) is written.
# The zone is updatable and transferable with the run's TSIG key only.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 DIR ZONE [ZONEFILE]" >&2
    exit 2
fi
DIR="$(cd "$1" && pwd)"
ZONE="${2%.}"
SRC="${3:-}"
KEY_NAME="$(cat "$DIR/key-name")"
PORT="$(cat "$DIR/port")"
DB="$DIR/zones/$ZONE.db"
RNDC=(rndc -c "$DIR/rndc.conf")
PATH="$PATH:/usr/sbin:/usr/bin"

write_zone() {
    if [[ -n "$SRC" ]]; then
        cp "$SRC" "$DB.tmp"
    else
        cat >"$DB.tmp" <<ZONEFILE
\$TTL 300
@ IN SOA ns1.$ZONE. hostmaster.$ZONE. 1 3600 600 86400 300
@ IN NS ns1.$ZONE.
ns1 IN A 127.0.0.1
ZONEFILE
    fi
    named-checkzone -q "$ZONE" "$DB.tmp" || {
        named-checkzone "$ZONE" "$DB.tmp" >&2
        rm -f "$DB.tmp"
        exit 1
    }
    mv "$DB.tmp" "$DB"
    # Trap: a leftover journal silently resurrects the old records on load.
    rm -f "$DB.jnl"
}

STANZA="$(printf 'zone "%s" { type primary; file "zones/%s.db"; allow-update { key "%s"; }; allow-transfer { key "%s"; }; };' \
    "$ZONE" "$ZONE" "$KEY_NAME" "$KEY_NAME")"

if grep -qF "zone \"$ZONE\" " "$DIR/zones.conf"; then
    # Reset: write out and drop the zone first, so no late dump overwrites the new file.
    # (freeze/replace/thaw is not enough: thaw skips the reload when the new file has
    # the same mtime second as the dump freeze wrote.)
    "${RNDC[@]}" sync -clean "$ZONE" >/dev/null 2>&1 || true
    grep -vF "zone \"$ZONE\" " "$DIR/zones.conf" >"$DIR/zones.conf.tmp" || true
    mv "$DIR/zones.conf.tmp" "$DIR/zones.conf"
    "${RNDC[@]}" reconfig >/dev/null
fi
write_zone
echo "$STANZA" >>"$DIR/zones.conf"
"${RNDC[@]}" reconfig >/dev/null

for _ in $(seq 1 100); do
    if dig +norec +short -p "$PORT" @127.0.0.1 "$ZONE" SOA 2>/dev/null | grep -q .; then
        echo "zone $ZONE served on 127.0.0.1:$PORT"
        exit 0
    fi
    sleep 0.05
done
echo "zone $ZONE did not load; last log lines:" >&2
tail -n 20 "$DIR/named.log" >&2
exit 1
