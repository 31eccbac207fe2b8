#!/usr/bin/env python3
"""Cluster faults: nothing acknowledged is lost when nodes and the database fail (issue 16).

Usage:
    python3 scripts/cluster_faults.py [--bin .build/release] [--nodes 3] [--kills 12] [--transfers 240] [--clients 16] [--seed N]

Starts a throwaway PostgreSQL (scripts/postgres-lib.sh), NODES zksettle-server nodes sharing it
(copies of the first node's data directory) and HAProxy in front of them, proves a corpus of
distinct deposits, and posts them through HAProxy from CLIENTS threads, retrying through outages
as a wallet would, while a killer ends node lives KILLS times, restarting each node at once: a
random live node SIGKILLed at a random moment, except that one life in four ends inside a batch
commit (rows written, COMMIT not sent, the writer lock held) and one in four just after a COMMIT
and before any reply, where the node SIGKILLs itself (ZKSETTLE_FAULT_KILL_AT). Halfway through,
PostgreSQL itself is stopped with `pg_ctl stop -m immediate` (no checkpoint: a power cut) and
started again.

At the end, with every node restarted cleanly, it checks that every transfer that got a signed
receipt is settled exactly as receipted (batch, tree, leaf indices, root, signature), asked of
every node; that the ledger holds each transfer once (transfers without a receipt settled once
or not at all, never twice: the ledger's primary keys); and that
`zksettle-admin db verify --proofs --database URL` accepts the shared ledger. Prints a JSON
summary; exits 1 if anything was lost or the ledger does not verify.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, corpus_for, error_code, finish, free_port, post_until_answered, request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pg(function, *args):
    """Runs a function of scripts/postgres-lib.sh."""
    quoted = " ".join(f"'{a}'" for a in args)
    subprocess.run(["bash", "-c", f"source '{ROOT}/scripts/postgres-lib.sh' && {function} {quoted}"], check=True)


def main():
    ap = arguments(__doc__)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--transfers", type=int, default=240)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"

    work = tempfile.mkdtemp(prefix="zksettle-cluster-faults-")
    os.chmod(work, 0o755)
    pg_dir, pg_port = os.path.join(work, "pg"), free_port(rng)
    pg("start_throwaway_postgres", pg_dir, str(pg_port))
    proxy = None
    nodes = []
    try:
        pg("create_database", str(pg_port), "zksettle")
        url = f"postgres://zksettle@127.0.0.1:{pg_port}/zksettle"
        # Node k writes lane k - 1 first (with ZKSETTLE_OPEN_TREES=K > 1; one lane otherwise).
        first = Server(args.bin, os.path.join(work, "node1", "data"), cache=args.cache, database=url, extra_args=["--flush-ms", "3", "--lane", "0"])
        first.start()
        nodes.append(first)
        for k in range(2, args.nodes + 1):
            data = os.path.join(work, f"node{k}", "data")
            shutil.copytree(first.data, data)
            node = Server(args.bin, data, cache=None, database=url, extra_args=["--flush-ms", "3", "--lane", str(k - 1)])
            node.start()
            nodes.append(node)
        port = free_port(rng)
        cfg = os.path.join(work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 180s\n  timeout server 180s\n"
                    "  option httpchk GET /healthz\n  retries 3\n  option redispatch\n"
                    f"frontend wallets\n  bind 127.0.0.1:{port}\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n")
            for k, n in enumerate(nodes, 1):
                f.write(f"  server node{k} 127.0.0.1:{n.port} check inter 200ms fall 1 rise 1\n")
        proxy = subprocess.Popen([haproxy, "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "haproxy.log"), "wb"))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)

        bodies = corpus_for(first, args.transfers, cache=args.cache)
        receipts, refused, attempts = {}, {}, [0] * len(bodies)
        next_index, lock, aborted = [0], threading.Lock(), threading.Event()
        span = max(1.0, args.kills * 0.8)
        start = time.time()

        def client():
            while True:
                with lock:
                    if next_index[0] >= len(bodies):
                        return
                    i = next_index[0]
                    next_index[0] += 1
                release = start + span * i / len(bodies)
                if release > time.time():
                    time.sleep(release - time.time())
                # A node or the database may be down: ask again, as a wallet does.
                status, body, n = post_until_answered(
                    lambda: request(port, "POST", "/v1/transfers", bodies[i], first.deposit_headers(bodies[i]), timeout=60),
                    aborted, retry_statuses=(502, 503, 504))
                attempts[i] += n
                if status is None:
                    continue
                with lock:
                    if status == 200:
                        receipts[i] = json.loads(body)
                    else:
                        refused[i] = error_code(status, body)

        kills, database_restarts, unexpected = [0], [0], []
        by_kind = {"signal": 0, "inside-commit": 0, "after-commit": 0}
        plans = {}  # node index -> the ZKSETTLE_FAULT_KILL_AT plan of its current life

        def killer():
            # A supervisor's loop: a node that died restarts at once; otherwise a random live
            # node is SIGKILLed. Every fourth life (the second of each four) ends inside a batch
            # commit (rows written, COMMIT not sent, the writer lock held) and every fourth (the
            # fourth) just after a COMMIT, before any client heard "settled": the node SIGKILLs
            # itself there (ZKSETTLE_FAULT_KILL_AT), since a random signal rarely lands in those
            # few milliseconds.
            while kills[0] < args.kills and not aborted.is_set():
                time.sleep(rng.uniform(0.1, 0.7))
                dead = [k for k, n in enumerate(nodes) if n.proc.poll() is not None]
                k = dead[0] if dead else rng.randrange(len(nodes))
                node = nodes[k]
                with node.lock:
                    if node.proc.poll() is None:
                        node.kill()
                        by_kind["signal"] += 1
                    elif node.proc.returncode == -signal.SIGKILL and plans.get(k):
                        by_kind[plans[k].split(":")[0]] += 1
                    else:
                        unexpected.append(node.proc.returncode)
                    kills[0] += 1
                    if kills[0] == args.kills // 2:
                        pg("crash_throwaway_postgres", pg_dir)
                        time.sleep(0.5)
                        pg("restart_throwaway_postgres", pg_dir, str(pg_port))
                        database_restarts[0] += 1
                    plan = {1: "inside-commit", 3: "after-commit"}.get(kills[0] % 4)
                    plans[k] = f"{plan}:{rng.randint(1, 3)}" if plan else None
                    node.start(env={"ZKSETTLE_FAULT_KILL_AT": plans[k]} if plans[k] else None, may_die=plans[k] is not None)

        def guarded():
            try:
                killer()
            except BaseException as e:  # noqa: B036
                unexpected.append(f"killer: {e!r}")
                aborted.set()

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        k = threading.Thread(target=guarded)
        for t in threads + [k]:
            t.start()
        for t in threads:
            t.join()
        aborted.set()
        k.join()
        elapsed = time.time() - start

        for node in nodes:  # a clean restart of every node
            with node.lock:
                node.stop()
                node.start()
        lost, changed = [], []
        for n, (i, r) in enumerate(sorted(receipts.items())):
            node = nodes[n % len(nodes)]
            status, raw = request(node.port, "GET", f"/v1/transfers/{r['transfer_id']}")
            if status != 200 or json.loads(raw).get("status") != "settled":
                lost.append(r["transfer_id"])
                continue
            now, then = json.loads(raw)["receipt"], r["receipt"]
            if any(now.get(key) != then.get(key) for key in ("batch", "tree", "leaf_indices", "root", "signature")):
                changed.append(r["transfer_id"])
        stats = first.get_json("/v1/admin/stats", admin=True)
    finally:
        for node in nodes:
            node.stop()
        if proxy:
            proxy.terminate()
            proxy.wait()

    failures = []
    verify_ok, verdict = first.check_ledger(failures, proofs=True)
    pg("stop_throwaway_postgres", pg_dir)
    summary = {
        "seed": seed, "nodes": len(nodes), "kills": kills[0], "kills_by_signal": by_kind["signal"],
        "kills_inside_commit": by_kind["inside-commit"], "kills_after_commit": by_kind["after-commit"],
        "database_restarts": database_restarts[0],
        "unexpected_exits": unexpected, "transfers": len(bodies), "clients": args.clients, "seconds": round(elapsed, 1),
        "acknowledged": len(receipts), "trees_written": len({r["receipt"].get("tree") for r in receipts.values()}), "lost": len(lost), "changed_after_receipt": len(changed),
        "refused": {c: list(refused.values()).count(c) for c in set(refused.values())},
        "ledger_transfers": stats["transfers"], "settled_without_receipt": stats["transfers"] - len(receipts),
        "vouchers_used": stats["vouchers_used"], "retries": sum(attempts) - len(bodies),
        "db_verify_ok": verdict.get("ok"), "proofs_checked": verdict.get("proofs_checked"), "failures": failures[:5],
    }
    # With 8 kills or more, some lives must have ended inside a commit and some just after one.
    windows_hit = args.kills < 8 or (by_kind["inside-commit"] >= 1 and by_kind["after-commit"] >= 1)
    if not windows_hit:
        print("no node died inside or just after a batch commit: the run did not exercise enough", file=sys.stderr)
    ok = (not lost and not changed and not unexpected and verify_ok and database_restarts[0] == 1 and windows_hit
          and len(receipts) >= 0.9 * len(bodies) and stats["vouchers_used"] == stats["transfers"])
    return finish(summary, ok, work)


if __name__ == "__main__":
    sys.exit(main())
