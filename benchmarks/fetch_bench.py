"""Fetcher overhead: pages/s from a loopback server, our Fetcher (SSRF check, robots, gate,
charset, caps) beside a plain httpx.Client, same pages, same process, sequential.

    python benchmarks/fetch_bench.py --n 2000 --size 20000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from fimiscope.collect.fetch import Fetcher, FetchPolicy


def serve(size: int) -> ThreadingHTTPServer:
    para = "<p>Příliš žluťoučký kůň úpěl ďábelské ódy.</p>"
    body = ("<html><body>" + para * (size // 50) + "</body></html>").encode()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_a: object) -> None:
            pass

        def do_GET(self) -> None:
            payload = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else body
            ctype = "text/plain" if self.path == "/robots.txt" else "text/html"
            # one write for head and body: no delayed-ACK stall measuring the server, not us
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(payload)}\r\n\r\n"
            self.wfile.write(head.encode() + payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--size", type=int, default=20000, help="approximate page size in bytes")
    args = ap.parse_args()
    server = serve(args.size)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/p/{i}" for i in range(args.n)]

    with httpx.Client() as client:
        t0 = time.perf_counter()
        for u in urls:
            client.get(u).text  # noqa: B018 - decode like we do
        plain = time.perf_counter() - t0

    policy = FetchPolicy(allow_private_networks=True, per_host_delay=0.0, per_host_concurrency=4)
    with Fetcher(policy) as f:
        t0 = time.perf_counter()
        for u in urls:
            f.get(u, conditional=False).text()
        ours = time.perf_counter() - t0
    server.shutdown()
    rows = [("plain httpx.Client", args.n / plain), ("fimiscope Fetcher", args.n / ours)]
    print(f"{'fetcher':<22}{'pages/s':>10}   (n={args.n}, ~{args.size} B pages, loopback, sequential)")
    for name, rate in rows:
        print(f"{name:<22}{rate:>10.0f}")
    print(f"overhead: ours takes {ours / plain:.2f}x the time of plain httpx")
    print(json.dumps({"n": args.n, "size": args.size, "httpx_pages_s": round(rows[0][1]),
                      "fetcher_pages_s": round(rows[1][1]), "time_ratio": round(ours / plain, 2)}))


if __name__ == "__main__":
    main()
