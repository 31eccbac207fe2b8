#!/usr/bin/env bash
# Two wallets pay each other through a three-node cluster (issue 16), run from .ci/run:
#
#   scripts/cluster_wallets.sh
#
# starts scripts/cluster.sh 3 (throwaway PostgreSQL, three nodes, HAProxy), then: alice deposits
# 100 through node 1, pays bob 30 through node 2, bob syncs through node 3 (spendable 30), bob
# pays alice 10 and alice withdraws 50 through HAProxy, alice syncs through node 3 (spendable
# 30), and `zksettle-admin db verify --proofs --database` accepts the shared ledger. Balances
# must be exact. Needs a release build. Exit status 0 when every check holds.
#
# With ZKSETTLE_OPEN_TREES=K (K > 1) the ledger has K open trees and node k writes lane k - 1
# first: the wallets then sync and spend across trees, and the ledger must hold batches of at
# least two trees.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ZKSETTLE_BIN:-.build/release}
WORK=$(mktemp -d /tmp/zksettle-cluster-wallets.XXXXXX)
READY="$WORK/ready"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ZKSETTLE_CLUSTER_PORT=$PORT ZKSETTLE_CLUSTER_READY=$READY scripts/cluster.sh 3 > "$WORK/cluster.log" 2>&1 &
CLUSTER_PID=$!
finish() {
  kill -TERM "$CLUSTER_PID" 2>/dev/null || true  # (a background job ignores SIGINT)
  wait "$CLUSTER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap finish EXIT
for _ in $(seq 1 900); do
  [ -f "$READY" ] && break
  kill -0 "$CLUSTER_PID" 2>/dev/null || { cat "$WORK/cluster.log" >&2; echo "error: the cluster did not start" >&2; exit 1; }
  sleep 0.2
done
[ -f "$READY" ] || { cat "$WORK/cluster.log" >&2; echo "error: the cluster did not start within 3 minutes" >&2; exit 1; }
get() { sed -n "s/^$1=//p" "$READY"; }
URL=$(get url); NODE1=$(get node1); NODE2=$(get node2); NODE3=$(get node3); DATA=$(get data)
export ZKSETTLE_DATABASE=$(get database)

W="$BIN/zkwallet"
fail() { echo "FAIL: $*" >&2; cat "$WORK/cluster.log" >&2; exit 1; }
spendable() { "$W" balance --json --wallet "$1" --server "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spendable"])'; }

FP=$("$BIN/zksettle-admin" params fingerprint --data "$DATA" | tail -1)
"$W" init --wallet "$WORK/alice" --trust "$FP" --server "$NODE1" > /dev/null < /dev/null
"$W" init --wallet "$WORK/bob" --trust "$FP" --server "$NODE3" > /dev/null < /dev/null
ZKWALLET_VOUCHER=$("$BIN/zksettle-admin" deposits voucher --amount 100 --data "$DATA" | tail -1) \
  "$W" deposit 100 --wallet "$WORK/alice" --server "$NODE1" > /dev/null
BOB=$("$W" address --wallet "$WORK/bob" | tail -1)
ALICE=$("$W" address --wallet "$WORK/alice" | tail -1)
"$W" send 30 --to "$BOB" --memo "through node 2" --wallet "$WORK/alice" --server "$NODE2" > /dev/null
[ "$(spendable "$WORK/bob" "$NODE3")" = 30 ] || fail "bob's spendable balance through node 3 is not 30"
"$W" send 10 --to "$ALICE" --memo "through HAProxy" --wallet "$WORK/bob" --server "$URL" > /dev/null
"$W" withdraw 50 --to "iban:DE00 1234" --wallet "$WORK/alice" --server "$URL" > /dev/null
[ "$(spendable "$WORK/alice" "$NODE3")" = 30 ] || fail "alice's spendable balance through node 3 is not 100 - 30 + 10 - 50 = 30"
[ "$(spendable "$WORK/bob" "$URL")" = 20 ] || fail "bob's spendable balance through HAProxy is not 30 - 10 = 20"
"$BIN/zksettle-admin" db verify --proofs --data "$DATA" > "$WORK/verify.txt" 2>&1 || { cat "$WORK/verify.txt" >&2; fail "db verify refused the shared ledger"; }
TREES=$("$BIN/zksettle-admin" batches list --json --data "$DATA" | python3 -c 'import json,sys; d=json.load(sys.stdin); b=d["batches"] if isinstance(d, dict) else d; print(len({x["tree"] for x in b}))')
OPEN=${ZKSETTLE_OPEN_TREES:-1}
if [ "$OPEN" -gt 1 ] && [ "$TREES" -lt 2 ]; then fail "$OPEN open trees, but every batch went into one tree"; fi
echo "{\"cluster_wallets\": \"ok\", \"nodes\": 3, \"open_trees\": $OPEN, \"trees_written\": $TREES, \"alice_spendable\": 30, \"bob_spendable\": 20, \"db_verify_ok\": true}"
