#!/usr/bin/env python3
"""A proxy in front of zksettle-server that loses transfers, for tests of what a wallet does
when it does not hear how its transfer ended.

    lossy_proxy.py UPSTREAM_URL MODE      (prints "port N" once it listens on 127.0.0.1)

Every request is passed to UPSTREAM_URL and its answer passed back, except POST /v1/transfers:
  drop  the request never reaches the server: the connection is closed without an answer
  lose  the request reaches the server (which settles it), but its answer is not passed back:
        the connection is closed instead
  stall the request never reaches the server, and no answer ever comes (a stalled server)
  forge as lose, and every GET /v1/transfers/{id} answer has its receipt's signature altered
        (a server lying that a transfer settled)
"""
import http.client
import json
import signal
import socket
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("drop", "lose", "stall", "forge"):
        sys.exit(__doc__)
    # A parent may have blocked these (a test runner's thread); a proxy must stop when told.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    upstream = urllib.parse.urlsplit(sys.argv[1])
    mode = sys.argv[2]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if method == "POST" and self.path.split("?")[0] == "/v1/transfers":
                if mode == "stall":
                    time.sleep(3600)
                if mode in ("lose", "forge"):
                    self.relay(method, body)  # settles upstream; the answer is dropped
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, headers, answer = self.relay(method, body)
            if mode == "forge" and method == "GET" and self.path.startswith("/v1/transfers/") and status == 200:
                doc = json.loads(answer)
                if "receipt" in doc:
                    sig = doc["receipt"]["signature"]
                    doc["receipt"]["signature"] = ("1" if sig[0] == "0" else "0") + sig[1:]
                    answer = json.dumps(doc).encode()
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def relay(self, method, body):
            c = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
            c.request(method, self.path, body=body, headers=headers)
            r = c.getresponse()
            answer = r.read()
            c.close()
            return r.status, r.getheaders(), answer

        def do_GET(self):
            self.forward("GET")

        def do_POST(self):
            self.forward("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
