"""Shared by the fault scripts (crash_test.py, double_spend_storm.py): HTTP calls to a running
zksettle-server and the proved corpus from `zksettle-bench load --prepare-only`. Standard
library only."""

import http.client
import json
import os
import subprocess


def request(port, method, path, body=None, headers=None, timeout=120):
    """One HTTP/1.1 exchange with 127.0.0.1:port; returns (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def prepare_corpus(bindir, port, count, corpus_dir, deposit_token, conflicts=1):
    """Request bodies of `count` distinct proved transfers for the server's current root
    (runs of `conflicts` share their inputs), one per list item."""
    prep = subprocess.run([os.path.join(bindir, "zksettle-bench"), "load", "--server", f"http://127.0.0.1:{port}",
                           "--transfers", str(count), "--conflicts", str(conflicts), "--deposit-token", deposit_token,
                           "--corpus", corpus_dir, "--prepare-only"], capture_output=True, text=True)
    if prep.returncode != 0:
        raise SystemExit(f"corpus: {prep.stderr}")
    with open(json.loads(prep.stdout)["file"], "rb") as f:
        return f.read().splitlines()[:count]
