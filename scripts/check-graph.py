#!/usr/bin/env python3
"""The manifest is the map: check the target graph against the design's rules.

    python3 scripts/check-graph.py            # reads `swift package describe --type json`
    python3 scripts/check-graph.py --json F   # or a saved description (for tests of this script)

Fails (exit 1, one line per problem) on
  - an arrow the design forbids (the rules below, over the transitive closure of the graph);
  - a C module (CGMP, COpenSSL, CSQLite) imported, or depended on, outside its one owner;
  - a README drawing that is not the manifest's graph: every non-test target is drawn, with
    exactly its direct dependencies, and nothing else is drawn.
The rules are docs/DESIGN.md's "target graph" in executable form; change both together.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Who may import each C module (the module's one owner).
C_OWNERS = {"CGMP": "BN254", "COpenSSL": "Primitives", "CSQLite": "SQLite"}

PROVER_SIDE = {"Groth16Prover", "R1CS", "Circuits"}
SERVER_SIDE = {"Settlement", "SettlementHTTP", "Ledger", "SQLiteLedger", "PostgresLedger"}

# (target, forbidden targets, targets whose arrows are not followed, why)
RULES = [
    *[(t, PROVER_SIDE | {"DevelopmentKeys"}, set(), "the server's libraries need the verifier, never the prover or the circuits")
      for t in sorted(SERVER_SIDE)],
    ("zksettle-server", PROVER_SIDE, {"DevelopmentKeys"}, "the server reaches the prover only through DevelopmentKeys (first-start keys)"),
    ("Wallet", SERVER_SIDE | {"DevelopmentKeys"}, set(), "the wallet talks to a server over HTTP; it never links the server's engine"),
    ("SettlementClient", SERVER_SIDE | PROVER_SIDE | {"Wallet"}, set(), "the HTTP client knows the wire, nothing behind it"),
    ("zksettle-admin", {"Wallet", "Settlement", "SettlementHTTP"}, set(), "the operator's tool reads the ledger or calls the API; it is neither a wallet nor a server"),
    ("zkwallet", SERVER_SIDE | {"DevelopmentKeys"}, set(), "the peer's CLI is a wallet"),
    ("FuzzTargets", SERVER_SIDE | PROVER_SIDE | {"Wallet", "SettlementClient"}, set(), "fuzz targets are the network-facing decoders alone"),
    ("Protocol", SERVER_SIDE | PROVER_SIDE | {"SettlementClient", "Wallet"}, set(), "the protocol is below both sides"),
    ("Circuits", {"Groth16Prover"}, set(), "the circuits (frontend) stand on the R1CS type, not on a backend"),
    ("R1CS", {"Groth16Prover", "Groth16", "Protocol"}, set(), "the constraint representation sits below the builder and the backend"),
    ("Groth16Prover", {"Protocol", "Circuits"}, set(), "the prover knows R1CS, not the protocol or a circuit"),
    ("Groth16", {"Protocol", "Groth16Prover", "R1CS"}, set(), "the verifier is below the protocol"),
    ("Primitives", {"Groth16", "Protocol"}, set(), "primitives are below everything but the algebra"),
    ("BN254", {"Primitives", "Groth16", "Protocol"}, set(), "the algebra is the floor"),
]

GRAPH_BEGIN, GRAPH_END = "<!-- target-graph -->", "<!-- /target-graph -->"


def describe(path):
    if path:
        with open(path) as f:
            return json.load(f)
    out = subprocess.run(["swift", "package", "describe", "--type", "json"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def closure(graph, start, skip):
    seen, stack = set(), [d for d in graph.get(start, []) if d not in skip]
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        stack.extend(d for d in graph.get(t, []) if d not in skip)
    return seen


def path_to(graph, start, goal, skip):
    """One chain of arrows start → … → goal, for the message."""
    prev, queue = {start: None}, [start]
    while queue:
        t = queue.pop(0)
        for d in graph.get(t, []):
            if d in skip or d in prev:
                continue
            prev[d] = t
            if d == goal:
                chain = [d]
                while prev[chain[-1]] is not None:
                    chain.append(prev[chain[-1]])
                return " → ".join(reversed(chain))
            queue.append(d)
    return f"{start} → … → {goal}"


def readme_graph(text):
    if GRAPH_BEGIN not in text or GRAPH_END not in text:
        return None
    block = text[text.index(GRAPH_BEGIN) + len(GRAPH_BEGIN):text.index(GRAPH_END)]
    drawn = {}
    for line in block.splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_-]+)\s+→\s*(.*?)\s*(?:#.*)?$", line)
        if m:
            deps = [d.strip() for d in m.group(2).split(",") if d.strip() and d.strip() != "—"]
            drawn[m.group(1)] = set(deps)
    return drawn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", help="a saved `swift package describe --type json`")
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    args = ap.parse_args()
    desc = describe(args.json)
    targets = {t["name"]: t for t in desc["targets"]}
    graph = {n: list(t.get("target_dependencies", [])) for n, t in targets.items()}
    problems = []

    for target, forbidden, skip, why in RULES:
        if target not in graph:
            problems.append(f"rule for {target}: no such target (update scripts/check-graph.py and docs/DESIGN.md)")
            continue
        for bad in sorted(closure(graph, target, skip) & forbidden):
            problems.append(f"forbidden arrow: {path_to(graph, target, bad, skip)} ({why})")

    for name, t in targets.items():
        for c, owner in C_OWNERS.items():
            if c in graph[name] and name != owner:
                problems.append(f"{name} depends on {c}; only {owner} may (use {owner}'s Swift API)")
        if t["type"] == "system-target":
            continue
        for src in t.get("sources", []):
            path = os.path.join(t["path"], src)
            with open(path, encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    m = re.match(r"^\s*(?:@\w+\s+)*(?:\w+\s+)?import\s+(CGMP|COpenSSL|CSQLite)\b", line)
                    if m and name != C_OWNERS[m.group(1)]:
                        rel = os.path.relpath(path, ROOT)
                        problems.append(f"{rel}:{i}: imports {m.group(1)}; only {C_OWNERS[m.group(1)]} may")

    with open(args.readme, encoding="utf-8") as f:
        drawn = readme_graph(f.read())
    if drawn is None:
        problems.append(f"README.md has no target graph between {GRAPH_BEGIN} and {GRAPH_END}")
    else:
        shown = {n for n, t in targets.items() if t["type"] != "test" and n != "TestSupport"}
        for n in sorted(shown - set(drawn)):
            problems.append(f"README.md's graph does not show the target {n} (→ {', '.join(sorted(graph[n])) or '—'})")
        for n in sorted(set(drawn) - shown):
            problems.append(f"README.md's graph shows {n}, which is not a target of the manifest")
        for n in sorted(shown & set(drawn)):
            if drawn[n] != set(graph[n]):
                missing, extra = set(graph[n]) - drawn[n], drawn[n] - set(graph[n])
                problems.append(f"README.md draws {n} → {', '.join(sorted(drawn[n]))}; the manifest says "
                                f"{', '.join(sorted(graph[n]))} (missing: {', '.join(sorted(missing)) or '—'}; "
                                f"extra: {', '.join(sorted(extra)) or '—'})")

    if problems:
        for p in problems:
            print(f"check-graph: {p}", file=sys.stderr)
        print(f"check-graph: {len(problems)} problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"check-graph: {len(targets)} targets, {sum(len(v) for v in graph.values())} arrows, "
          f"{len(RULES)} rules, C modules with one owner each, README graph matches: ok")


if __name__ == "__main__":
    main()
