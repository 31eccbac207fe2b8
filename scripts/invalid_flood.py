#!/usr/bin/env python3
"""Invalid-proof flood: honest settlement rate while other clients send proofs that do not verify.

Usage:
    python3 scripts/invalid_flood.py [--bin .build/release] [--transfers 300] [--clients 16]
                                     [--attackers 4] [--flood-connections 64] [--rounds 5]
                                     [--share 0.5] [--min-ratio 0.5] [--server-arg=--flag ...]

Issue 14, point 4. A proof that does not verify costs its sender one request and the server a
bisection of the batch it sank. Each round starts zksettle-server twice on fresh data
directories (same development keys, so the same empty root and the same cached corpus of
`zksettle-bench load --prepare-only` deposits serve both; the honest transfers are those
deposits, exempt from `--min-fee`, each paid by its own voucher):

  clean: CLIENTS threads on 127.0.0.1 post the TRANSFERS corpus transfers, each waiting for its
         receipt; honest settled/s = TRANSFERS / (last receipt - first post);
  flood: the same, while a separate process (so its work does not take this one's
         interpreter) sends invalid proofs from ATTACKERS other source addresses
         (127.0.0.2, 127.0.0.3, …), FLOOD-CONNECTIONS (128, more than the probation queue holds) in all, paced so that SHARE of all posts
         are invalid. An invalid proof is what anyone can send without a credential: a
         private transfer (ext amount 0, the server's minimum fee) with consistent ext data and
         hash, the corpus root, fresh random nullifiers (distinct, never spent: it passes
         admission) and a corpus transfer's proof, which parses but proves another statement.

Checks: every honest transfer settles in both phases; every invalid post is refused
(`422 invalid_proof`, or `429 rate_limited` once its client's probation lane is full) and none
settles; the ledger holds exactly the honest transfers and `db verify --proofs` accepts it; the
invalid share of the flood's posts is at least SHARE; and the median over the rounds of
flood/clean honest settled/s is at least MIN-RATIO. Prints a JSON summary; exits 1 on a failed
check. Python standard library only.
"""

import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, finish, corpus_for, error_code


R = 21888242871839275222246405745257275088548364400416034343698204186575808495617  # BN254's scalar field


def ext_data_hash(ext):
    """`ExtData.hash`: SHA-256 of the canonical encoding (Sources/Protocol/ExtData.swift), mod r."""
    recipient = ext["recipient"].encode()
    out = b"zksettle/extdata/v1" + len(recipient).to_bytes(2, "big") + recipient
    out += int(ext["ext_amount"]).to_bytes(8, "big", signed=True) + int(ext["fee"]).to_bytes(8, "big")
    for o in ext["encrypted_outputs"]:
        b = base64.b64decode(o)
        out += len(b).to_bytes(4, "big") + b
    return int.from_bytes(hashlib.sha256(out).digest(), "big") % R


def forge(body, rng, fee=0):
    """What any stranger can send: a private transfer (no deposit, so no credential) with a
    consistent statement (ext data that hashes to its extDataHash, a root the tree had, fresh
    nullifiers) and a proof that parses but was made for another statement."""
    obj = json.loads(body)
    obj["ext_data"]["ext_amount"], obj["ext_data"]["fee"] = "0", str(fee)
    inputs = obj["public_inputs"]
    inputs[1] = str((-fee) % R)
    inputs[2] = str(ext_data_hash(obj["ext_data"]))
    inputs[3] = str(rng.randrange(1, 1 << 250))
    inputs[4] = str(rng.randrange(1, 1 << 250))
    return json.dumps(obj).encode()


