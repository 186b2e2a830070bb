#!/usr/bin/env bash
# Starts or stops the three configurations of the "features" fixture (examples/features.rs).
#
#   scripts/features.sh start [BASE_PORT]   # main on BASE_PORT (default $FEATURES_PORT or 18081),
#                                           # jwt on BASE_PORT+1, fake on BASE_PORT+2
#   scripts/features.sh stop
#
# The example is built once; each process is started with FEATURES_CONFIG and FEATURES_PORT,
# and the script waits until each answers GET /config. PIDs and logs go to $FEATURES_RUN_DIR
# (default target/features-run); stop kills exactly those PIDs.
set -euo pipefail

cd "$(dirname "$0")/.."
RUN_DIR="${FEATURES_RUN_DIR:-target/features-run}"
CONFIGS=(main jwt fake)

wait_ready() { # name port pid
    local name=$1 port=$2 pid=$3 i
    for i in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "features: $name exited, see $RUN_DIR/$name.log" >&2
            return 1
        fi
        if curl -fsS "http://127.0.0.1:$port/config" 2>/dev/null | grep -q "\"$name\""; then
            echo "features: $name ready on http://127.0.0.1:$port (pid $pid)"
            return 0
        fi
        sleep 0.1
    done
    echo "features: $name did not answer on port $port" >&2
    return 1
}

stop() {
    local name pid
    for name in "${CONFIGS[@]}"; do
        if [[ -f "$RUN_DIR/$name.pid" ]]; then
            pid=$(cat "$RUN_DIR/$name.pid")
            if kill "$pid" 2>/dev/null; then
                echo "features: stopped $name (pid $pid)"
            fi
            rm -f "$RUN_DIR/$name.pid"
        fi
    done
}

start() {
    local base=${1:-${FEATURES_PORT:-18081}} i name port pid
    mkdir -p "$RUN_DIR"
    stop
    cargo build --quiet --example features
    local bin
    bin="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/examples/features"
    for i in "${!CONFIGS[@]}"; do
        name=${CONFIGS[$i]}
        port=$((base + i))
        FEATURES_CONFIG=$name FEATURES_PORT=$port nohup "$bin" >"$RUN_DIR/$name.log" 2>&1 &
        echo $! >"$RUN_DIR/$name.pid"
    done
    for i in "${!CONFIGS[@]}"; do
        name=${CONFIGS[$i]}
        wait_ready "$name" $((base + i)) "$(cat "$RUN_DIR/$name.pid")" || { stop; exit 1; }
    done
}

case "${1:-}" in
    start) start "${2:-}" ;;
    stop) stop ;;
    *)
        echo "usage: $0 start [BASE_PORT] | stop" >&2
        exit 2
        ;;
esac
