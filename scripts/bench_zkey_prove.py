#!/usr/bin/env python3
"""`zksettle-admin proof prove` (a snarkjs .zkey, any circom circuit) against arkworks, one run.

Usage:
    python scripts/bench_zkey_prove.py --zkey transfer_final.zkey [--bin DIR] [--iterations N]

The .zkey must be the transfer circuit's (scripts/ceremony.sh makes one; ZKSETTLE_CEREMONY_KEEP=DIR
keeps it). `zksettle-admin circuit export` writes the circuit's .r1cs and a random honest
transfer's .wtns; ours proves that witness with the .zkey (`proof prove --json` reports the
proving time alone, after the key is read and checked); arkworks (groth16py) runs its own setup
on the same .r1cs and proves the same .wtns (`prove_wtns`). Both get every core of the machine
and a full witness, so neither computes one. Prints one JSON object with medians and the ratio.
Needs groth16py (pip install groth16py==0.2.0).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import groth16py


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--zkey", required=True)
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--iterations", type=int, default=5)
    args = ap.parse_args()
    admin = os.path.join(args.bin, "zksettle-admin")
    with tempfile.TemporaryDirectory(prefix="zksettle-zkey-bench-") as tmp:
        r1cs, wtns, pub = (os.path.join(tmp, n) for n in ("transfer.r1cs", "transfer.wtns", "public.json"))
        subprocess.run([admin, "circuit", "export", "--r1cs", r1cs, "--witness", wtns, "--public", pub], check=True,
                       capture_output=True)
        ours = []
        for i in range(args.iterations):
            out = subprocess.run([admin, "proof", "prove", "--zkey", args.zkey, "--witness", wtns, "--json",
                                  "--proof", os.path.join(tmp, "proof.json"), "--public", os.path.join(tmp, "out.json")],
                                 check=True, capture_output=True, text=True)
            ours.append(json.loads(out.stdout)["seconds"] * 1000)
        if json.load(open(os.path.join(tmp, "out.json"))) != json.load(open(pub)):
            raise SystemExit("our proof's public inputs are not the witness's")
        pk, _ = groth16py.setup(r1cs)
        theirs = []
        for i in range(args.iterations):
            t0 = time.perf_counter()
            groth16py.prove_wtns(pk, wtns)
            theirs.append((time.perf_counter() - t0) * 1000)
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({"benchmark": "prove from a .zkey, full witness given", "cores": os.cpu_count(),
                      "iterations": args.iterations, "zksettle_proof_prove_ms": round(ours_ms, 1),
                      "arkworks_prove_wtns_ms": round(theirs_ms, 1), "ratio": round(ours_ms / theirs_ms, 2)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
