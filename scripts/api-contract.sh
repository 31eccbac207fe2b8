#!/usr/bin/env bash
# The API contract check: starts zksettle-server on a fresh data directory and runs schemathesis
# (every check, all phases) against Sources/SettlementHTTP/openapi.yaml, then checks that the
# server is still up and healthy. Run from .ci/run; by hand:
#
#   python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis && scripts/api-contract.sh /tmp/st/bin/schemathesis
#
# Needs a release build (swift build -c release). Exit status: schemathesis's, or 1 if the
# server died.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/server-lib.sh
ST=${1:-schemathesis}
EXAMPLES=${ZKSETTLE_CONTRACT_EXAMPLES:-50}
DATA=$(mktemp -d /tmp/zksettle-contract.XXXXXX)
PORT=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768 on): no client port can hold it
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

.build/release/zksettle-server --data "$DATA" --host 127.0.0.1 --port "$PORT" \
  --admin-token contract-admin --log-level warning > "$DATA/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$PORT" "$SERVER_PID" "$DATA/server.log" ""

# One worker: with two, schemathesis's threads call ast.parse at once (hypothesis describes its
# filter lambdas from their source), and CPython 3.11's AST builder keeps its recursion counter
# per interpreter, not per thread; the race fails a run with "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905), as it did in CI on 2026-11-30.
status=0
"$ST" --config-file scripts/schemathesis.toml run Sources/SettlementHTTP/openapi.yaml \
  --url "http://127.0.0.1:$PORT" -H "Authorization: Bearer contract-admin" \
  --max-examples "$EXAMPLES" --workers 1 ${ZKSETTLE_CONTRACT_SEED:+--seed "$ZKSETTLE_CONTRACT_SEED"} || status=$?

if ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then
  echo "error: the server is not healthy after the contract run" >&2
  tail -50 "$DATA/server.log" >&2
  exit 1
fi
exit $status
