#!/usr/bin/env python3
"""Groth16 interoperability between ZKSettle and groth16py (arkworks), in both directions.

Usage:
    python scripts/interop_groth16py.py [--bin DIR]

DIR holds the release binaries (default .build/release). Needs groth16py (pip install groth16py).

1. groth16py proves our circuit:
   `zksettle-admin circuit export` writes the transfer circuit as iden3 `.r1cs` and the witness
   of a random honest transfer as `.wtns`; groth16py runs its own setup on that `.r1cs` and
   `prove_wtns` on that witness; our verifier (`zksettle-admin proof verify`) must accept the
   proof with groth16py's verification_key.json, and refuse it for a changed public input.
2. groth16py verifies our proof:
   `zksettle-bench prove --save` proves a random transfer with our prover and our development
   keys; groth16py's `verify_snarkjs` must accept that proof with our verification_key.json,
   and refuse it for a changed public input.
3. groth16py verifies our proof from a snarkjs key:
   `zksettle-admin proof prove` proves circom-compat's multiplier with its snarkjs `.zkey`
   (Tests/Vectors/ceremony) and witness; groth16py's `verify_snarkjs` must accept the proof with
   the verification_key.json published beside that key, and refuse it for a changed output.

Prints one JSON summary; exit status 0 only if every check holds.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import groth16py

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def run(cmd, expect=None):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if expect is not None and p.returncode != expect:
        sys.stderr.write(f"$ {' '.join(cmd)}\nexit {p.returncode}, expected {expect}\n{p.stdout}{p.stderr}")
    return p


def sections(data, magic):
    """Index an iden3 binary file: magic, u32 version, u32 count, then (u32 type, u64 size, bytes)."""
    if data[:4] != magic:
        raise SystemExit(f"not a {magic.decode()} file")
    _, count = struct.unpack_from("<II", data, 4)
    pos, out = 12, {}
    for _ in range(count):
        kind, size = struct.unpack_from("<IQ", data, pos)
        out[kind] = (pos + 12, size)
        pos += 12 + size
    return out


def wtns_values(path):
    data = open(path, "rb").read()
    secs = sections(data, b"wtns")
    pos = secs[1][0]
    n8, = struct.unpack_from("<I", data, pos)
    if n8 != 32 or int.from_bytes(data[pos + 4: pos + 36], "little") != R:
        raise SystemExit("witness is not over the BN254 scalar field")
    n, = struct.unpack_from("<I", data, pos + 36)
    start, size = secs[2]
    if size != 32 * n:
        raise SystemExit("witness section size does not match its count")
    return [int.from_bytes(data[start + 32 * i: start + 32 * i + 32], "little") for i in range(n)]


def snarkjs_proof(blob):
    """groth16py's Ethereum `bytes` proof (A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y,
    big-endian words; EIP-197 puts the imaginary part first) as snarkjs proof.json ([c0, c1])."""
    if len(blob) != 256:
        raise SystemExit(f"unexpected proof blob of {len(blob)} bytes")
    w = [str(int.from_bytes(blob[32 * i: 32 * i + 32], "big")) for i in range(8)]
    return {"pi_a": [w[0], w[1], "1"], "pi_b": [[w[3], w[2]], [w[5], w[4]], ["1", "0"]],
            "pi_c": [w[6], w[7], "1"], "protocol": "groth16", "curve": "bn128"}


def changed(public, i):
    return public[:i] + [str((int(public[i]) + 1) % R)] + public[i + 1:]


def theirs_proves_ours_verifies(bindir, tmp, checks, timings):
    r1cs, wtns, pub = (os.path.join(tmp, n) for n in ("transfer.r1cs", "transfer.wtns", "exported_public.json"))
    run([os.path.join(bindir, "zksettle-admin"), "circuit", "export", "--r1cs", r1cs, "--witness", wtns, "--public", pub], expect=0)
    public = json.load(open(pub))
    values = wtns_values(wtns)
    checks["exported public.json = witness values 1..7"] = [str(v) for v in values[1:8]] == public

    t0 = time.perf_counter()
    pk, vk = groth16py.setup(r1cs)
    t1 = time.perf_counter()
    blob = groth16py.prove_wtns(pk, wtns)
    t2 = time.perf_counter()
    timings["groth16py_setup_s"], timings["groth16py_prove_s"] = round(t1 - t0, 3), round(t2 - t1, 3)
    checks["groth16py accepts its own proof"] = groth16py.Verifier(vk).verify(blob, [int(x) for x in public]) is True

    d = os.path.join(tmp, "theirs")
    os.makedirs(d)
    files = {n: os.path.join(d, n) for n in ("verification_key.json", "proof.json", "public.json", "changed.json")}
    open(files["verification_key.json"], "w").write(vk.to_json())
    json.dump(snarkjs_proof(blob), open(files["proof.json"], "w"))
    json.dump(public, open(files["public.json"], "w"))
    json.dump(changed(public, 6), open(files["changed.json"], "w"))
    verify = [os.path.join(bindir, "zksettle-admin"), "proof", "verify", "--vk", files["verification_key.json"],
              "--proof", files["proof.json"], "--json", "--public"]
    ok = run(verify + [files["public.json"]], expect=0)
    checks["our verifier accepts groth16py's proof"] = ok.returncode == 0 and json.loads(ok.stdout)["valid"] is True
    bad = run(verify + [files["changed.json"]], expect=1)
    checks["our verifier refuses it for a changed public input"] = bad.returncode == 1 and json.loads(bad.stdout)["valid"] is False


def ours_proves_theirs_verifies(bindir, tmp, checks, timings):
    d = os.path.join(tmp, "ours")
    t0 = time.perf_counter()
    run([os.path.join(bindir, "zksettle-bench"), "prove", "--iterations", "1", "--save", d], expect=0)
    timings["zksettle_setup_and_prove_s"] = round(time.perf_counter() - t0, 3)
    vk = groth16py.VerifyingKey.from_snarkjs_file(os.path.join(d, "verification_key.json"))
    proof = open(os.path.join(d, "proof.json")).read()
    public = json.load(open(os.path.join(d, "public.json")))
    verifier = groth16py.Verifier(vk)
    checks["groth16py accepts our proof with our verification_key.json"] = verifier.verify_snarkjs(proof, json.dumps(public)) is True
    checks["groth16py refuses it for a changed public input"] = all(
        verifier.verify_snarkjs(proof, json.dumps(changed(public, i))) is False for i in range(len(public)))


def ours_proves_a_snarkjs_key_theirs_verifies(bindir, tmp, checks, timings):
    vectors = os.path.join(os.environ.get("ZKSETTLE_VECTORS", "Tests/Vectors"), "ceremony")
    d = os.path.join(tmp, "zkey")
    os.makedirs(d)
    proof, public = os.path.join(d, "proof.json"), os.path.join(d, "public.json")
    t0 = time.perf_counter()
    run([os.path.join(bindir, "zksettle-admin"), "proof", "prove", "--zkey", os.path.join(vectors, "multiplier.zkey"),
         "--witness", os.path.join(vectors, "multiplier-witness.json"), "--proof", proof, "--public", public], expect=0)
    timings["zksettle_prove_zkey_s"] = round(time.perf_counter() - t0, 3)
    vk = groth16py.VerifyingKey.from_snarkjs_file(os.path.join(vectors, "multiplier-verification_key.json"))
    verifier = groth16py.Verifier(vk)
    values = json.load(open(public))
    checks["our proof from multiplier.zkey has public output 33"] = values == ["33"]
    checks["groth16py accepts our proof from a snarkjs .zkey"] = verifier.verify_snarkjs(open(proof).read(), json.dumps(values)) is True
    checks["groth16py refuses it for a changed output"] = verifier.verify_snarkjs(open(proof).read(), json.dumps(changed(values, 0))) is False


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--bin", default=".build/release", help="directory with zksettle-admin and zksettle-bench")
    args = ap.parse_args()
    for tool in ("zksettle-admin", "zksettle-bench"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            raise SystemExit(f"{tool} not found in {args.bin}: run `swift build -c release` first")
    checks, timings = {}, {}
    with tempfile.TemporaryDirectory(prefix="zksettle-interop-") as tmp:
        theirs_proves_ours_verifies(args.bin, tmp, checks, timings)
        ours_proves_theirs_verifies(args.bin, tmp, checks, timings)
        ours_proves_a_snarkjs_key_theirs_verifies(args.bin, tmp, checks, timings)
    ok = all(checks.values())
    print(json.dumps({"groth16py": groth16py.__version__, "ok": ok, "checks": checks, **timings}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
