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
ST=${1:-schemathesis}
EXAMPLES=${ZKSETTLE_CONTRACT_EXAMPLES:-50}
DATA=$(mktemp -d /tmp/zksettle-contract.XXXXXX)
PORT=$(( 20000 + RANDOM % 20000 ))
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

.build/release/zksettle-server --data "$DATA" --host 127.0.0.1 --port "$PORT" \
  --deposit-token contract-deposit --admin-token contract-admin --log-level warning > "$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log" >&2; echo "error: the server did not start" >&2; exit 1; }
  sleep 0.2
done

status=0
"$ST" --config-file scripts/schemathesis.toml run Sources/SettlementHTTP/openapi.yaml \
  --url "http://127.0.0.1:$PORT" -H "Authorization: Bearer contract-admin" -H "X-Deposit-Token: contract-deposit" \
  --max-examples "$EXAMPLES" --workers 2 || status=$?

if ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then
  echo "error: the server is not healthy after the contract run" >&2
  tail -50 "$DATA/server.log" >&2
  exit 1
fi
exit $status
