#!/usr/bin/env python3
"""Crash test: nothing acknowledged is ever lost when zksettle-server is killed with SIGKILL.

Usage:
    python3 scripts/crash_test.py [--bin .build/release] [--kills 20] [--transfers 300] [--clients 16] [--seed N]

Starts zksettle-server as a child process on a fresh data directory, proves a corpus of
distinct transfers with `zksettle-bench load --prepare-only`, then posts every transfer from
several client threads (retrying through outages) while a killer thread SIGKILLs the server at
random moments and restarts it on the same directory, at least --kills times. Kills come at
random delays after a restart, so some land while batches are being verified and committed.

At the end, after a clean restart, it checks:
  - every transfer that got a signed receipt is settled, with the same batch, leaf indices and
    root (GET /v1/transfers/{id});
  - transfers that never got a receipt are settled once or not at all;
  - `zksettle-admin db verify --proofs` accepts the ledger (tree, roots, hash chain, nullifier
    uniqueness, transfers, receipts, and every proof re-verified).
It prints one JSON summary (kills, acknowledged, found, lost, ...) and exits 1 if anything was
lost or the ledger does not verify. Python standard library only.
"""

import argparse
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

from zksettle_harness import prepare_corpus, request


class Server:
    def __init__(self, bindir, data, port):
        self.bindir, self.data, self.port = bindir, data, port
        self.proc = None
        self.lock = threading.Lock()
        self.log = open(os.path.join(data, "..", "server.log"), "ab")

    def start(self, timeout=120):
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "zksettle-server"), "--data", self.data, "--host", "127.0.0.1",
             "--port", str(self.port), "--deposit-token", "crash-deposit", "--admin-token", "crash-admin",
             "--log-level", "warning", "--flush-ms", "3"],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"zksettle-server exited with {self.proc.returncode} on start; see {self.log.name}")
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("zksettle-server did not come up")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--transfers", type=int, default=300)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    work = tempfile.mkdtemp(prefix="zksettle-crash-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    port = rng.randrange(20000, 40000)
    server = Server(args.bin, data, port)
    server.start()

    # The corpus: distinct deposits proved against the fresh ledger's root.
    bodies = prepare_corpus(args.bin, port, args.transfers, os.path.join(work, "corpus"), "crash-deposit")

    receipts = {}        # index -> receipt (acknowledged)
    refused = {}         # index -> error code (a definite answer other than settled)
    attempts = [0] * len(bodies)
    next_index = [0]
    lock = threading.Lock()
    done = threading.Event()

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
            while True:  # until a definite answer: retry through outages, as a wallet would
                attempts[i] += 1
                try:
                    status, body = request(port, "POST", "/v1/transfers", bodies[i],
                                           {"Content-Type": "application/json", "X-Deposit-Token": "crash-deposit"})
                except OSError:
                    time.sleep(0.05)
                    continue
                if status == 200:
                    with lock:
                        receipts[i] = json.loads(body)
                    break
                code = json.loads(body).get("error", {}).get("code", f"http_{status}") if body else f"http_{status}"
                if code in ("overloaded", "unavailable", "internal", "storage_failure"):
                    time.sleep(0.05)
                    continue
                with lock:
                    refused[i] = code
                break

    kills = [0]
    kill_delays = []

    def killer():
        while kills[0] < args.kills and not done.is_set():
            delay = rng.uniform(0.02, 0.6)
            time.sleep(delay)
            if done.is_set():
                break
            with server.lock:
                server.kill()
                kills[0] += 1
                kill_delays.append(round(delay, 3))
                server.start()

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    k = threading.Thread(target=killer)
    for t in threads:
        t.start()
    k.start()
    for t in threads:
        t.join()
    # Keep killing until the requested number is reached, with the ledger at rest too.
    while kills[0] < args.kills:
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
        if any(now.get(key) != then.get(key) for key in ("batch", "leaf_indices", "root", "signature")):
            mismatched.append(tid)
    status, raw = request(port, "GET", "/v1/admin/stats", headers={"Authorization": "Bearer crash-admin"})
    stats = json.loads(raw)
    settled_unacknowledged = stats["transfers"] - len(receipts)
    server.stop()

    verify = subprocess.run([os.path.join(args.bin, "zksettle-admin"), "db", "verify", "--proofs", "--json", "--data", data],
                            capture_output=True, text=True)
    verdict = json.loads(verify.stdout) if verify.stdout.strip() else {"ok": False, "error": verify.stderr}
    summary = {
        "seed": seed, "kills": kills[0], "transfers": len(bodies), "clients": args.clients, "seconds": round(elapsed, 1),
        "acknowledged": len(receipts), "found": len(receipts) - len(lost) - len(mismatched), "lost": len(lost),
        "changed_after_receipt": len(mismatched), "refused": dict((c, list(refused.values()).count(c)) for c in set(refused.values())),
        "settled_without_receipt": settled_unacknowledged, "ledger_transfers": stats["transfers"],
        "retries": sum(attempts) - len(bodies), "db_verify_ok": verdict.get("ok"), "db_verify_faults": verdict.get("faults", [])[:5],
        "proofs_checked": verdict.get("proofs_checked"),
    }
    print(json.dumps(summary, indent=1))
    # A run where most transfers were refused (e.g. their root left the window) proves little.
    exercised = len(receipts) >= 0.9 * len(bodies)
    if not exercised:
        print(f"only {len(receipts)} of {len(bodies)} transfers were acknowledged: the run did not exercise enough", file=sys.stderr)
    ok = (not lost and not mismatched and verify.returncode == 0 and kills[0] >= args.kills and exercised
          and 0 <= settled_unacknowledged and stats["transfers"] <= len(bodies))
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work} for inspection", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
