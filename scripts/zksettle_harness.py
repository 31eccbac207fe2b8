"""Shared by the fault scripts (crash_test.py, double_spend_storm.py, soak.py,
hostile_clients.py): a zksettle-server child process, HTTP calls to it, and the proved corpus
from `zksettle-bench load --prepare-only`. Standard library only.

Proving is the slow part (about half a second a transfer), so the scripts share one cache
(`--cache`, default .build/fault-cache): the development keys of the first server are copied
into every later fresh data directory, every fresh ledger with those keys has the same empty
root, and so a corpus proved once for that root serves every script and every run."""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import signal
import subprocess
import sys
import threading
import time

DEFAULT_CACHE = os.path.join(".build", "fault-cache")


def arguments(doc):
    """An argument parser for a fault script: its docstring's first line, and the options every
    fault script takes (--bin, --cache)."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="development keys and proved corpus shared by the fault scripts")
    return ap


def request(port, method, path, body=None, headers=None, timeout=120):
    """One HTTP/1.1 exchange with 127.0.0.1:port; returns (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def free_port(rng=random):
    """A TCP port on 127.0.0.1 that nothing holds now, below the kernel's ephemeral range: the
    fault scripts open thousands of client connections, whose local ports come from that range,
    and a server port drawn from it could already be some connection's (EADDRINUSE on start)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = max(10001, min(low, 65536)) - 1
    for _ in range(100):
        port = rng.randrange(10000, top)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free TCP port found below the ephemeral range")


def error_code(status, body):
    """The API's error code of an answer, or http_<status> when it has none."""
    try:
        return json.loads(body).get("error", {}).get("code") or f"http_{status}"
    except (ValueError, AttributeError):
        return f"http_{status}"


# Error codes that say nothing was written and the same post may come again.
RETRY_CODES = ("overloaded", "unavailable", "internal", "storage_failure")


def post_until_answered(post, aborted, retry_statuses=()):
    """Calls `post()` (returning (status, body)) until a definite answer, as a wallet would:
    again after a connection error, a status in `retry_statuses` (a load balancer's 502-504),
    or a RETRY_CODES error. Returns (status, body, attempts); status None if `aborted` was set."""
    attempts = 0
    while not aborted.is_set():
        attempts += 1
        try:
            status, body = post()
        except OSError:
            time.sleep(0.05)
            continue
        if status != 200 and (status in retry_statuses or error_code(status, body) in RETRY_CODES):
            time.sleep(0.05)
            continue
        return status, body, attempts
    return None, None, attempts


class Server:
    """zksettle-server on `data` (made fresh by the caller) and a free-looking port, with the
    cached development keys when there are any. `start(env=...)` adds environment variables
    for one life of the process (the crash test's fault injection)."""

    def __init__(self, bindir, data, port=None, admin_token="fault-admin", cache=DEFAULT_CACHE, extra_args=(), database=None):
        self.bindir, self.data = bindir, data
        # A PostgreSQL ledger shared with other nodes (issue 16), or None for the SQLite file.
        self.database = database
        if database:
            extra_args = list(extra_args) + ["--database", database]
        self.port = port or free_port()
        self.admin_token = admin_token
        # Deposit vouchers by request body: one per corpus deposit, issued once by the server
        # (its deposit key stays in the data directory across restarts) and kept for reposts.
        self.vouchers = {}
        self.extra_args = list(extra_args)
        self.keys_cache = os.path.join(cache, "keys") if cache else None
        self.proc = None
        self.lock = threading.Lock()
        os.makedirs(data, exist_ok=True)
        self.log = open(os.path.join(data, "..", "server.log"), "ab")
        if self.keys_cache and os.path.exists(os.path.join(self.keys_cache, "transfer.zkspk")) \
                and not os.path.exists(os.path.join(data, "keys")):
            shutil.copytree(self.keys_cache, os.path.join(data, "keys"))

    def start(self, timeout=180, env=None, may_die=False):
        """Starts the server and waits until /healthz answers. With `may_die` (a life that is
        to SIGKILL itself at a commit), dying by SIGKILL before that is not an error: clients
        may have got a batch committed before /healthz was asked; returns False then."""
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "zksettle-server"), "--data", self.data, "--host", "127.0.0.1",
             "--port", str(self.port), "--admin-token", self.admin_token,
             "--log-level", "warning"] + self.extra_args,
            stdout=self.log, stderr=self.log, env=dict(os.environ, **(env or {})))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if may_die and self.proc.returncode == -signal.SIGKILL:
                    return False
                raise RuntimeError(f"zksettle-server exited with {self.proc.returncode} on start; see {self.log.name}")
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError(f"zksettle-server did not come up; see {self.log.name}")
        if self.keys_cache and not os.path.exists(os.path.join(self.keys_cache, "transfer.zkspk")):
            shutil.copytree(os.path.join(self.data, "keys"), self.keys_cache, dirs_exist_ok=True)
        return True

    @property
    def pid(self):
        return self.proc.pid

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)

    def get_json(self, path, admin=False):
        headers = {"Authorization": f"Bearer {self.admin_token}"} if admin else {}
        status, body = request(self.port, "GET", path, headers=headers)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: {body[:200]!r}")
        return json.loads(body)

    def issue_voucher(self, amount, expires_in=86400):
        """A deposit voucher for `amount` from the admin route (`zkv1…`)."""
        status, raw = request(self.port, "POST", "/v1/admin/vouchers",
                              json.dumps({"amount": amount, "expires_in": expires_in}).encode(),
                              {"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"POST /v1/admin/vouchers answered {status}: {raw[:200]!r}")
        return json.loads(raw)["voucher"]

    def voucher_for(self, body):
        """The voucher of a deposit body (issued on first use and kept), or None for a body
        that deposits nothing or does not parse."""
        if body not in self.vouchers:
            try:
                amount = int(json.loads(body)["ext_data"]["ext_amount"])
            except (ValueError, KeyError, TypeError, AttributeError):
                return None
            self.vouchers[body] = self.issue_voucher(amount) if amount > 0 else None
        return self.vouchers[body]

    def deposit_headers(self, body):
        """Request headers for posting `body`: JSON, and its voucher when it is a deposit."""
        headers = {"Content-Type": "application/json"}
        voucher = self.voucher_for(body)
        if voucher:
            headers["X-Deposit-Voucher"] = voucher
        return headers

    def post_transfer(self, body, timeout=120):
        return request(self.port, "POST", "/v1/transfers", body, self.deposit_headers(body), timeout=timeout)

    def db_verify(self, proofs=True):
        """`zksettle-admin db verify` on the data directory: (ok, verdict JSON)."""
        cmd = [os.path.join(self.bindir, "zksettle-admin"), "db", "verify", "--json", "--data", self.data]
        if self.database:
            cmd += ["--database", self.database]
        if proofs:
            cmd.insert(3, "--proofs")
        run = subprocess.run(cmd, capture_output=True, text=True)
        verdict = json.loads(run.stdout) if run.stdout.strip() else {"ok": False, "error": run.stderr}
        return run.returncode == 0, verdict

    def check_ledger(self, failures, proofs=True):
        """`db_verify`, with a refusal added to `failures` (naming the faults): (ok, verdict)."""
        ok, verdict = self.db_verify(proofs=proofs)
        if not ok:
            failures.append(f"db verify: {verdict.get('faults', verdict.get('error'))}")
        return ok, verdict


def prepare_corpus(bindir, port, count, corpus_dir, conflicts=1, amount=None):
    """Request bodies of `count` distinct proved deposits for the server's current root
    (runs of `conflicts` share their inputs; `amount`: all of that amount), one per list item."""
    prep = subprocess.run([os.path.join(bindir, "zksettle-bench"), "load", "--server", f"http://127.0.0.1:{port}",
                           "--transfers", str(count), "--conflicts", str(conflicts),
                           "--corpus", corpus_dir, "--prepare-only"] + (["--amount", str(amount)] if amount else []),
                          capture_output=True, text=True)
    if prep.returncode != 0:
        raise SystemExit(f"corpus: {prep.stderr}")
    with open(json.loads(prep.stdout)["file"], "rb") as f:
        return f.read().splitlines()[:count]


def corpus_for(server, count, cache=DEFAULT_CACHE, conflicts=1, amount=None):
    """The cached corpus for `server`'s keys and current (fresh) root, proved where missing,
    with a voucher issued for each deposit (kept in `server.vouchers`)."""
    bodies = prepare_corpus(server.bindir, server.port, count, os.path.join(cache, "corpus"),
                            conflicts=conflicts, amount=amount)
    for body in bodies:
        server.voucher_for(body)
    return bodies


def process_sample(pid):
    """(resident set in KiB, open file descriptors) of a live process, from /proc."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def finish(summary, ok, work):
    """Prints the JSON summary; removes the work directory after a pass, keeps it after a
    failure (and says where). Returns the exit status."""
    print(json.dumps(summary, indent=1))
    if not ok:
        print(f"kept {work} for inspection", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0
