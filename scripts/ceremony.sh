#!/usr/bin/env bash
# A whole key ceremony for the transfer circuit, and money moving on its keys (issue 18), run
# from .ci/run:
#
#   scripts/ceremony.sh
#
# Phase 1 at the power the circuit needs (new, one contribution, a beacon, verify), phase 2
# (new, two contributions, a beacon, verify), a proof of knowledge swapped for another
# participant's refused by verify, finalize into a fresh data directory, a server started with
# --require-ceremony-keys, and two wallets paying each other on those keys. Prints one JSON line
# with each step's seconds. Needs a release build. Exit status 0 when every check holds.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ZKSETTLE_BIN:-.build/release}
A="$BIN/zksettle-admin"
W="$BIN/zkwallet"
WORK=$(mktemp -d /tmp/zksettle-ceremony.XXXXXX)
SERVER_PID=
finish() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap finish EXIT
source scripts/server-lib.sh
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -30 "$WORK/server.log" >&2; exit 1; }

declare -A SECONDS_FOR
step() {  # step NAME COMMAND…: runs it quietly, records its seconds, shows its output on failure
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@" > "$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; fail "$name: $*"; }
  SECONDS_FOR[$name]=$(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 1))")
  echo "ceremony: $name ${SECONDS_FOR[$name]} s" >&2
}

POWER=$("$A" circuit export --r1cs "$WORK/transfer.r1cs" --json | python3 -c '
import json, sys
r = json.load(sys.stdin); rows = r["constraints"] + r["public_inputs"] + 1
k = (rows - 1).bit_length()
print(k + 1)')
BEACON=0000000000000000000a7d3c1e7e0a5d9b3f1c2e4d6f8a0b1c2d3e4f5a6b7c8d

step powers_new        "$A" ceremony powers new --power "$POWER" --out "$WORK/pot_0000.ptau"
step powers_contribute "$A" ceremony powers contribute "$WORK/pot_0000.ptau" "$WORK/pot_0001.ptau" --name "first"
step powers_beacon     "$A" ceremony powers beacon "$WORK/pot_0001.ptau" "$WORK/pot_final.ptau" --hash "$BEACON" --iterations-exp 10
step powers_verify     "$A" ceremony powers verify "$WORK/pot_final.ptau"
step new               "$A" ceremony new --ptau "$WORK/pot_final.ptau" --out "$WORK/transfer_0000.zkey"
step contribute_alice  "$A" ceremony contribute "$WORK/transfer_0000.zkey" "$WORK/transfer_0001.zkey" --name alice
step contribute_bob    "$A" ceremony contribute "$WORK/transfer_0001.zkey" "$WORK/transfer_0002.zkey" --name bob
step beacon            "$A" ceremony beacon "$WORK/transfer_0002.zkey" "$WORK/transfer_final.zkey" --hash "$BEACON" --iterations-exp 10
step verify            "$A" ceremony verify "$WORK/transfer_final.zkey" --ptau "$WORK/pot_final.ptau" --json
python3 - "$WORK/verify.out" <<'EOF' || fail "verify did not list alice, bob and the beacon"
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
assert report["valid"] is True
assert [(c["name"], c["beacon"]) for c in report["contributions"]] == [("alice", False), ("bob", False), (None, True)], report
EOF

# bob's proof of knowledge swapped for alice's (section 10, contribution 2's G2 point): refused, naming bob.
python3 - "$WORK/transfer_final.zkey" "$WORK/swapped.zkey" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
_, count = struct.unpack_from("<II", data, 4)
pos = 12
for _ in range(count):
    kind, size = struct.unpack_from("<IQ", data, pos)
    if kind == 10:
        start = pos + 12
        break
    pos += 12 + size
p = start + 64 + 4
def contribution(p):  # (offset of its sp·x, offset after it)
    spx = p + 3 * 64
    q = spx + 128 + 64 + 4
    plen, = struct.unpack_from("<I", data, q)
    return spx, q + 4 + plen
alice_spx, p = contribution(p)
bob_spx, p = contribution(p)
data[bob_spx:bob_spx + 128] = data[alice_spx:alice_spx + 128]
open(sys.argv[2], "wb").write(data)
EOF
if "$A" ceremony verify "$WORK/swapped.zkey" --ptau "$WORK/pot_final.ptau" > "$WORK/swapped.out" 2>&1; then
  fail "verify accepted a key whose second proof of knowledge is the first one's"
fi
grep -q 'contribution #2 ("bob")' "$WORK/swapped.out" || { cat "$WORK/swapped.out" >&2; fail "verify did not name bob's contribution"; }

if [ -n "${ZKSETTLE_CEREMONY_KEEP:-}" ]; then  # for scripts/bench_zkey_prove.py and by hand
  mkdir -p "$ZKSETTLE_CEREMONY_KEEP"
  cp "$WORK/transfer_final.zkey" "$WORK/pot_final.ptau" "$ZKSETTLE_CEREMONY_KEEP/"
fi
step finalize "$A" ceremony finalize "$WORK/transfer_final.zkey" --ptau "$WORK/pot_final.ptau" --data "$WORK/data"
TRANSCRIPT=$(b2sum "$WORK/transfer_final.zkey" | cut -d' ' -f1)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/zksettle-server" --data "$WORK/data" --port "$PORT" --require-ceremony-keys > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$PORT" "$SERVER_PID" "$WORK/server.log" " on the ceremony's keys"
URL="http://127.0.0.1:$PORT"
PARAMS=$(curl -sf "$URL/v1/params")
python3 -c 'import json, sys; p = json.loads(sys.argv[1]); assert p["setup"] == "ceremony" and p["transcript_hash"] == sys.argv[2], p' \
  "$PARAMS" "$TRANSCRIPT" || fail "/v1/params does not say ceremony with the transcript's BLAKE2b-512"

spendable() { "$W" balance --json --wallet "$1" --server "$URL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spendable"])'; }
FP=$("$A" params fingerprint --data "$WORK/data" | tail -1)
"$W" init --wallet "$WORK/alice" --trust "$FP" --server "$URL" > /dev/null 2> "$WORK/alice-init.err" < /dev/null
"$W" init --wallet "$WORK/bob" --trust "$FP" --server "$URL" > /dev/null < /dev/null
t0=$(date +%s.%N)
ZKWALLET_VOUCHER=$("$A" deposits voucher --amount 100 --data "$WORK/data" | tail -1) \
  "$W" deposit 100 --wallet "$WORK/alice" > /dev/null 2> "$WORK/deposit.err" || { cat "$WORK/deposit.err" >&2; fail "alice's deposit"; }
