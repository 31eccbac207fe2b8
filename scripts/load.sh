#!/usr/bin/env bash
# Settled transfers per second on this machine: starts zksettle-server on a fresh ledger (with
# keys cached across runs, so the proved corpus is reused), runs `zksettle-bench load`, stops it.
#
# Usage: scripts/load.sh [TRANSFERS] [CONCURRENCY] [extra zksettle-server flags…]
# Needs a release build (swift build -c release), or ZKSETTLE_BIN=DIR holding zksettle-server and
# zksettle-bench of another build, to compare builds interleaved on the same machine. The first
# run proves the corpus (about half a second per transfer) and caches it under ~/.cache/zksettle.
#
# Several nodes on one PostgreSQL ledger (issue 16): ZKSETTLE_LOAD_NODES=N with
# --database URL (an empty database) among the server flags starts N nodes (copies of the first
# node's data directory) and HAProxy in front, and loads them through it. After the load's own
# JSON, one more line: {"server_cpu_seconds": …, "nodes": N} (utime + stime of every node, from
# /proc, so the load generator's CPU does not count). With --open-trees K among the flags the
# ledger has K open trees, and node k writes lane k - 1 first.
#
# ZKSETTLE_LOAD_PERF=FILE records the first node with perf during the load; then
# `python3 scripts/perf-stages.py FILE MS` splits MS of server CPU per transfer by stage.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-lib.sh
N=${1:-1000}; C=${2:-64}; shift $(( $# < 2 ? $# : 2 ))
BIN=${ZKSETTLE_BIN:-.build/release}  # another build to compare (e.g. a copy of an older one)
KEYS=${ZKSETTLE_LOAD_KEYS:-$HOME/.cache/zksettle/load-keys}
NODES=${ZKSETTLE_LOAD_NODES:-1}
for tool in zksettle-server zksettle-bench; do
  [ -x "$BIN/$tool" ] || { echo "error: $BIN/$tool missing: run swift build -c release" >&2; exit 2; }
done
if [ "$NODES" -gt 1 ] && [[ " $* " != *" --database "* ]]; then
  echo "error: ZKSETTLE_LOAD_NODES=$NODES needs --database URL (nodes share a PostgreSQL ledger)" >&2; exit 2
fi
DATA=$(mktemp -d /tmp/zksettle-load.XXXXXX)
PIDS=()
PROXY_PID=
cleanup() {
  # Every step whatever the one before returned: under `set -e` a failing last command of an
  # && list ends the function (HAProxy exits 143 on SIGTERM), which left the nodes running.
  [ -n "$PROXY_PID" ] && { kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true; }
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"*
}
trap cleanup EXIT
if [ -f "$KEYS/transfer.zkspk" ]; then mkdir -p "$DATA/keys" && cp "$KEYS"/* "$DATA/keys/"; fi

PORTS=()
for k in $(seq 1 "$NODES"); do
  dir=$DATA; [ "$k" -gt 1 ] && { dir="$DATA-node$k"; cp -a "$DATA" "$dir"; }
  port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768 on): no client port can hold it
  # Node k writes lane k - 1 first (with --open-trees K > 1; one lane otherwise).
  "$BIN/zksettle-server" --data "$dir" --host 127.0.0.1 --port "$port" --log-level warning --lane $((k - 1)) "$@" > "$dir.log" 2>&1 &
  PIDS+=($!)
  PORTS+=("$port")
  wait_for_server "$port" "$!" "$dir.log" " (stale cached keys? remove $KEYS)"
  if [ ! -f "$KEYS/transfer.zkspk" ]; then mkdir -p "$KEYS" && cp "$DATA/keys"/* "$KEYS/"; fi
done
PORT=${PORTS[0]}
if [ "$NODES" -gt 1 ]; then
  PORT=$(( 20000 + RANDOM % 12000 ))
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 180s\n  timeout server 180s\n'
    printf 'frontend load\n  bind 127.0.0.1:%s\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n' "$PORT"
    for k in $(seq 1 "$NODES"); do printf '  server node%s 127.0.0.1:%s\n' "$k" "${PORTS[$((k - 1))]}"; done
  } > "$DATA-haproxy.cfg"
  "$(command -v haproxy || echo /usr/sbin/haproxy)" -f "$DATA-haproxy.cfg" -db > "$DATA-haproxy.log" 2>&1 &
  PROXY_PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
fi
cpu() {  # utime + stime of every node, in clock ticks
  local total=0 pid
  for pid in "${PIDS[@]}"; do total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") )); done
  echo "$total"
}
before=$(cpu)
PERF_PID=
if [ -n "${ZKSETTLE_LOAD_PERF:-}" ]; then
  # Profile the first node alone during the load (DWARF call graphs; scripts/perf-stages.py
  # turns the file into CPU per transfer by stage).
  perf record -F 999 --call-graph dwarf,16384 -p "${PIDS[0]}" -o "$ZKSETTLE_LOAD_PERF" 2>/dev/null &
  PERF_PID=$!
  sleep 0.5
fi
"$BIN/zksettle-bench" load --server "http://127.0.0.1:$PORT" --transfers "$N" --concurrency "$C" --admin-token-file "$DATA/admin-token"
after=$(cpu)
if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
python3 -c "import json; print(json.dumps({'server_cpu_seconds': round(($after - $before) / $(getconf CLK_TCK), 2), 'nodes': $NODES}))"
