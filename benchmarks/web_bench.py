"""Workbench latency under concurrent load on loopback.

Loads N synthetic documents (and one signal per 20 documents, each with evidence) into a
SQLite store, starts the real app with uvicorn in a child process, logs in, and measures
p50/p95 latency of each main page and API list endpoint with an async httpx client keeping
``--concurrency`` requests in flight.

    python benchmarks/web_bench.py --n 100000 --requests 200 --concurrency 8
    python benchmarks/web_bench.py --data-dir DIR --concurrency 1   # re-measure a loaded store

There is no library to race here: the table reports our latency per endpoint; run it at
concurrency 1 (service time) and at 8 (queueing on this machine's cores) side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from fimiscope.core.model import Affiliation, Document, Evidence, Signal, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import users as user_store

TOPICS = (
    "election harbour biolab sanctions energy grain pipeline protest minister border army vaccine "
    "refugees corruption summit drone missile nato ukraine moldova georgia baltic referendum media "
    "agency report claim source official statement leaked document satellite weather festival"
).split()
# A Zipf-like vocabulary: a few very common words, a long tail (as in real text), so that a
# query word matches a realistic share of documents rather than all of them.
_SYL = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "pa", "zo", "re", "ti", "ba", "ne"]
VOCAB = [a + b + c for a in _SYL for b in _SYL for c in _SYL][:3000] + TOPICS
WEIGHTS = [1.0 / (rank + 1) for rank in range(len(VOCAB))]
WORDS = TOPICS
LANGS = ["en", "en", "en", "de", "fr", "ru", "uk", "pl", "es", "it"]
AFFS = [Affiliation.STATE_CONTROLLED, Affiliation.STATE_LINKED, Affiliation.STATE_ALIGNED,
        Affiliation.INDEPENDENT, Affiliation.UNKNOWN]
TYPES = ["laundering", "claim", "coordination", "narrative", "infrastructure"]
PASSWORD = "bench-password"


def load(store: Store, n: int, batch: int = 5000) -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    n_sources = max(10, min(500, n // 1000))
    store.write(source_store.merge_sources, [
        Source(name=f"site{i}.example", affiliation=AFFS[i % len(AFFS)], language=LANGS[i % len(LANGS)])
        for i in range(n_sources)
    ])
    now = datetime.now(UTC)
    doc_ids: list[str] = []
    sig_ids: list[str] = []
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        docs = []
        for i in range(start, min(n, start + batch)):
            text = " ".join(rng.choices(VOCAB, WEIGHTS, k=rng.randint(60, 160)))
            docs.append(Document(
                text=text, url=f"https://site{i % n_sources}.example/a/{i}", source=f"site{i % n_sources}.example",
                title=" ".join(rng.choices(VOCAB, WEIGHTS, k=6)).capitalize(), language=LANGS[i % len(LANGS)],
                published_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
            ))
        ids = store.write(document_store.upsert_documents, docs).ids
        doc_ids.extend(ids[:10] if len(doc_ids) < 1000 else [])
        sigs = []
        for j in range(0, len(ids), 20):
            # Two documents of the batch at random, so signals spread over every language and
            # source; types cycle, so each filter selects a realistic share.
            ev_docs = rng.sample(ids, 2)
            sigs.append(Signal(
                type=TYPES[(start + j) // 20 % len(TYPES)], title=f"bench signal {start + j}", score=rng.random(),
                detector="bench", detector_version="1", key=f"bench-{start + j}",
                evidence=[Evidence(document_id=d, role="match", span_start=0, span_end=20, score=rng.random())
                          for d in ev_docs],
            ))
        store.write(signal_store.upsert_signals, sigs)
        sig_ids.extend(s.id for s in sigs[:5] if s.id and len(sig_ids) < 500)
        done = min(n, start + batch)
        rate = done / (time.perf_counter() - t0)
        print(f"\rloaded {done:,}/{n:,} documents ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return doc_ids, sig_ids


def seed_areas(store: Store, n_clusters: int = 20_000, n_claims: int = 20_000) -> None:
    """Laundering clusters (four members each, with chain edges) and a claim database, so the
    cluster and claim pages are measured on realistic table sizes. Skipped where present."""
    import sqlalchemy as sa

    from fimiscope.core.ids import new_id
    from fimiscope.core.model import Claim
    from fimiscope.store.claims import count_claims, upsert_claims
    from fimiscope.store.tables_laundering import laundering_clusters, laundering_edges, laundering_members

    rng = random.Random(11)
    now = datetime.now(UTC)
    with store.transaction() as c:
        have = c.execute(sa.select(sa.func.count()).select_from(laundering_clusters)).scalar_one()
        if not have:
            rows = c.exec_driver_sql(
                f"SELECT id, published_at, language FROM documents ORDER BY random() LIMIT {4 * n_clusters}"
            ).all()
            clusters, members, edges = [], [], []
            for k in range(0, len(rows) - 3, 4):
                group = sorted(rows[k:k + 4], key=lambda r: str(r[1]))
                cid = new_id("clu_")
                times = [datetime.fromisoformat(str(r[1])) if r[1] else now for r in group]
                clusters.append({"id": cid, "origin_document_id": group[0][0], "origin_reason": "earliest publication",
                                 "size": 4, "languages": sorted({r[2] for r in group if r[2]}),
                                 "first_published_at": times[0], "last_published_at": times[-1],
                                 "created_at": now, "updated_at": now - timedelta(minutes=k)})
                for i, r in enumerate(group):
                    members.append({"document_id": r[0], "cluster_id": cid, "role": "copy" if i else "origin",
                                    "similarity": rng.uniform(0.5, 1.0), "method": "near_duplicate", "joined_at": now})
                    if i:
                        edges.append({"copier_document_id": r[0], "copied_document_id": group[0][0],
                                      "method": rng.choice(["near_duplicate", "partial", "translation"]),
                                      "similarity": rng.uniform(0.5, 1.0),
                                      "lag_s": (times[i] - times[0]).total_seconds(),
                                      "attribution": rng.choice(["stripped", "credited"]), "details": {},
                                      "created_at": now})
            c.execute(laundering_clusters.insert(), clusters)
            c.execute(laundering_members.insert(), members)
            c.execute(laundering_edges.insert(), edges)
            print(f"seeded {len(clusters):,} clusters", file=sys.stderr)
    if not count_claims(store):
        claims = [
            Claim(text=" ".join(rng.choices(VOCAB, WEIGHTS, k=rng.randint(10, 30))) + f" (case {i})",
                  title=" ".join(rng.choices(VOCAB, WEIGHTS, k=6)), language=LANGS[i % len(LANGS)],
                  verdict="false", debunk="Fact-checkers found no evidence.", debunk_url=f"https://check.example/{i}")
            for i in range(n_claims)
        ]
        upsert_claims(store, claims)
        print(f"seeded {n_claims:,} claims", file=sys.stderr)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(base: str, paths: list[tuple[str, list[str]]], headers: dict[str, str], cookies: dict[str, str],
                  requests: int, concurrency: int) -> list[tuple[str, float, float, float, int]]:
    results = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, cookies=cookies, limits=limits, timeout=60) as c:
        for label, variants in paths:
            await c.get(variants[0])  # warm: first hit fills caches
            times: list[float] = []
            errors = 0
            queue = [variants[i % len(variants)] for i in range(requests)]

            async def worker(queue: list[str] = queue, times: list[float] = times) -> None:
                nonlocal errors
                while queue:
                    path = queue.pop()
                    t = time.perf_counter()
                    r = await c.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    errors += r.status_code != 200

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            times.sort()
            p50 = statistics.median(times)
            p95 = times[int(len(times) * 0.95) - 1]
            results.append((label, p50, p95, max(times), errors))
    return results


def seed_incidents(store: Store, n: int = 1_000) -> None:
    """Incidents with DISARM techniques, actors, channels and two linked signals each (through
    the store API, audit log included), so the incident pages are measured on a used workbench."""
    import sqlalchemy as sa

    from fimiscope.cases.tlp import TLP_LEVELS
    from fimiscope.core.model import Actor, Attribution, Channel, Incident
    from fimiscope.store.cases import IncidentStore
    from fimiscope.store.tables_cases import incidents

    with store.connect() as c:
        if c.execute(sa.select(sa.func.count()).select_from(incidents)).scalar_one():
            return
        sig_ids = [r[0] for r in c.exec_driver_sql(f"SELECT id FROM signals ORDER BY random() LIMIT {2 * n}")]
    rng = random.Random(5)
    techniques = ["T0049", "T0049.001", "T0015", "T0085", "T0023", "T0045", "T0023.001"]
    incs = IncidentStore(store)
    for i in range(n):
        incs.create(
            Incident(
                title=f"Incident {i}: " + " ".join(rng.choices(VOCAB, WEIGHTS, k=5)),
                summary=" ".join(rng.choices(VOCAB, WEIGHTS, k=30)),
                status=rng.choice(["open", "investigating", "confirmed", "closed"]),
                tlp=rng.choice(TLP_LEVELS),
                techniques=sorted(set(rng.sample(techniques, 3))),
                actors=[Actor(name=f"Actor {i % 40}", aliases=[f"alias {i % 7}"])],
                channels=[Channel("outlet", f"site{i % 500}.example"), Channel("domain", f"mirror{i}.example")],
                attribution=Attribution(actor=f"Actor {i % 40}", confidence="likely", source_reliability="B",
                                        information_credibility="2"),
                signal_ids=sig_ids[2 * i : 2 * i + 2],
            ),
            "bench",
        )
    print(f"seeded {n:,} incidents", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="documents to load (goal: 1,000,000)")
    ap.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="server processes (fimiscope serve --workers)")
    ap.add_argument("--data-dir", type=Path, help="reuse a loaded store (skips loading when it has documents)")
    args = ap.parse_args()

    data = args.data_dir or Path(tempfile.mkdtemp(prefix="fimiscope-webbench-"))
    store = Store.open(None, data)
    if store.read(document_store.max_document_seq) == 0:
        t0 = time.perf_counter()
        load(store, args.n)
        print(f"load: {args.n:,} documents in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        user_store.add_user(store, "bench", PASSWORD, "analyst")
    seed_areas(store)
    seed_incidents(store)
    import sqlalchemy as sa

    with store.connect() as c:
        n_docs = c.exec_driver_sql("SELECT count(*) FROM documents").scalar_one()
        n_sigs = c.exec_driver_sql("SELECT count(*) FROM signals").scalar_one()
        doc_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM documents ORDER BY random() LIMIT 50")]
        sig_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM signals ORDER BY random() LIMIT 50")]
        clu_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM laundering_clusters ORDER BY random() LIMIT 50")]
        claim_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM claims ORDER BY random() LIMIT 50")]
        inc_ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM incidents ORDER BY random() LIMIT 50")]
        del sa
    _tid, token = user_store.create_token(store, "bench")
    store.close()

    port = _free_port()
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(data), "FIMISCOPE_LOGIN_ATTEMPTS": "1000"}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-c", "from fimiscope.cli import main; main()", "serve", "--port", str(port), "--no-worker",
         "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base) as c:
            form = c.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
            c.post("/login", data={"name": "bench", "password": PASSWORD, "csrf_token": csrf})
            cookie = {"fimiscope_session": c.cookies["fimiscope_session"]}
        words = WORDS[:20]
        pages = [
            ("page /", ["/"]),
            ("page /triage", ["/triage"]),
            ("page /triage?type=claim&min_score=0.5", ["/triage?type=claim&min_score=0.5"]),
            ("page /triage?lang=…", [f"/triage?lang={lang}" for lang in ("de", "uk", "en", "pl")]),
            ("page /search?q=…", [f"/search?q={w}" for w in words]),
            ("page /sources", ["/sources"]),
            ("page /documents/{id}", [f"/documents/{d}" for d in doc_ids]),
            ("page /signals/{id}", [f"/signals/{s}" for s in sig_ids]),
            ("page /clusters", ["/clusters"]),
            ("page /clusters/{id}", [f"/clusters/{k}" for k in clu_ids]),
            ("page /claims?q=…", [f"/claims?q={w}" for w in words]),
            ("page /claims/{id}", [f"/claims/{k}" for k in claim_ids]),
            ("page /incidents", ["/incidents"]),
            ("page /incidents?tlp=green", ["/incidents?tlp=green"]),
            ("page /incidents/{id}", [f"/incidents/{k}" for k in inc_ids]),
        ]
        api = [
            ("GET /api/signals", ["/api/signals"]),
            ("GET /api/signals?type&status&sort", ["/api/signals?type=claim&status=new&sort=newest"]),
            ("GET /api/signals?source=…", [f"/api/signals?source=site{i * 20}.example" for i in range(10)]),
            ("GET /api/signals?lang=…", [f"/api/signals?lang={lang}" for lang in ("de", "uk", "en", "pl")]),
            ("GET /api/documents (newest)", ["/api/documents"]),
            ("GET /api/documents?q=…", [f"/api/documents?q={w}" for w in words]),
            ("GET /api/documents?q=…&lang=de", [f"/api/documents?q={w}&lang=de" for w in words]),
            ("GET /api/sources", ["/api/sources"]),
            ("GET /api/stats", ["/api/stats"]),
            ("GET /api/clusters", ["/api/clusters"]),
            ("GET /api/clusters?lang=de", ["/api/clusters?lang=de"]),
            ("GET /api/clusters/{id}", [f"/api/clusters/{k}" for k in clu_ids]),
            ("GET /api/claims", ["/api/claims"]),
            ("GET /api/claims?q=…", [f"/api/claims?q={w}" for w in words]),
            ("GET /api/incidents", ["/api/incidents"]),
            ("GET /api/incidents?status&tlp", ["/api/incidents?status=open&tlp=amber"]),
            ("GET /api/incidents/{id}", [f"/api/incidents/{k}" for k in inc_ids]),
            ("GET /api/incidents/{id}/stix", [f"/api/incidents/{k}/stix" for k in inc_ids]),
            ("GET /api/disarm?q=…", [f"/api/disarm?q={w}" for w in ("hashtag", "T0049", "fake experts", "amplify")]),
        ]
        res_pages = asyncio.run(measure(base, pages, {"Accept": "text/html"}, cookie, args.requests,
                                        args.concurrency))
        res_api = asyncio.run(measure(base, api, {"Authorization": f"Bearer {token}"}, {}, args.requests,
                                      args.concurrency))
    finally:
        server.terminate()
        server.wait(20)

    print(f"\nfimiscope workbench latency · SQLite · {n_docs:,} documents · {n_sigs:,} signals · "
          f"{args.requests} requests per endpoint · concurrency {args.concurrency} · "
          f"{args.workers} server process(es)\n")
    print(f"| {'endpoint':42} | {'p50 ms':>8} | {'p95 ms':>8} | {'max ms':>8} | {'errors':>6} | p95 < 300 ms |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 8}|{'-' * 14}|")
    for label, p50, p95, mx, err in res_pages + res_api:
        ok = "yes" if p95 < 300 else "NO"
        print(f"| {label:42} | {p50:8.1f} | {p95:8.1f} | {mx:8.1f} | {err:6d} | {ok:12} |")


if __name__ == "__main__":
    main()
