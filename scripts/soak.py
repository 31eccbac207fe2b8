#!/usr/bin/env python3
"""Soak: a long run at the load generator's rate, with the server's memory and descriptors sampled.

Usage:
    python3 scripts/soak.py [--bin .build/release] [--minutes 3] [--clients 16] [--transfers 300]

Starts zksettle-server on a fresh data directory and drives it from CLIENTS threads, each as
fast as the server answers, with the mix a live server sees:
  - new transfers from the proved corpus (the ones that settle: admission, batch verification,
    the sequencer, a durable commit, a signed receipt), released in bursts over the run so that
    the corpus root stays among the accepted roots;
  - forged transfers (a corpus transfer with another one's proof): they pass admission and fail
    batch verification, so the verifier pool bisects every batch they are in;
  - re-posts of settled transfers (the same receipt again), double spends (a settled
    transfer's nullifiers with another output), malformed bodies;
  - wallet and auditor reads: the tree, Merkle paths, note pages, nullifiers, params, metrics.
Every second it samples the server's resident memory and open file descriptors. Growth is
measured from the end of the warm-up (the first fifth) to the end. Fails if an answer is not
what that request must get, the server dies, descriptors grow by more than 32, resident
memory grows by more than --max-growth-mib, or `zksettle-admin db verify --proofs` refuses the
ledger. Prints one JSON summary. Python standard library only.
"""

import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, finish, corpus_for, error_code, process_sample


