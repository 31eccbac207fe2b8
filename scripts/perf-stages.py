#!/usr/bin/env python3
"""Server CPU per settled transfer, split by stage, from a perf recording of the server.

Usage:
    ZKSETTLE_LOAD_PERF=/tmp/server.perf scripts/load.sh 2000 64
    python3 scripts/perf-stages.py /tmp/server.perf MS [--unclassified]

MS is the server's CPU per transfer for the same run (server_cpu_seconds / transfers, in ms);
each stage gets its share of the samples times MS. A sample belongs to the first stage (in the
order below) that names any frame of its call chain, so verification called from an HTTP
handler counts as verification. GMP's assembly has no unwind tables: a sample inside it often
keeps no caller, and lands in the "caller lost" stage, which is nearly all verification.
"""
import collections
import re
import subprocess
import sys

STAGES = [
    ("verification (batch verify)",
     [r"Groth16AAO10batchCheck", r"Groth16AAO11batchVerify", r"VerifierPool"]),
    ("request decoding (JSON, points, subgroup checks, voucher signature)",
     [r"TransferBodyO6decode", r"VoucherOrderV6decode"]),
    ("vouchers issued for the load's deposits (admin endpoint, Ed25519 signing)",
     [r"AdminControllerV12issueVoucher"]),
    ("sequencer (nullifier checks, Poseidon tree appends, signed receipts)",
     [r"SequencerStateV5apply"]),
    ("ledger commit (SQLite)", [r"sqlite3", r"SQLiteLedger"]),
    ("answers (JSON writing)", [r"SettlementAnswerV6encode", r"JSONWriter"]),
    ("HTTP server (NIO, Hummingbird, llhttp)", [r"NIO", r"Hummingbird", r"llhttp"]),
    ("field and curve arithmetic whose caller the unwinder lost (nearly all verification)",
     [r"gmpn", r"s5BN254"]),
]
KERNEL = "kernel (syscalls, scheduling) elsewhere"
OTHER = "other (runtime, allocation, unattributed)"
PATTERNS = [(name, [re.compile(p) for p in pats]) for name, pats in STAGES]


def classify(frames):
    for name, pats in PATTERNS:
        if any(p.search(f) for f in frames for p in pats):
            return name
    if frames and "[kernel" in frames[0]:
        return KERNEL
    return OTHER


def samples(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso", "--no-inline"],
                         check=True, capture_output=True, text=True).stdout
    for block in out.split("\n\n"):
        lines = [l.strip() for l in block.strip().split("\n") if l.strip()]
        if lines:
            yield [(l.split(None, 1)[1] if len(l.split(None, 1)) > 1 else "") for l in lines]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, ms = sys.argv[1], float(sys.argv[2])
    counts = collections.Counter()
    leaves = collections.Counter()
    for frames in samples(path):
        stage = classify(frames)
        counts[stage] += 1
        if stage == OTHER:
            leaves[frames[0][:80]] += 1
    total = sum(counts.values())
    if total == 0:
        sys.exit(f"no samples in {path}")
    print("| stage | share | ms per transfer |")
    print("|---|---:|---:|")
    for stage, n in counts.most_common():
        print(f"| {stage} | {100 * n / total:.1f} % | {ms * n / total:.3f} |")
    print(f"\n{total} samples")
    if "--unclassified" in sys.argv:
        for leaf, n in leaves.most_common(25):
            print(n, leaf)


if __name__ == "__main__":
    main()
