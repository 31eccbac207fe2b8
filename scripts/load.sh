#!/usr/bin/env bash
# Settled transfers per second on this machine: starts zksettle-server on a fresh ledger (with
# keys cached across runs, so the proved corpus is reused), runs `zksettle-bench load`, stops it.
#
# Usage: scripts/load.sh [TRANSFERS] [CONCURRENCY] [extra zksettle-server flags…]
# Needs a release build (swift build -c release), or ZKSETTLE_BIN=DIR holding zksettle-server and
# zksettle-bench of another build, to compare builds interleaved on the same machine. The first
# run proves the corpus (about half a second per transfer) and caches it under ~/.cache/zksettle.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-lib.sh
N=${1:-1000}; C=${2:-64}; shift $(( $# < 2 ? $# : 2 ))
BIN=${ZKSETTLE_BIN:-.build/release}  # another build to compare (e.g. a copy of an older one)
KEYS=${ZKSETTLE_LOAD_KEYS:-$HOME/.cache/zksettle/load-keys}
for tool in zksettle-server zksettle-bench; do
  [ -x "$BIN/$tool" ] || { echo "error: $BIN/$tool missing: run swift build -c release" >&2; exit 2; }
done
DATA=$(mktemp -d /tmp/zksettle-load.XXXXXX)
PORT=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768 on): no client port can hold it
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
if [ -f "$KEYS/transfer.zkspk" ]; then mkdir -p "$DATA/keys" && cp "$KEYS"/* "$DATA/keys/"; fi

"$BIN/zksettle-server" --data "$DATA" --host 127.0.0.1 --port "$PORT" --log-level warning "$@" \
  > "$DATA.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$PORT" "$SERVER_PID" "$DATA.log" " (stale cached keys? remove $KEYS)"
if [ ! -f "$KEYS/transfer.zkspk" ]; then mkdir -p "$KEYS" && cp "$DATA/keys"/* "$KEYS/"; fi
"$BIN/zksettle-bench" load --server "http://127.0.0.1:$PORT" --transfers "$N" --concurrency "$C" --admin-token-file "$DATA/admin-token"
rm -f "$DATA.log"