def main():
    ap = arguments(__doc__)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--transfers", type=int, default=300, help="corpus transfers that settle over the run")
    ap.add_argument("--forged", type=int, default=20, help="corpus transfers kept back to be forged, never settled")
    ap.add_argument("--max-growth-mib", type=float, default=64)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="zksettle-soak-")
    server = Server(args.bin, os.path.join(work, "data"), cache=args.cache)
    server.start()
    corpus = corpus_for(server, args.transfers + args.forged, cache=args.cache)
    honest, kept_back = corpus[:args.transfers], corpus[args.transfers:]
    # A forged transfer: a kept-back transfer's statement with another transfer's proof. Its
    # nullifiers are never spent, so admission lets it through to the verifier every time.
    forged = []
    for i, body in enumerate(kept_back):
        obj, other = json.loads(body), json.loads(kept_back[(i + 1) % len(kept_back)])
        obj["proof"] = other["proof"]
        forged.append(json.dumps(obj).encode())
        # The kept-back deposit's voucher: the forged proof is refused by the verifier, not at the door.
        server.vouchers[forged[-1]] = server.voucher_for(body)

    duration = args.minutes * 60
    start = time.time()
    lock = threading.Lock()
    settled = []            # (index, nullifiers, leaf index) of settled corpus transfers
    released = [0]          # corpus transfers released so far
    taken = [0]
    counts = {}
    wrong = []
    stop = threading.Event()
    bursts = max(1, min(60, args.transfers // 5))

    def count(kind, ok, detail=""):
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
            if not ok and len(wrong) < 20:
                wrong.append(f"{kind}: {detail}")

    def releaser():
        # Bursts of transfers at even steps over the first 90% of the run: batches stay full
        # enough that fewer than 100 roots follow the corpus root.
        for b in range(bursts):
            if stop.wait(max(0.0, start + duration * 0.9 * b / bursts - time.time())):
                return
            with lock:
                released[0] = args.transfers * (b + 1) // bursts

    def client(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        def call(method, path, body=None):
            nonlocal conn
            try:
                conn.request(method, path, body=body, headers=server.deposit_headers(body) if body is not None else {})
                r = conn.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                return None, b""

        while not stop.is_set():
            with lock:
                i = taken[0] if taken[0] < released[0] else None
                if i is not None:
                    taken[0] += 1
                done = list(settled[-50:])
            if i is not None:
                status, raw = call("POST", "/v1/transfers", honest[i])
                ok = status == 200 and json.loads(raw).get("status") == "settled"
                count("settle", ok, f"{status} {error_code(status, raw)}")
                if ok:
                    receipt = json.loads(raw)
                    with lock:
                        settled.append((i, receipt["public_inputs"][3:5], receipt["receipt"]["leaf_indices"][0], raw))
                continue
            kind = rng.choices(["forged", "repost", "double_spend", "malformed", "read"], [3, 2, 1, 1, 8])[0]
            if kind in ("repost", "double_spend") and not done:
                kind = "read"
            if kind == "forged":
                status, raw = call("POST", "/v1/transfers", rng.choice(forged))
                count(kind, status == 422 and error_code(status, raw) == "invalid_proof", f"{status} {error_code(status, raw)}")
            elif kind == "repost":
                j, _, _, first = rng.choice(done)
                status, raw = call("POST", "/v1/transfers", honest[j])
                count(kind, status == 200 and raw == first, f"{status} (a different answer than the first receipt)")
            elif kind == "double_spend":
                j = rng.choice(done)[0]
                obj = json.loads(honest[j])
                obj["public_inputs"][5] = str(rng.randrange(1, 1 << 250))
                status, raw = call("POST", "/v1/transfers", json.dumps(obj).encode())
                count(kind, status == 409 and error_code(status, raw) == "double_spend", f"{status} {error_code(status, raw)}")
            elif kind == "malformed":
                status, raw = call("POST", "/v1/transfers", rng.choice([b"{", b"[]", b'{"proof": 1}', b"\x00" * 100]))
                count(kind, status == 400 and error_code(status, raw) == "malformed", f"{status} {error_code(status, raw)}")
            else:
                choice = rng.randrange(6)
                if choice == 0:
                    path = "/v1/tree"
                elif choice == 1 and done:
                    path = f"/v1/tree/path/{rng.choice(done)[2]}"
                elif choice == 2:
                    path = f"/v1/notes?from={rng.randrange(0, 2 * max(1, len(done)) + 1)}&limit=100"
                elif choice == 3 and done:
                    path = f"/v1/nullifiers/{rng.choice(done)[1][0]}"
                elif choice == 4:
                    path = "/metrics"
                else:
                    path = "/v1/params"
                status, raw = call("GET", path)
                count("read", status == 200, f"GET {path} {status}")
        conn.close()

    samples = []

    def sampler():
        while not stop.is_set():
            try:
                rss, fds = process_sample(server.pid)
            except OSError:
                with lock:
                    wrong.append("the server process is gone")
                stop.set()
                return
            samples.append((time.time() - start, rss, fds))
            stop.wait(1.0)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    threads += [threading.Thread(target=releaser), threading.Thread(target=sampler)]
    for t in threads:
        t.start()
    progress_at = start
    while time.time() < start + duration and not stop.is_set():
        time.sleep(1)
        if time.time() - progress_at >= 30:
            progress_at = time.time()
            with lock:
                total = sum(counts.values())
            rss = samples[-1][1] / 1024 if samples else 0
            print(f"  {time.time() - start:4.0f} s  {total} requests  {len(settled)} settled  rss {rss:.0f} MiB",
                  file=sys.stderr)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.time() - start

    failures = list(wrong)
    warm = [s for s in samples if s[0] >= duration * 0.2] or samples
    late = [s for s in samples if s[0] >= duration * 0.6] or samples
    rss_warm, rss_late, rss_end = warm[0][1] / 1024, late[0][1] / 1024, samples[-1][1] / 1024
    rss_peak = max(s[1] for s in samples) / 1024
    fds_warm, fds_end = warm[0][2], samples[-1][2]
    if rss_end - rss_warm > args.max_growth_mib:
        failures.append(f"resident memory grew {rss_end - rss_warm:.1f} MiB after the warm-up")
    if fds_end - fds_warm > 32:
        failures.append(f"open descriptors grew from {fds_warm} to {fds_end}")
    if len(settled) < args.transfers * 0.95:
        failures.append(f"only {len(settled)} of {args.transfers} corpus transfers settled")
    stats = server.get_json("/v1/admin/stats", admin=True)
    server.stop()
    verify_ok, verdict = server.check_ledger(failures, proofs=True)
    total = sum(counts.values())
    summary = {
        "minutes": round(elapsed / 60, 2), "clients": args.clients, "requests": total,
        "requests_per_second": round(total / elapsed, 1), "by_kind": counts, "settled": len(settled),
        "ledger_batches": stats.get("batches"), "rss_mib_warm": round(rss_warm, 1), "rss_mib_end": round(rss_end, 1),
        "rss_mib_peak": round(rss_peak, 1), "rss_growth_mib": round(rss_end - rss_warm, 1),
        # Growth over the last 40% of the run, per hour: a leak keeps growing, a cache levels off.
        "rss_mib_at_60pct": round(rss_late, 1),
        "rss_growth_last_40pct_mib_per_hour": round((rss_end - rss_late) / max(1e-9, (samples[-1][0] - late[0][0]) / 3600), 1),
        "fds_warm": fds_warm, "fds_end": fds_end, "samples": len(samples), "db_verify_ok": verify_ok,
        "failures": failures,
    }
    return finish(summary, not failures, work)


if __name__ == "__main__":
    sys.exit(main())
