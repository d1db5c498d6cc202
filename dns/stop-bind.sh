#!/usr/bin/env bash
# Stop the private BIND started by dns/run-bind.sh DIR (by its pid file, nothing else).
#   dns/stop-bind.sh DIR
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
PIDFILE="$1/named.pid"
if [[ ! -s "$PIDFILE" ]]; then
    echo "no named.pid in $1: not running" >&2
    exit 0
fi
PID="$(cat "$PIDFILE")"
if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    for _ in $(seq 1 100); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID"
    fi
fi
rm -f "$PIDFILE"
echo "stopped named pid $PID"
