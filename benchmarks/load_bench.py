"""Many analysts at once: 50 concurrent clients for 60 s on the demo's workbench pages and API
lists, against `fimiscope serve` in a child process on loopback.

The demo store (`fimiscope demo --scale S`, built here unless ``--data-dir`` holds one) is served
with the pipeline worker off. First one client requests every URL ``--repeat`` times in turn
(service time); then ``--clients`` clients (asyncio tasks over one httpx pool, each keeping one
request in flight) cycle through the same URLs for ``--duration`` seconds. Pages go with a
browser session cookie, API lists with a bearer token. Reported: p50/p95 per group at one
client and under load, requests served, errors (any status other than 200, any transport
error), and the server's resident memory (start, peak, end; read from /proc every second).

There is no library to race: the point is no errors and bounded memory, with latency under
load beside one-client service time. The load generator runs in this process on the same
cores as the server.

    nice -n 10 python benchmarks/load_bench.py --scale 0.2 --clients 50 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "load bench password"
PAGES = ["/", "/triage", "/clusters", "/claims", "/incidents", "/narratives", "/coordination",
         "/infrastructure", "/sources", "/search?q=election"]
API_LISTS = ["/api/signals", "/api/documents", "/api/documents?q=election", "/api/sources", "/api/clusters",
             "/api/claims", "/api/incidents", "/api/narratives", "/api/coordination/groups",
             "/api/infrastructure/groups", "/api/overview", "/api/stats"]
# Detail pages: the first item of each list, found after start.
DETAILS = [("/api/signals", "/signals/{}"), ("/api/documents", "/documents/{}"), ("/api/clusters", "/clusters/{}"),
           ("/api/claims", "/claims/{}"), ("/api/narratives", "/narratives/{}"),
           ("/api/coordination/groups", "/coordination/{}"), ("/api/infrastructure/groups", "/infrastructure/groups/{}")]


def fimiscope(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(data)}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "fimiscope", *args], env=env, capture_output=True, text=True,
                          check=True)


def prepare(data: Path, scale: float) -> str:
    """The demo store at ``data`` (built when absent), a bench user; returns its API token."""
    from fimiscope.store import Store
    from fimiscope.store import users as user_store

    if not (data / "fimiscope.sqlite3").exists() and not any(data.glob("*.sqlite3")):
        t0 = time.perf_counter()
        fimiscope(data, "demo", "--scale", str(scale), "--format", "json")
        print(f"demo built at scale {scale} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    store = Store.open(None, data)
    try:
        with contextlib.suppress(Exception):
            user_store.remove_user(store, "loadbench")
        user_store.add_user(store, "loadbench", PASSWORD, "viewer")
        return user_store.create_token(store, "loadbench")[1]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class MemoryWatch:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mb(self.pid))
            self._stop.wait(1.0)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def login_cookie(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as c:
        form = c.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf, "no CSRF field on the login form"
        resp = c.post("/login", data={"name": "loadbench", "password": PASSWORD, "csrf_token": csrf.group(1)})
        assert resp.status_code == 303, resp.status_code
        return {"fimiscope_session": c.cookies["fimiscope_session"]}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(base: str, token: str, cookie: dict[str, str], clients: int, duration: float, repeat: int,
              rounds: int, memory: MemoryWatch) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        auth = {"authorization": f"Bearer {token}"}
        pages = list(PAGES)
        for api, page in DETAILS:
            items = (await client.get(api, params={"limit": 1}, headers=auth)).json().get("items") or []
            if items and items[0].get("id"):
                pages.append(page.format(items[0]["id"]))
        retried: list[str] = []
        urls = [("page", u, {"cookies": cookie}) for u in pages] + [("api", u, {"headers": auth}) for u in API_LISTS]

        async def one(kind: str, url: str, kw: dict, via: httpx.AsyncClient | None = None
                      ) -> tuple[str, float, int | str]:
            t0 = time.perf_counter()
            try:
                headers = kw.get("headers", {})
                if "cookies" in kw:
                    headers = {"cookie": "; ".join(f"{k}={v}" for k, v in kw["cookies"].items())}
                try:
                    resp = await (via or client).get(url, headers=headers)
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    # The server closed a kept-alive connection as the request went out (its idle
                    # timer fired while this starved client was slow to send): a browser sends a
                    # GET again on a fresh connection, so do we, once, and count it.
                    retried.append(url)
                    resp = await (via or client).get(url, headers=headers)
                status: int | str = resp.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__} after {time.perf_counter() - t0:.1f} s"
            return kind, (time.perf_counter() - t0) * 1000, status

        for kind, url, kw in urls:  # warm-up: first-hit caches (overview volumes, totals) are not service time
            await one(kind, url, kw)
        single: dict[str, list[float]] = {"page": [], "api": []}
        per_url: dict[str, list[float]] = {}
        errors_single = 0
        for _ in range(repeat):
            for kind, url, kw in urls:
                k, ms, status = await one(kind, url, kw)
                single[k].append(ms)
                per_url.setdefault(url, []).append(ms)
                errors_single += status != 200

        rounds_out = []
        for _ in range(rounds):
            # Each round is a fresh set of clients with its own connections: a pooled connection
            # left idle past the server's keep-alive (5 s) between rounds would be closed under it.
            pool = httpx.AsyncClient(base_url=base, limits=limits, timeout=60)
            loaded: dict[str, list[float]] = {"page": [], "api": []}
            failures: list[str] = []
            deadline = time.perf_counter() + duration

            async def worker(i: int, loaded: dict[str, list[float]] = loaded, failures: list[str] = failures,
                             deadline: float = deadline, pool: httpx.AsyncClient = pool) -> None:
                n = i
                while time.perf_counter() < deadline:
                    kind, url, kw = urls[n % len(urls)]
                    n += 1
                    k, ms, status = await one(kind, url, kw, pool)
                    loaded[k].append(ms)
                    if status != 200:
                        failures.append(f"{url}: {status}")

            t0 = time.perf_counter()
            mem_mark = len(memory.samples)
            async with pool:
                await asyncio.gather(*(worker(i) for i in range(clients)))
            rounds_out.append({"loaded": loaded, "failures": failures, "elapsed": time.perf_counter() - t0,
                               "rss_peak": max(memory.samples[mem_mark:] or [0.0])})
    slowest = sorted(((statistics.median(v), u) for u, v in per_url.items()), reverse=True)[:5]
    return {"urls": len(urls), "single": single, "errors_single": errors_single, "rounds": rounds_out,
            "slowest": slowest, "retried": retried}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, help="a demo store to reuse (built here when absent)")
    ap.add_argument("--scale", type=float, default=0.2, help="demo scale when building it")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--repeat", type=int, default=5, help="one-client passes over every URL")
    ap.add_argument("--rounds", type=int, default=2, help="load rounds back to back (memory must level off)")
    ap.add_argument("--workers", type=int, default=1, help="`fimiscope serve --workers`")
    args = ap.parse_args()

    tmp = None
    if args.data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="fimiscope-load-")
        args.data_dir = Path(tmp.name) / "demo"
    token = prepare(args.data_dir, args.scale)
    port = free_port()
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(args.data_dir)}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fimiscope", "serve", "--no-worker", "--port", str(port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("fimiscope serve did not start")
            time.sleep(0.2)
        cookie = login_cookie(base)
        with MemoryWatch(server.pid) as mem:
            result = asyncio.run(run(base, token, cookie, args.clients, args.duration, args.repeat, args.rounds, mem))
    finally:
        server.terminate()
        server.wait(20)
        if tmp is not None:
            tmp.cleanup()

    single = result["single"]
    samples = mem.samples or [0.0]
    print(f"\n{result['urls']} URLs; {args.clients} clients for {args.duration:.0f} s x {args.rounds} rounds; "
          f"server workers {args.workers}")
    print(f"{'round':<6} {'group':<6} {'c=1 p50 ms':>11} {'c=1 p95 ms':>11} {'load p50 ms':>12} {'load p95 ms':>12} "
          f"{'requests':>9} {'req/s':>6} {'errors':>7} {'peak RSS MB':>12}")
    rows = []
    errors = 0
    for r, rnd in enumerate(result["rounds"], 1):
        errors += len(rnd["failures"])
        for kind in ("page", "api"):
            s1, lo = single[kind], rnd["loaded"][kind]
            row = {"round": r, "group": kind, "c1_p50": round(pct(s1, 50), 1), "c1_p95": round(pct(s1, 95), 1),
                   "load_p50": round(pct(lo, 50), 1), "load_p95": round(pct(lo, 95), 1), "requests": len(lo),
                   "rps": round(len(lo) / rnd["elapsed"], 1), "errors": len(rnd["failures"]),
                   "rss_peak_mb": round(rnd["rss_peak"])}
            rows.append(row)
            print(f"{r:<6} {kind:<6} {row['c1_p50']:>11} {row['c1_p95']:>11} {row['load_p50']:>12} "
                  f"{row['load_p95']:>12} {row['requests']:>9} {row['rps']:>6} {row['errors']:>7} "
                  f"{row['rss_peak_mb']:>12}")
        if rnd["failures"]:
            print(f"  first failures: {rnd['failures'][:3]}")
    print("slowest at one client (median ms): " + ", ".join(f"{u} {ms:.0f}" for ms, u in result["slowest"]))
    print(f"errors under load: {errors} (one client: {result['errors_single']}); "
          f"requests sent again after the server closed an idle kept-alive connection: {len(result['retried'])}; "
          f"server RSS MB: start {samples[0]:.0f}, peak {max(samples):.0f}, end {samples[-1]:.0f}")
    print(json.dumps({"bench": "load", "clients": args.clients, "duration_s": args.duration, "rows": rows,
                      "errors": errors, "errors_single": result["errors_single"], "retried": len(result["retried"]),
                      "rss_mb": {"start": round(samples[0]), "peak": round(max(samples)), "end": round(samples[-1])}}))


if __name__ == "__main__":
    main()
