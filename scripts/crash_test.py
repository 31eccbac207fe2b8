#!/usr/bin/env python3
"""Crash test: nothing acknowledged is ever lost when zksettle-server is killed with SIGKILL.

Usage:
    python3 scripts/crash_test.py [--bin .build/release] [--kills 20] [--transfers 300] [--clients 16] [--seed N]
                                  [--tree-capacity N]

Starts zksettle-server as a child process on a fresh data directory, proves a corpus of
distinct transfers with `zksettle-bench load --prepare-only`, then posts every transfer from
several client threads (retrying through outages) while a killer thread SIGKILLs the server at
random moments and restarts it on the same directory, at least --kills times. Kills come at
random delays after a restart, so some land while batches are being verified; one life in four
ends inside a batch commit (rows written, COMMIT not run) and one in four just after a COMMIT
and before the replies, where the server SIGKILLs itself (ZKSETTLE_FAULT_KILL_AT).

At the end, after a clean restart, it checks:
  - every transfer that got a signed receipt is settled, with the same batch, leaf indices and
    root (GET /v1/transfers/{id});
  - transfers that never got a receipt are settled once or not at all;
  - with --tree-capacity N (trees of N leaves, so that trees roll over during the kills): every
    receipt names the tree of its leaves (leaf // N), no batch holds leaves of two trees, and
    the trees rolled over at least once;
  - `zksettle-admin db verify --proofs` accepts the ledger (tree, roots, hash chain, nullifier
    uniqueness, transfers, receipts, and every proof re-verified).
It prints one JSON summary (kills, acknowledged, found, lost, ...) and exits 1 if anything was
lost or the ledger does not verify. Python standard library only.
"""

import json
import os
import random
import signal
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, corpus_for, error_code, finish, free_port, post_until_answered, request


