#!/usr/bin/env python3
"""Hostile clients: thousands of idle connections, slow headers, slow bodies, oversized bodies.

Usage:
    python3 scripts/hostile_clients.py [--bin .build/release] [--idle 3000] [--slow 100] [--timeout 10]

Starts zksettle-server on a fresh data directory with short limits (--idle-timeout and
--body-timeout of TIMEOUT seconds, so the run takes seconds), then at once holds:
  - IDLE connections that connect and never send a byte;
  - SLOW connections that send a request's headers one byte every 0.2 s (never finishing);
  - SLOW connections that send whole headers for a 60,000-byte body, then one body byte every 0.2 s;
  - oversized bodies: a Content-Length past 64 KiB, and a chunked body that never stops.
While they are open, honest clients must be served: /healthz answers quickly and real transfers
settle. Afterwards the server must have closed every idle and slow connection itself (within
the timeout and a margin), be healthy, hold no more file descriptors than before the attack
(plus a small margin), and `zksettle-admin db verify` must accept the ledger.
Prints one JSON summary; exits 1 if any check fails. Python standard library only.
"""

import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time

from zksettle_harness import arguments, Server, finish, corpus_for, process_sample, request


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    return s


def closed_by_peer(s):
    """True if the server has closed this (non-blocking) connection: EOF or reset."""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    ap = arguments(__doc__)
    ap.add_argument("--idle", type=int, default=3000)
    ap.add_argument("--slow", type=int, default=100, help="slow-header and slow-body connections, each")
    ap.add_argument("--timeout", type=int, default=10, help="the server's --idle-timeout and --body-timeout")
    ap.add_argument("--transfers", type=int, default=8)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle + 2 * args.slow + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    idle_count = min(args.idle, soft - 2 * args.slow - 256)

    work = tempfile.mkdtemp(prefix="zksettle-hostile-")
    server = Server(args.bin, os.path.join(work, "data"), cache=args.cache,
                    extra_args=["--idle-timeout", str(args.timeout), "--body-timeout", str(args.timeout)])
    server.start()
    failures = []
    try:
        bodies = corpus_for(server, args.transfers, cache=args.cache)
        time.sleep(args.timeout + 1)  # the corpus step's own connections are closed by now
        rss0, fds0 = process_sample(server.pid)

        # The attack, all at once.
        t0 = time.time()
        idle = [connect(server.port) for _ in range(idle_count)]
        head = (b"POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"X-Deposit-Voucher: zkv1x\r\nContent-Length: 60000\r\n\r\n")
        slow_headers = [(connect(server.port), head) for _ in range(args.slow)]
        slow_bodies = []
        for _ in range(args.slow):
            s = connect(server.port)
            s.setblocking(True)
            s.sendall(head)
            s.setblocking(False)
            slow_bodies.append((s, b"{" * 60000))
        opened = time.time() - t0
        stop = threading.Event()

        def trickle():
            sent = 0
            while not stop.is_set():
                for s, data in slow_headers + slow_bodies:
                    try:
                        s.send(data[sent % len(data):sent % len(data) + 1])
                    except OSError:
                        pass
                sent += 1
                stop.wait(0.2)

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        peak_rss, peak_fds = process_sample(server.pid)

        # Oversized bodies are refused at once, whatever the framing.
        big_status, _ = server.post_transfer(b"{" * 70000)
        if big_status != 413:
            failures.append(f"a 70,000-byte body got {big_status}, not 413")
        chunked = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        chunked.sendall(b"POST /v1/transfers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunked_status = None
        try:
            for _ in range(200):
                chunked.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
            chunked_status = chunked.recv(4096).split(b" ")[1].decode()
        except (OSError, IndexError):
            chunked_status = "closed"
        chunked.close()
        if chunked_status not in ("413", "closed"):
            failures.append(f"an endless chunked body got {chunked_status}, not 413")

        # Honest clients meanwhile.
        latencies = []
        for _ in range(50):
            a = time.time()
            status, _ = request(server.port, "GET", "/healthz", timeout=10)
            latencies.append((time.time() - a) * 1000)
            if status != 200:
                failures.append(f"/healthz answered {status} under attack")
                break
        latencies.sort()
        settled = 0
        settle_ms = []
        for body in bodies:
            a = time.time()
            status, raw = server.post_transfer(body, timeout=30)
            settle_ms.append((time.time() - a) * 1000)
            if status == 200 and json.loads(raw).get("status") == "settled":
                settled += 1
        if settled != len(bodies):
            failures.append(f"{settled} of {len(bodies)} honest transfers settled under attack")
        if latencies[-1] > 1000:
            failures.append(f"/healthz took {latencies[-1]:.0f} ms under attack")

        # The server must shed every idle and slow connection by itself, within its timeout
        # (and 10 s of slack) of the connection's opening. Counted from the last one opened:
        # opening 3,200 connections takes 6–10 s here (the accept backlog overflows and
        # clients retry their SYNs), and a deadline counted from the first one failed a run
        # whose slow connections were shed 10 s after they opened, as they should be.
        last_opened = t0 + opened
        deadline = last_opened + args.timeout + 10
        pending = idle + [s for s, _ in slow_headers + slow_bodies]
        while pending and time.time() < deadline:
            pending = [s for s in pending if not closed_by_peer(s)]
            time.sleep(0.2)
        shed_seconds = time.time() - last_opened
        stop.set()
        trickler.join()
        left_idle = sum(1 for s in idle if s in pending)
        left_slow = len(pending) - left_idle
        if pending:
            failures.append(f"{left_idle} idle and {left_slow} slow connections still open {shed_seconds:.0f} s after the last one opened")
        for s in idle + [s for s, _ in slow_headers + slow_bodies]:
            s.close()
        time.sleep(0.5)
        rss1, fds1 = process_sample(server.pid)
        if fds1 > fds0 + 16:
            failures.append(f"the server holds {fds1} file descriptors after the attack, {fds0} before")
        status, _ = request(server.port, "GET", "/healthz")
        if status != 200:
            failures.append(f"/healthz answered {status} after the attack")
    finally:
        server.stop()
    verify_ok, verdict = server.check_ledger(failures, proofs=False)

    summary = {
        "idle_connections": idle_count, "slow_header_connections": args.slow, "slow_body_connections": args.slow,
        "server_timeouts_s": args.timeout, "seconds_to_open": round(opened, 2),
        "oversized_body": big_status, "endless_chunked_body": chunked_status,
        "healthz_ms_p50": round(latencies[len(latencies) // 2], 1), "healthz_ms_max": round(latencies[-1], 1),
        "honest_transfers": len(bodies), "honest_settled": settled, "settle_ms_max": round(max(settle_ms), 1),
        "all_shed_after_s": round(shed_seconds, 1), "still_open": len(pending),
        "server_fds_before": fds0, "server_fds_peak": peak_fds, "server_fds_after": fds1,
        "server_rss_mib_before": round(rss0 / 1024, 1), "server_rss_mib_peak": round(peak_rss / 1024, 1),
        "server_rss_mib_after": round(rss1 / 1024, 1), "db_verify_ok": verify_ok, "failures": failures,
    }
    return finish(summary, not failures, work)


if __name__ == "__main__":
    sys.exit(main())
