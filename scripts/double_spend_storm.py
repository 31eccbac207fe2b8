#!/usr/bin/env python3
"""Double-spend storm: many clients at once post conflicting transfers and exact duplicates.

Usage:
    python3 scripts/double_spend_storm.py [--bin .build/release] [--groups 25] [--conflicts 4] [--copies 2]
                                          [--voucher-sets 10] [--clients 32] [--database URL --nodes N]

With --database (a PostgreSQL database, empty) the storm runs against N nodes sharing that
ledger (issue 16), each started with a copy of the first node's data directory; every post goes
to a node drawn at random, so the members of a conflict set, and the copies of one transfer,
meet at different nodes at the same instant and the database decides.

Starts zksettle-server on a fresh data directory and proves a corpus with
`zksettle-bench load --prepare-only --conflicts K`: GROUPS conflict sets of K transfers, the
K members of a set spending the same two notes (same nullifiers) with different outputs. Every
member is posted COPIES times (exact duplicates), all posts shuffled and released at once from
CLIENTS threads, so conflicts meet in the same batch and across batches. Mixed into the same
storm, VOUCHER_SETS sets of K distinct deposits of one amount that all carry the same deposit
voucher: the other double spend, of the operator's permission instead of a note.

Checks: in each conflict set exactly one transfer settles; every post of it answers 200 with
byte-identical bodies; every post of the others answers 409 double_spend; in each voucher set
exactly one deposit settles and every post of the others answers 409 voucher_used; the ledger
holds exactly GROUPS + VOUCHER_SETS transfers and as many used vouchers, and
`zksettle-admin db verify --proofs` (voucher signatures included) accepts it. Prints a JSON
summary; exits 1 if any check fails. Python standard library only.
"""

import os
import random
import shutil
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, finish, corpus_for, error_code, request


def main():
    ap = arguments(__doc__)
    ap.add_argument("--groups", type=int, default=25)
    ap.add_argument("--conflicts", type=int, default=4)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--voucher-sets", type=int, default=10)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--database", help="a PostgreSQL URL: run NODES nodes on one shared ledger")
    ap.add_argument("--nodes", type=int, default=1)
    args = ap.parse_args()
    if args.nodes > 1 and not args.database:
        raise SystemExit("--nodes needs --database: nodes share a PostgreSQL ledger")

    work = tempfile.mkdtemp(prefix="zksettle-storm-")
    data = os.path.join(work, "data")
    # Node k writes lane k - 1 first (with ZKSETTLE_OPEN_TREES=K > 1; one lane otherwise).
    server = Server(args.bin, data, cache=args.cache, database=args.database, extra_args=["--lane", "0"] if args.database else [])
    server.start()
    nodes = [server]
    for k in range(1, args.nodes):
        # A node is a copy of the data directory (keys and secrets) and the same database.
        copy = os.path.join(work, f"data{k}")
        shutil.copytree(data, copy)
        node = Server(args.bin, copy, cache=None, database=args.database, extra_args=["--lane", str(k)])
        node.start()
        nodes.append(node)
    try:
        n = args.groups * args.conflicts
        bodies = corpus_for(server, n, cache=args.cache, conflicts=args.conflicts)
        # Voucher sets: distinct deposits of one amount, the K of a set sharing one voucher.
        v = args.voucher_sets * args.conflicts
        if v:
            shared = corpus_for(server, v, cache=args.cache, amount=5)
            for s in range(args.voucher_sets):
                voucher = server.issue_voucher(5)
                for body in shared[s * args.conflicts:(s + 1) * args.conflicts]:
                    server.vouchers[body] = voucher
            bodies = bodies + shared

        posts = [i for i in range(n + v) for _ in range(args.copies)]
        random.shuffle(posts)
        answers = {i: [] for i in range(n + v)}
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)
        cursor = [0]

        def client():
            barrier.wait()
            while True:
                with lock:
                    if cursor[0] >= len(posts):
                        return
                    i = posts[cursor[0]]
                    cursor[0] += 1
                node = random.choice(nodes)
                status, body = request(node.port, "POST", "/v1/transfers", bodies[i], server.deposit_headers(bodies[i]))
                with lock:
                    answers[i].append((status, body))

        start = time.time()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.time() - start

        failures = []
        for g in range(args.groups + args.voucher_sets):
            members = range(g * args.conflicts, (g + 1) * args.conflicts)
            loser_code = "double_spend" if g < args.groups else "voucher_used"
            winners = [i for i in members if any(s == 200 for s, _ in answers[i])]
            if len(winners) != 1:
                failures.append(f"set {g}: {len(winners)} transfers settled")
                continue
            w = winners[0]
            if len({b for _, b in answers[w]}) != 1 or any(s != 200 for s, _ in answers[w]):
                failures.append(f"set {g}: the winner's posts did not all get the same receipt: "
                                + "; ".join(f"{st} {b[:300]!r}" for st, b in answers[w]))
            for i in members:
                if i == w:
                    continue
                for s, b in answers[i]:
                    code = error_code(s, b)
                    if s != 409 or code != loser_code:
                        failures.append(f"set {g}: a conflicting post got {s} {code}")
        stats = server.get_json("/v1/admin/stats", admin=True)
        # How often a node learned other nodes' batches, and rebuilt a batch under the writer
        # lock because another node committed first (shared ledger: the paths this storm tries).
        shared_counts = {"catchups": 0, "rebuilt": 0}
        for node in nodes:
            _, metrics = request(node.port, "GET", "/metrics")
            for line in metrics.decode().splitlines():
                for name, key in (("zksettle_ledger_catchups_total", "catchups"), ("zksettle_batches_rebuilt_total", "rebuilt")):
                    if line.startswith(name + " ") or line.startswith(name + "{"):
                        shared_counts[key] += int(float(line.split()[-1]))
        if stats["transfers"] != args.groups + args.voucher_sets:
            failures.append(f"the ledger holds {stats['transfers']} transfers, expected {args.groups + args.voucher_sets}")
        if stats["vouchers_used"] != stats["transfers"]:
            failures.append(f"{stats['vouchers_used']} vouchers used for {stats['transfers']} deposits")
    finally:
        for node in nodes:
            node.stop()

    verify_ok, verdict = server.check_ledger(failures, proofs=True)
    summary = {"nodes": len(nodes), "ledger": "postgresql" if args.database else "sqlite", "conflict_sets": args.groups, "voucher_sets": args.voucher_sets, "per_set": args.conflicts, "copies": args.copies, "posts": len(posts),
               "clients": args.clients, "seconds": round(seconds, 2), "settled": stats["transfers"],
               "batches": stats["batches"], "node_catchups": shared_counts["catchups"], "batches_rebuilt": shared_counts["rebuilt"],
               "db_verify_ok": verdict.get("ok"), "failures": failures[:20]}
    return finish(summary, not failures, work)


if __name__ == "__main__":
    sys.exit(main())
