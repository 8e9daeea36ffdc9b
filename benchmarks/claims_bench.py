"""Claim retrieval speed: fimiscope's BM25 against rank-bm25 and bm25s, side by side.

    python benchmarks/claims_bench.py [--n 100000] [--queries 1000] [--docs 200] [--data DIR]

Claims: N synthetic claims made from the real ones (CheckThat! 2022 2A verified claims and
EUvsDisinfo summaries under DATA, default /work/shared/data/claims): each is a real claim with
about a third of its words replaced by words drawn from the pooled token stream, so lengths
and word frequencies stay realistic while no two claims are the same.
Queries: sentences of EUvsDisinfo disproof texts (real prose, mostly not claims).
Documents: 20 such sentences joined; "match" is the detector's full per-document path
(split, sentences and pairs, retrieve, coverage features, calibration).
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.detect.claims import ClaimMatcher, split_sentences
from fimiscope.index.bm25 import BM25Index

csv.field_size_limit(10**8)


def load_texts(data: Path) -> tuple[list[str], list[str]]:
    claims: list[str] = []
    with (data / "checkthat2022-2a" / "verified_claims.docs.tsv").open(encoding="utf-8", newline="") as f:
        for row in list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]:
            if len(row) > 1 and row[1].strip():
                claims.append(row[1])
    prose: list[str] = []
    with (data / "euvsdisinfo" / "euvsdisinfo-cases-2015-2017.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["summary"].strip():
                claims.append(row["summary"])
            prose.extend(s.text for s in split_sentences(row["disproof"]) if len(s.text.split()) >= 6)
    return claims, prose


def synthesize(real: list[str], n: int, rng: random.Random) -> list[str]:
    pool = [w for text in real for w in text.split()]
    out = []
    for i in range(n):
        words = real[i % len(real)].split()
        out.append(" ".join(rng.choice(pool) if rng.random() < 0.33 else w for w in words))
    return out


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--slow-queries", type=int, default=50, help="queries for rank-bm25 (it scores every claim)")
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data/claims"))
    args = ap.parse_args()
    rng = random.Random(7)
    real, prose = load_texts(args.data)
    claims = synthesize(real, args.n, rng)
    ids = [f"c{i}" for i in range(len(claims))]
    queries = [rng.choice(prose) for _ in range(args.queries)]
    print(f"{len(claims)} claims, {len(queries)} queries, {args.docs} documents of 20 sentences", file=sys.stderr)

    rows = []
    # ours
    ours, t_build = timed(BM25Index.build, zip(ids, claims, strict=True))
    ours.query("warm up", 10)
    _, t_q = timed(lambda: [ours.query(q, 10) for q in queries])
    _, t_qm = timed(lambda: [ours.query_many(queries[i : i + 40], 10) for i in range(0, len(queries), 40)])
    rows.append(("fimiscope BM25 (query)", t_build, len(queries) / t_q))
    rows.append(("fimiscope BM25 (query_many x40)", t_build, len(queries) / t_qm))

    # bm25s
    import bm25s

    def bm25s_build():  # type: ignore[no-untyped-def]
        r = bm25s.BM25()
        r.index(bm25s.tokenize(claims, stopwords="en", show_progress=False), show_progress=False)
        return r

    r, t_build_s = timed(bm25s_build)

    def bm25s_query(qs):  # type: ignore[no-untyped-def]
        for q in qs:
            r.retrieve(bm25s.tokenize([q], stopwords="en", show_progress=False), k=10, show_progress=False)

    _, t_qs = timed(bm25s_query, queries)

    def bm25s_batch(qs):  # type: ignore[no-untyped-def]
        r.retrieve(bm25s.tokenize(qs, stopwords="en", show_progress=False), k=10, show_progress=False)

    _, t_qsb = timed(bm25s_batch, queries)
    rows.append(("bm25s (one query a call)", t_build_s, len(queries) / t_qs))
    rows.append(("bm25s (all queries in one call)", t_build_s, len(queries) / t_qsb))

    # rank-bm25
    from rank_bm25 import BM25Okapi

    rb, t_build_r = timed(BM25Okapi, [c.lower().split() for c in claims])
    slow = queries[: args.slow_queries]
    _, t_qr = timed(lambda: [rb.get_top_n(q.lower().split(), ids, n=10) for q in slow])
    rows.append(("rank-bm25 BM25Okapi", t_build_r, len(slow) / t_qr))

    # per-document matching latency
    matcher = ClaimMatcher(list(zip(ids, claims, strict=True)))
    docs = [" ".join(rng.choice(prose) for _ in range(20)) for _ in range(args.docs)]
    matcher.match_text(docs[0])
    lat = []
    for d in docs:
        t0 = time.perf_counter()
        matcher.match_text(d)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    p50 = statistics.median(lat)
    p95 = lat[int(0.95 * (len(lat) - 1))]

    print(f"{'system':34} {'build s':>9} {'queries/s':>11} {'build vs ours':>14} {'q/s ours ÷ it':>14}")
    base_q = rows[0][2]
    for name, b, qps in rows:
        print(f"{name:34} {b:9.2f} {qps:11.1f} {b / t_build:14.2f} {base_q / qps:14.2f}")
    print(f"match one 20-sentence document against {len(claims)} claims: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    import json

    print(
        json.dumps(
            {
                "bench": "claims",
                "claims": len(claims),
                "rows": [{"system": n, "build_s": round(b, 3), "qps": round(q, 1)} for n, b, q in rows],
                "match_doc_ms": {"p50": round(p50, 2), "p95": round(p95, 2), "docs": len(docs)},
            }
        )
    )


if __name__ == "__main__":
    main()