BOB=$("$W" address --wallet "$WORK/bob" | tail -1)
ALICE=$("$W" address --wallet "$WORK/alice" | tail -1)
"$W" send 30 --to "$BOB" --memo "ceremony keys" --wallet "$WORK/alice" > /dev/null 2> "$WORK/send.err" || { cat "$WORK/send.err" >&2; fail "alice pays bob"; }
"$W" send 5 --to "$ALICE" --wallet "$WORK/bob" > /dev/null 2> "$WORK/send2.err" || { cat "$WORK/send2.err" >&2; fail "bob pays alice"; }
[ "$(spendable "$WORK/alice")" = 75 ] || fail "alice's spendable balance is not 100 - 30 + 5 = 75"
[ "$(spendable "$WORK/bob")" = 25 ] || fail "bob's spendable balance is not 30 - 5 = 25"
WALLETS=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
if grep -qi "development keys" "$WORK/alice-init.err" "$WORK/deposit.err" "$WORK/send.err"; then
  fail "a wallet warned about development keys on a ceremony's keys"
fi
"$A" db verify --proofs --data "$WORK/data" > "$WORK/dbverify.out" 2>&1 || { cat "$WORK/dbverify.out" >&2; fail "db verify refused the ledger"; }

python3 - "$POWER" "$WALLETS" <<EOF
import json, sys
steps = {$(for k in "${!SECONDS_FOR[@]}"; do printf '"%s": %s, ' "$k" "${SECONDS_FOR[$k]}"; done)}
print(json.dumps({"ceremony": "ok", "power": int(sys.argv[1]), "contributions": 3, "swapped_proof_refused": True,
                  "setup": "ceremony", "alice_spendable": 75, "bob_spendable": 25, "wallet_payments_s": float(sys.argv[2]),
                  "seconds": dict(sorted(steps.items()))}))
EOF
