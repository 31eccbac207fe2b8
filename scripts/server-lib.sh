# Sourced by scripts that run zksettle-server in the background (api-contract.sh, load.sh).

# wait_for_server PORT PID LOG HINT: until /healthz answers; if the server exits first, prints
# its log and HINT and exits 1 (first start makes development keys: allow up to 2 minutes).
wait_for_server() {
  local port=$1 pid=$2 log=$3 hint=$4
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "error: the server did not start$hint" >&2; exit 1; }
    sleep 0.2
  done
  echo "error: the server did not answer /healthz within 2 minutes" >&2
  exit 1
}
