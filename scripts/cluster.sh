#!/usr/bin/env bash
# A ZKSettle cluster on this machine, in one command (issue 16):
#
#   scripts/cluster.sh [N]        # N nodes (default 3)
#
# starts a throwaway PostgreSQL (initdb in a temporary directory, on loopback), N zksettle-server
# nodes sharing it (the first makes the keys; the others start with copies of its data directory),
# and HAProxy in front of them on one port; prints the URL for wallets; Ctrl-C stops everything and
# removes the temporary directory. Needs a release build (swift build -c release), and
# PostgreSQL's server and HAProxy (Debian: apt-get install postgresql haproxy).
#
# Environment: ZKSETTLE_CLUSTER_PORT (HAProxy's port, default 8080), ZKSETTLE_BIN (default
# .build/release), ZKSETTLE_CLUSTER_READY (a file to write the URLs to once everything answers,
# for scripts), and any zksettle-server ZKSETTLE_* setting, which every node takes
# (ZKSETTLE_OPEN_TREES=K: K trees open at once; node k writes lane k - 1 first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres-lib.sh
source scripts/server-lib.sh

N=${1:-3}
[[ "$N" =~ ^[1-9][0-9]?$ ]] || { echo "error: the node count must be a number from 1 to 99, not '$N'" >&2; exit 64; }
PORT=${ZKSETTLE_CLUSTER_PORT:-8080}
BIN=${ZKSETTLE_BIN:-.build/release}
[ -x "$BIN/zksettle-server" ] || { echo "error: no $BIN/zksettle-server: run swift build -c release first" >&2; exit 1; }
HAPROXY=$(command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null || true)
[ -n "$HAPROXY" ] || { echo "error: no haproxy: apt-get install haproxy" >&2; exit 1; }

WORK=$(mktemp -d /tmp/zksettle-cluster.XXXXXX)
chmod 755 "$WORK"
PIDS=()
HAPROXY_PID=
cleanup() {
  trap '' INT TERM   # a second Ctrl-C must not leave the nodes running
  trap - EXIT
  echo "stopping the cluster" >&2
  [ -n "$HAPROXY_PID" ] && kill -TERM "$HAPROXY_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}" $HAPROXY_PID; do wait "$pid" 2>/dev/null || true; done
  stop_throwaway_postgres "$WORK/pg"
  rm -rf "$WORK"
}
trap cleanup INT TERM EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PG_PORT=$(free_port)
start_throwaway_postgres "$WORK/pg" "$PG_PORT"
create_database "$PG_PORT" zksettle
export ZKSETTLE_DATABASE="postgres://zksettle@127.0.0.1:$PG_PORT/zksettle"
echo "PostgreSQL: $ZKSETTLE_DATABASE" >&2

NODE_PORTS=()
start_node() {
  local k=$1 port
  port=$(free_port)
  # Node k writes lane k - 1 first (mod the open trees): writers spread evenly over the lanes.
  "$BIN/zksettle-server" --data "$WORK/node$k" --host 127.0.0.1 --port "$port" --lane $((k - 1)) > "$WORK/node$k.log" 2>&1 &
  PIDS+=($!)
  NODE_PORTS+=("$port")
  wait_for_server "$port" "$!" "$WORK/node$k.log" " (node $k)"
  echo "node $k: http://127.0.0.1:$port (log $WORK/node$k.log)" >&2
}
# The first node makes the keys and secrets; every other node is a copy of its data directory.
start_node 1
for k in $(seq 2 "$N"); do
  cp -a "$WORK/node1" "$WORK/node$k"
  start_node "$k"
done

{
  echo "global"
  echo "  maxconn 4096"
  echo "defaults"
  echo "  mode http"
  echo "  timeout connect 5s"
  echo "  timeout client 180s"   # a wallet waits for its batch to settle
  echo "  timeout server 180s"
  echo "  option httpchk GET /healthz"
  echo "frontend wallets"
  echo "  bind 127.0.0.1:$PORT"
  echo "  default_backend nodes"
  echo "backend nodes"
  echo "  balance roundrobin"
  for k in $(seq 1 "$N"); do echo "  server node$k 127.0.0.1:${NODE_PORTS[$((k - 1))]} check inter 1s"; done
} > "$WORK/haproxy.cfg"
"$HAPROXY" -f "$WORK/haproxy.cfg" -db > "$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/haproxy.log" >&2; echo "error: HAProxy does not answer on port $PORT" >&2; exit 1; }

cat >&2 <<EOF

ZKSettle cluster: $N nodes behind HAProxy.
  wallets:       http://127.0.0.1:$PORT     (zkwallet ... --server http://127.0.0.1:$PORT)
  fingerprint:   $("$BIN/zksettle-admin" params fingerprint --data "$WORK/node1" | tail -1)
  vouchers:      $BIN/zksettle-admin deposits voucher --amount 100 --data $WORK/node1
  admin:         $BIN/zksettle-admin db verify --data $WORK/node1 --database (ZKSETTLE_DATABASE above)
Ctrl-C stops everything.
EOF
if [ -n "${ZKSETTLE_CLUSTER_READY:-}" ]; then
  {
    echo "url=http://127.0.0.1:$PORT"
    echo "database=$ZKSETTLE_DATABASE"
    echo "data=$WORK/node1"
    for k in $(seq 1 "$N"); do echo "node$k=http://127.0.0.1:${NODE_PORTS[$((k - 1))]}"; done
  } > "$ZKSETTLE_CLUSTER_READY.tmp"
  mv "$ZKSETTLE_CLUSTER_READY.tmp" "$ZKSETTLE_CLUSTER_READY"
fi
wait "$HAPROXY_PID"
