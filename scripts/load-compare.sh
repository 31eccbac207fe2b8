#!/usr/bin/env bash
# Issue 16's load comparison in one run: settled transfers/s of one node on SQLite, one node on
# PostgreSQL, two nodes on PostgreSQL behind HAProxy, and two nodes on a ledger of two open
# trees (a lane each), interleaved over ROUNDS rounds, each run on a fresh ledger:
#
#   scripts/load-compare.sh [TRANSFERS=1000] [CONCURRENCY=64] [ROUNDS=2]
#
# Starts its own throwaway PostgreSQL (scripts/postgres-lib.sh) and stops it at the end; every
# run is scripts/load.sh, so keys and the proved corpus are cached as there. Prints one JSON
# object: each configuration's runs (settled/s, p50/p99 ms, server CPU s per 1,000 transfers,
# PostgreSQL's own CPU included for the PostgreSQL runs) and the ratios the issue asks for
# (PostgreSQL node / SQLite node; each cluster / one PostgreSQL node), medians over the rounds.
# Needs a release build, PostgreSQL's server and HAProxy (Debian: apt-get install postgresql
# haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres-lib.sh
N=${1:-1000}; C=${2:-64}; ROUNDS=${3:-2}
WORK=$(mktemp -d /tmp/zksettle-load-compare.XXXXXX)
chmod 755 "$WORK"  # run as root, PostgreSQL runs as the postgres user inside it
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { stop_throwaway_postgres "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
start_throwaway_postgres "$WORK/pg" "$PG_PORT" >&2
pg_cpu() {  # CPU of this PostgreSQL in clock ticks: the postmaster with its reaped children, and the live ones
  local pm total child
  pm=$(head -1 "$WORK/pg/data/postmaster.pid")
  total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for child in $(pgrep -P "$pm" || true); do
    total=$(( total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
db=0
run() {  # run NAME NODES [server flags…]: one load.sh run, its JSON lines saved as WORK/NAME.R.json
  local name=$1 nodes=$2; shift 2
  local flags=("$@") before after
  if [[ "$name" != sqlite ]]; then
    db=$((db + 1)); create_database "$PG_PORT" "load$db"
    flags+=(--database "postgres://zksettle@127.0.0.1:$PG_PORT/load$db")
  fi
  echo "round $r: $name" >&2
  before=$(pg_cpu)
  ZKSETTLE_LOAD_NODES=$nodes scripts/load.sh "$N" "$C" "${flags[@]}" > "$WORK/$name.$r.json"
  after=$(pg_cpu)
  echo "{\"postgres_cpu_seconds\": $(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK), 2))")}" >> "$WORK/$name.$r.json"
}
for r in $(seq 1 "$ROUNDS"); do
  run sqlite 1
  run postgres 1
  run postgres_two_nodes 2
  run postgres_two_nodes_two_trees 2 --open-trees 2
done
python3 - "$WORK" "$ROUNDS" "$N" "$C" <<'EOF'
import json, statistics, sys
work, rounds, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def objects(text):
    decoder, i, out = json.JSONDecoder(), 0, []
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        o, i = decoder.raw_decode(text, i)
        out.append(o)
    return out

configs = ["sqlite", "postgres", "postgres_two_nodes", "postgres_two_nodes_two_trees"]
result = {"benchmark": "load-compare", "transfers": n, "concurrency": c, "rounds": rounds, "runs": {}, "median_settled_per_second": {}}
for name in configs:
    runs = []
    for r in range(1, rounds + 1):
        merged = {}
        for o in objects(open(f"{work}/{name}.{r}.json").read()):
            merged.update(o)
        if merged.get("settled") != n:
            sys.exit(f"{name}, round {r}: {merged.get('settled')} of {n} settled: {merged.get('rejects')}")
        cpu = merged["server_cpu_seconds"] + (merged["postgres_cpu_seconds"] if name != "sqlite" else 0)
        runs.append({"settled_per_second": merged["settled_per_second"], "p50_ms": round(merged["p50_ms"], 1),
                     "p99_ms": round(merged["p99_ms"], 1), "cpu_seconds_per_1000": round(cpu * 1000 / n, 2)})
    result["runs"][name] = runs
    result["median_settled_per_second"][name] = round(statistics.median(x["settled_per_second"] for x in runs), 1)
m = result["median_settled_per_second"]
result["ratios"] = {
    "postgres_node_over_sqlite_node": round(m["postgres"] / m["sqlite"], 3),
    "two_nodes_over_one_postgres_node": round(m["postgres_two_nodes"] / m["postgres"], 3),
    "two_nodes_two_trees_over_two_nodes_one_tree": round(m["postgres_two_nodes_two_trees"] / m["postgres_two_nodes"], 3),
}
print(json.dumps(result, indent=1))
EOF