def main():
    ap = arguments(__doc__)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--transfers", type=int, default=300)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tree-capacity", type=int, default=None,
                    help="leaves per commitment tree (a power of two, 32 to 2^20): small trees roll over during the run")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    work = tempfile.mkdtemp(prefix="zksettle-crash-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    port = free_port(rng)
    extra = ["--flush-ms", "3"] + (["--tree-capacity", str(args.tree_capacity)] if args.tree_capacity else [])
    server = Server(args.bin, data, port, cache=args.cache, extra_args=extra)
    server.start()

    # The corpus: distinct deposits proved against the fresh ledger's root.
    bodies = corpus_for(server, args.transfers, cache=args.cache)

    receipts = {}        # index -> receipt (acknowledged)
    refused = {}         # index -> error code (a definite answer other than settled)
    attempts = [0] * len(bodies)
    next_index = [0]
    lock = threading.Lock()
    done = threading.Event()
    aborted = threading.Event()

    # Transfers are released in bursts of one per client, spread over the time the kills take
    # (about a second per kill and restart), so kills land while transfers are admitted,
    # verified and committed, and batches stay full enough that the corpus root (the fresh
    # ledger's) stays among the last 100 accepted roots.
    span = max(1.0, args.kills * 0.9)
    bursts = max(1, -(-len(bodies) // args.clients))
    start = time.time()

    def client():
        while True:
            with lock:
                if next_index[0] >= len(bodies):
                    return
                i = next_index[0]
                next_index[0] += 1
            release = start + span * (i // args.clients) / bursts
            if release > time.time():
                time.sleep(release - time.time())
            # Until a definite answer: retry through outages, as a wallet would.
            status, body, n = post_until_answered(lambda: server.post_transfer(bodies[i]), aborted)
            attempts[i] += n
            if status is None:
                continue
            with lock:
                if status == 200:
                    receipts[i] = json.loads(body)
                else:
                    refused[i] = error_code(status, body)

    kills = [0]
    kill_delays = []
    by_kind = {"signal": 0, "inside-commit": 0, "after-commit": 0}
    unexpected_exits = []

    def killer():
        # Most lives end with a SIGKILL after a random delay. Every fourth life (the second of
        # each four) ends inside a batch commit, rows written but COMMIT not yet run, and every
        # fourth (the fourth) just after a COMMIT, before anyone heard "settled": the server
        # SIGKILLs itself there (ZKSETTLE_FAULT_KILL_AT=<point>:<n>, the n-th commit of that
        # life), since a random signal rarely lands in those few milliseconds.
        plan = None
        while kills[0] < args.kills and not done.is_set():
            if plan:
                deadline = time.time() + 2.0
                while server.proc.poll() is None and time.time() < deadline:
                    time.sleep(0.005)
            else:
                delay = rng.uniform(0.02, 0.6)
                time.sleep(delay)
                kill_delays.append(round(delay, 3))
            with server.lock:
                if server.proc.poll() is None:  # a random kill, or a planned one whose commit never came
                    server.kill()
                    by_kind["signal"] += 1
                elif server.proc.returncode == -signal.SIGKILL and plan:
                    by_kind[plan.split(":")[0]] += 1
                else:  # died otherwise (a crash): a failure of the test, but keep the clients served
                    unexpected_exits.append(server.proc.returncode)
                kills[0] += 1
                plan = {1: "inside-commit", 3: "after-commit"}.get(kills[0] % 4)
                plan = f"{plan}:{rng.randint(1, 3)}" if plan else None
                server.start(env={"ZKSETTLE_FAULT_KILL_AT": plan} if plan else None, may_die=plan is not None)

    def guarded_killer():
        # A killer that fails must fail the run, not leave the clients retrying forever.
        try:
            killer()
        except BaseException as e:  # noqa: B036 (SystemExit too: threads drop it silently)
            unexpected_exits.append(f"killer: {e!r}")
            aborted.set()

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    k = threading.Thread(target=guarded_killer)
    for t in threads:
        t.start()
    k.start()
    for t in threads:
        t.join()
    # Keep killing until the requested number is reached, with the ledger at rest too.
    while kills[0] < args.kills and k.is_alive():
        time.sleep(0.05)
    done.set()
    k.join()
    elapsed = time.time() - start

    # A clean restart, then every acknowledged transfer must be there exactly as receipted.
    with server.lock:
        server.kill()
        server.start()
    lost, mismatched, settled_unacknowledged = [], [], 0
    for i, body in enumerate(bodies):
        tid = receipts[i]["transfer_id"] if i in receipts else None
        if tid is None:
            # Not acknowledged: find its id by posting again would settle it; ask by id instead.
            continue
        status, raw = request(port, "GET", f"/v1/transfers/{tid}")
        if status != 200 or json.loads(raw).get("status") != "settled":
            lost.append(tid)
            continue
        now = json.loads(raw)["receipt"]
        then = receipts[i]["receipt"]
        if any(now.get(key) != then.get(key) for key in ("batch", "tree", "leaf_indices", "root", "signature")):
            mismatched.append(tid)
    # Trees: each receipt names its leaves' tree, and no batch spans two trees.
    capacity = args.tree_capacity or (1 << 20)
    wrong_tree, tree_of_batch = [], {}
    for r in receipts.values():
        rc = r["receipt"]
        tree = rc["leaf_indices"][0] // capacity
        if rc.get("tree") != tree or rc["leaf_indices"][1] // capacity != tree or tree_of_batch.setdefault(rc["batch"], tree) != tree:
            wrong_tree.append(r["transfer_id"])
    tree_now = server.get_json("/v1/tree")
    stats = server.get_json("/v1/admin/stats", admin=True)
    settled_unacknowledged = stats["transfers"] - len(receipts)
    server.stop()

    verify_ok, verdict = server.db_verify(proofs=True)
    summary = {
        "seed": seed, "kills": kills[0], "kills_by_signal": by_kind["signal"],
        "kills_inside_commit": by_kind["inside-commit"], "kills_after_commit": by_kind["after-commit"],
        "unexpected_exits": unexpected_exits, "transfers": len(bodies), "clients": args.clients, "seconds": round(elapsed, 1),
        "acknowledged": len(receipts), "found": len(receipts) - len(lost) - len(mismatched), "lost": len(lost),
        "changed_after_receipt": len(mismatched), "refused": dict((c, list(refused.values()).count(c)) for c in set(refused.values())),
        "settled_without_receipt": settled_unacknowledged, "ledger_transfers": stats["transfers"],
        "vouchers_used": stats["vouchers_used"],
        "retries": sum(attempts) - len(bodies), "db_verify_ok": verdict.get("ok"), "db_verify_faults": verdict.get("faults", [])[:5],
        "proofs_checked": verdict.get("proofs_checked"),
        "tree_capacity": capacity, "rollovers": tree_now.get("tree"), "leaves": tree_now.get("leaf_count"),
        "receipts_with_wrong_tree": len(wrong_tree),
    }
    # A run where most transfers were refused (e.g. their root left the window) proves little.
    exercised = len(receipts) >= 0.9 * len(bodies)
    if not exercised:
        print(f"only {len(receipts)} of {len(bodies)} transfers were acknowledged: the run did not exercise enough", file=sys.stderr)
    # With 4 kills or more, some must have landed inside a commit and some just after one.
    windows_hit = args.kills < 4 or (by_kind["inside-commit"] >= 1 and by_kind["after-commit"] >= 1)
    if not windows_hit:
        print("no kill landed inside or just after a batch commit: the run did not exercise enough", file=sys.stderr)
    # Every deposit paid by its voucher, recorded in the deposit's own commit: one per transfer.
    vouchers_match = stats["vouchers_used"] == stats["transfers"]
    if not vouchers_match:
        print(f"{stats['vouchers_used']} vouchers used for {stats['transfers']} deposits", file=sys.stderr)
    rolled = not args.tree_capacity or (tree_now.get("tree") or 0) >= 1
    if not rolled:
        print("--tree-capacity was given but no tree filled up: the run did not exercise a rollover", file=sys.stderr)
    ok = (not lost and not mismatched and not unexpected_exits and verify_ok and kills[0] >= args.kills and exercised and windows_hit
          and not wrong_tree and rolled and vouchers_match
          and 0 <= settled_unacknowledged and stats["transfers"] <= len(bodies))
    return finish(summary, ok, work)


if __name__ == "__main__":
    sys.exit(main())
