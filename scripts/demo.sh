#!/usr/bin/env bash
# Start or stop the demo application in the background.
#
#   scripts/demo.sh start [PORT] [jwt|fsa]   build once, start in a scratch directory with a fresh
#                                            database, wait until GET /now answers
#   scripts/demo.sh stop [PORT]              stop the demo started on PORT (by its PID)
#
# PORT defaults to $PORT or 5000, the token mode to $DEMO_TOKEN or jwt. DATABASE_URL and
# OTP_DIGITS are passed on; the database is always recreated (DEMO_INIT=1, the default). The scratch
# directory (database, uploads, MFA code files, log) is printed and removed by stop.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}
port=${2:-${PORT:-5000}}
mode=${3:-${DEMO_TOKEN:-jwt}}
state=${TMPDIR:-/tmp}/fsa-demo-$port
pidfile=$state.pid
dirfile=$state.dir

usage() {
    echo "usage: $0 start [PORT] [jwt|fsa] | stop [PORT]" >&2
    exit 2
}

[[ $port =~ ^[0-9]+$ ]] || usage

case $cmd in
start)
    [[ $mode == jwt || $mode == fsa ]] || usage
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "demo already running on port $port (pid $(cat "$pidfile"))" >&2
        exit 1
    fi
    (cd "$root" && cargo build --quiet -p demo --bin demo)
    target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    bin=${target_dir:-$root/target}/debug/demo
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/fsa-demo-$port.XXXXXX")
    (cd "$scratch" && DEMO_INIT=1 PORT=$port DEMO_TOKEN=$mode exec "$bin" >"$scratch/demo.log" 2>&1) &
    pid=$!
    echo "$pid" >"$pidfile"
    echo "$scratch" >"$dirfile"
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/now" >/dev/null 2>&1; then
            echo "demo ($mode) running on http://127.0.0.1:$port/ (pid $pid, directory $scratch)"
            exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo exited at start; log:" >&2
            cat "$scratch/demo.log" >&2
            rm -f "$pidfile" "$dirfile"
            exit 1
        fi
        sleep 0.1
    done
    echo "demo did not answer on port $port within 10 s; log in $scratch/demo.log" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile" "$dirfile"
    exit 1
    ;;
stop)
    if [[ ! -f $pidfile ]]; then
        echo "no demo started on port $port" >&2
        exit 1
    fi
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [[ -f $dirfile ]]; then
        rm -rf "$(cat "$dirfile")"
    fi
    rm -f "$pidfile" "$dirfile"
    echo "demo on port $port stopped"
    ;;
*)
    usage
    ;;
esac