def attacker(port, source, bodies, forge_base, fee, honest_posted, invalid_posted, share, stop, results):
    """One attacking connection from `source`: posts invalid proofs while fewer than SHARE of all
    posts are invalid (the honest count is shared), until `stop`."""
    rng = random.Random(source + str(threading.get_ident()))
    conn = None
    counts = {}
    while not stop.is_set():
        with invalid_posted.get_lock():
            allowed = invalid_posted.value < share / (1 - share) * honest_posted.value
            if allowed:
                invalid_posted.value += 1
        if not allowed:
            time.sleep(0.005)
            continue
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
            # Forged ahead of time (the flood's own CPU is not the server's to pay on a shared
            # machine); past the prepared ones, forged on the spot.
            try:
                body = bodies.pop()
            except IndexError:
                body = forge(rng.choice(forge_base), rng, fee)
            conn.request("POST", "/v1/transfers", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            key = f"{r.status} {error_code(r.status, raw)}"
        except (OSError, http.client.HTTPException) as e:
            if conn is not None:
                conn.close()
            conn = None
            key = f"error {type(e).__name__}"
        counts[key] = counts.get(key, 0) + 1
    results.put(counts)


def flood_process(port, sources, per_source, forge_base, fee, honest_posted, invalid_posted, share, stop, results, ready):
    rng = random.Random(1)
    count = int(len(forge_base) * share / (1 - share)) + 4 * per_source * len(sources)
    bodies = [forge(forge_base[i % len(forge_base)], rng, fee) for i in range(count)]
    ready.set()
    threads = [threading.Thread(target=attacker, args=(port, s, bodies, forge_base, fee, honest_posted, invalid_posted, share, stop, results))
               for s in sources for _ in range(per_source)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_phase(args, work, name, honest, forge_base, flood):
    """One server life: the honest corpus from CLIENTS threads, with or without the flood."""
    server = Server(args.bin, os.path.join(work, name, "data"), cache=args.cache, extra_args=args.server_args)
    server.start()
    # Each honest deposit's voucher from this life's server (its own deposit key), before timing.
    for body in honest:
        server.voucher_for(body)
    failures = []
    ctx = multiprocessing.get_context("fork")
    honest_posted, invalid_posted = ctx.Value("l", 0), ctx.Value("l", 0)
    stop, results, ready = ctx.Event(), ctx.Queue(), ctx.Event()
    proc = None
    if flood:
        sources = [f"127.0.0.{2 + k}" for k in range(args.attackers)]
        proc = ctx.Process(target=flood_process, args=(server.port, sources, max(1, args.flood_connections // args.attackers), forge_base, args.min_fee,
                                                       honest_posted, invalid_posted, args.share, stop, results, ready))
        proc.start()
        if not ready.wait(120):
            raise SystemExit("the flood process did not get ready")
    lock = threading.Lock()
    next_index = [0]
    answers = {}
    first_post, last_settled = [None], [0.0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while True:
            with lock:
                i = next_index[0]
                if i >= len(honest):
                    break
                next_index[0] += 1
                if first_post[0] is None:
                    first_post[0] = time.time()
            with honest_posted.get_lock():
                honest_posted.value += 1
            try:
                conn.request("POST", "/v1/transfers", honest[i], server.deposit_headers(honest[i]))
                r = conn.getresponse()
                raw = r.read()
                ok = r.status == 200 and json.loads(raw).get("status") == "settled"
                key = "settled" if ok else f"{r.status} {error_code(r.status, raw)}"
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                ok, key = False, f"error {type(e).__name__}"
            with lock:
                answers[key] = answers.get(key, 0) + 1
                if ok:
                    last_settled[0] = max(last_settled[0], time.time())

    if flood:
        # Let the flood start first (it posts only as the honest posts allow, so prime it with
        # a share of its own: the honest clients then meet a flood already under way).
        with honest_posted.get_lock():
            honest_posted.value += args.clients
        time.sleep(0.5)
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    invalid = {}
    if flood:
        stop.set()
        for _ in range(args.attackers * max(1, args.flood_connections // args.attackers)):
            for k, v in results.get(timeout=120).items():
                invalid[k] = invalid.get(k, 0) + v
        proc.join(timeout=60)
    stats = server.get_json("/v1/admin/stats", admin=True)
    server.stop()
    elapsed = last_settled[0] - first_post[0] if first_post[0] else 0
    rate = len(honest) / elapsed if answers.get("settled") == len(honest) and elapsed > 0 else 0.0
    if answers.get("settled", 0) != len(honest):
        failures.append(f"{name}: honest answers {answers}, expected {len(honest)} settled")
    refused = {k: v for k, v in invalid.items() if k not in ("422 invalid_proof", "429 rate_limited")}
    if refused:
        failures.append(f"{name}: invalid posts answered otherwise than invalid_proof/rate_limited: {refused}")
    if stats["transfers"] != len(honest):
        failures.append(f"{name}: the ledger holds {stats['transfers']} transfers, expected {len(honest)}")
    server.check_ledger(failures)
    posted_invalid = sum(invalid.values())
    share = posted_invalid / (posted_invalid + len(honest)) if flood else 0.0
    if flood and share < args.share - 0.02:
        failures.append(f"{name}: only {share:.2f} of the posts were invalid (wanted {args.share})")
    return {"phase": name, "honest_settled_per_s": round(rate, 1), "seconds": round(elapsed, 3), "honest": answers,
            "invalid": invalid, "invalid_share": round(share, 3)}, failures


def main():
    ap = arguments(__doc__)
    ap.add_argument("--transfers", type=int, default=300)
    ap.add_argument("--clients", type=int, default=16, help="honest connections")
    ap.add_argument("--flood-connections", type=int, default=128,
                    help="attacking connections, spread over the attackers (enough to keep up the share while the server makes them wait)")
    ap.add_argument("--attackers", type=int, default=4, help="attacking source addresses, 127.0.0.2 on")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--share", type=float, default=0.5, help="share of all posts that are invalid proofs")
    ap.add_argument("--min-ratio", type=float, default=0.5, help="required median flood/clean honest rate")
    ap.add_argument("--min-fee", type=int, default=0, help="the server's --min-fee; the forgeries pay it")
    ap.add_argument("--server-arg", action="append", default=[], dest="server_args", help="extra zksettle-server flag (repeat)")
    args = ap.parse_args()
    args.server_args += ["--min-fee", str(args.min_fee)]
    if not 0 < args.share < 1:
        raise SystemExit("--share must be between 0 and 1")

    work = tempfile.mkdtemp(prefix="zksettle-flood-")
    # The corpus: TRANSFERS honest deposits (cached with the other fault scripts'). The flood
    # forges from the same bodies: its statements (ext amount, hash, nullifiers) are new.
    probe = Server(args.bin, os.path.join(work, "probe", "data"), cache=args.cache)
    probe.start()
    honest = corpus_for(probe, args.transfers, cache=args.cache)
    probe.stop()
    forge_base = honest

    failures, phases, ratios = [], [], []
    for r in range(args.rounds):
        clean, f1 = run_phase(args, work, f"clean-{r}", honest, forge_base, flood=False)
        flood, f2 = run_phase(args, work, f"flood-{r}", honest, forge_base, flood=True)
        failures += f1 + f2
        phases += [clean, flood]
        if clean["honest_settled_per_s"] > 0:
            ratios.append(flood["honest_settled_per_s"] / clean["honest_settled_per_s"])
        print(f"round {r}: clean {clean['honest_settled_per_s']}/s, flood {flood['honest_settled_per_s']}/s "
              f"(invalid share {flood['invalid_share']}, invalid answers {flood['invalid']})", file=sys.stderr)
    ratio = statistics.median(ratios) if ratios else 0.0
    if ratio < args.min_ratio:
        failures.append(f"median flood/clean honest rate {ratio:.2f} < {args.min_ratio}")
    summary = {
        "ok": not failures, "transfers": args.transfers, "clients": args.clients, "attackers": args.attackers,
        "share": args.share, "rounds": args.rounds,
        "clean_median_per_s": statistics.median(p["honest_settled_per_s"] for p in phases if p["phase"].startswith("clean")),
        "flood_median_per_s": statistics.median(p["honest_settled_per_s"] for p in phases if p["phase"].startswith("flood")),
        "ratios": [round(x, 3) for x in ratios], "median_ratio": round(ratio, 3), "min_ratio": args.min_ratio,
        "phases": phases, "failures": failures,
    }
    return finish(summary, not failures, work)


if __name__ == "__main__":
    sys.exit(main())
