#!/usr/bin/env bash
# Start a private BIND 9.18 on 127.0.0.1 for development and tests.
#   dns/run-bind.sh DIR PORT [RNDC_PORT]
# DIR holds everything: named.conf, keys/, zones/, zones.conf, named.pid, named.log.
# TSIG keys are generated on first start (never committed). KEY_NAME (env) names the
# update/transfer key, default "provisioner-update". Prints "ready" once named answers.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 DIR PORT [RNDC_PORT]" >&2
    exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
PORT="$2"
RNDC_PORT="${3:-$((PORT + 1))}"
KEY_NAME="${KEY_NAME:-provisioner-update}"
PATH="$PATH:/usr/sbin:/usr/bin"

for tool in named named-checkconf tsig-keygen rndc; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found: apt-get install -y --no-install-recommends bind9 bind9-utils bind9-dnsutils" >&2
        exit 1
    fi
done

if [[ -f "$DIR/named.pid" ]] && kill -0 "$(cat "$DIR/named.pid")" 2>/dev/null; then
    echo "named already running in $DIR (pid $(cat "$DIR/named.pid"))" >&2
    exit 1
fi

mkdir -p "$DIR/keys" "$DIR/zones"
umask 077
[[ -f "$DIR/keys/$KEY_NAME.key" ]] || tsig-keygen -a hmac-sha256 "$KEY_NAME" >"$DIR/keys/$KEY_NAME.key"
[[ -f "$DIR/keys/rndc.key" ]] || tsig-keygen -a hmac-sha256 rndc-key >"$DIR/keys/rndc.key"
touch "$DIR/zones.conf"
echo "$KEY_NAME" >"$DIR/key-name"

sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@RNDC_PORT@|$RNDC_PORT|g" \
    -e "s|@KEY_NAME@|$KEY_NAME|g" "$HERE/bind/named.conf.tmpl" >"$DIR/named.conf"
cat >"$DIR/rndc.conf" <<RNDC
include "$DIR/keys/rndc.key";
options { default-key "rndc-key"; default-server 127.0.0.1; default-port $RNDC_PORT; };
RNDC
echo "$PORT" >"$DIR/port"

named-checkconf "$DIR/named.conf"
rm -f "$DIR/named.pid"
# Daemonizes; the child writes named.pid. -4: IPv4 only, -n 2: two worker threads.
named -c "$DIR/named.conf" -4 -n 2

for _ in $(seq 1 100); do
    if [[ -s "$DIR/named.pid" ]] && rndc -c "$DIR/rndc.conf" status >/dev/null 2>&1; then
        echo "ready: named pid $(cat "$DIR/named.pid") on 127.0.0.1:$PORT, rndc on $RNDC_PORT"
        exit 0
    fi
    sleep 0.05
done
echo "named did not become ready on 127.0.0.1:$PORT; last log lines:" >&2
tail -n 20 "$DIR/named.log" >&2 || true
exit 1
