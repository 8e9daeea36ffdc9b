"""Claim retrieval quality on CLEF CheckThat! 2022 Task 2A layout (tweets -> verified claims).

    python eval/claims.py DATA_DIR [--split dev] [--fit-calibration]

DATA_DIR holds verified_claims.docs.tsv, {train,SPLIT}_tweets.queries.tsv and
{train,SPLIT}_tweet-vclaim-pairs.qrels. Everything tunable (tweet cleaning, k1/b, the prefix
length, the reranker's weights) is chosen on TRAIN only; the SPLIT (dev by default) is
scored once with what train chose.

Compares, in one run:
  baseline  rank-bm25 BM25Okapi over lowercased whitespace tokens of claim + title
  ours      fimiscope BM25 (analyzer, cleaning, k1/b tuned on train) + a logistic reranker
            over cheap lexical features of the top candidates, fit on train

Prints a table and ends with one JSON line. MAP@k: mean over queries of
sum_{i<=k} P@i * rel_i / min(#relevant, k).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.bm25 import Analyzer, BM25Index, features, fit_logistic

csv.field_size_limit(10**8)


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]  # header


def load(data: Path, split: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    queries = {r[0]: r[1] for r in read_tsv(data / f"{split}_tweets.queries.tsv") if len(r) >= 2}
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (data / f"{split}_tweet-vclaim-pairs.qrels").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 4 and parts[3].strip() != "0":
            qrels[parts[0]].add(parts[2])
    return {q: t for q, t in queries.items() if q in qrels}, dict(qrels)


def map_at(ranked: dict[str, list[str]], qrels: dict[str, set[str]], k: int) -> float:
    total = 0.0
    for q, rel in qrels.items():
        hits, ap = 0, 0.0
        for i, d in enumerate(ranked.get(q, [])[:k], start=1):
            if d in rel:
                hits += 1
                ap += hits / i
        total += ap / min(len(rel), k)
    return total / len(qrels)


def success_at(ranked: dict[str, list[str]], qrels: dict[str, set[str]], k: int) -> float:
    return sum(1 for q, rel in qrels.items() if set(ranked.get(q, [])[:k]) & rel) / len(qrels)


def metrics(ranked: dict[str, list[str]], qrels: dict[str, set[str]]) -> dict[str, float]:
    return {
        "map@1": round(map_at(ranked, qrels, 1), 4),
        "map@5": round(map_at(ranked, qrels, 5), 4),
        "success@10": round(success_at(ranked, qrels, 10), 4),
    }


# -- tweet cleaning ----------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|pic\.twitter\.com/\S+|\bt\.co/\S+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
_TAG = re.compile(r"[#@](\w+)")
_TAIL = re.compile(r"\s[—–-]\s[^—–]*\(@\w+\)\s+\w+ \d{1,2}, \d{4}\s*$")


def clean(text: str, level: int) -> str:
    """0: as is; 1: URLs out, hashtags/handles split into words; 2: also the '— Name (@h) date' tail out."""
    if level == 0:
        return text
    if level >= 2:
        text = _TAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    return _TAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)


# -- systems -----------------------------------------------------------------------------------


def baseline(claims: dict[str, str], queries: dict[str, str], k: int = 10) -> dict[str, list[str]]:
    from rank_bm25 import BM25Okapi

    ids = list(claims)
    bm = BM25Okapi([claims[i].lower().split() for i in ids])
    out = {}
    for q, text in queries.items():
        scores = bm.get_scores(text.lower().split())
        top = np.argsort(-scores)[:k]
        out[q] = [ids[i] for i in top]
    return out


def run_ours(index: BM25Index, queries: dict[str, str], level: int, k: int) -> dict[str, list[tuple[str, float]]]:
    qs = list(queries)
    hits = index.query_many([clean(queries[q], level) for q in qs], k)
    return dict(zip(qs, hits, strict=True))


def ranked_ids(hits: dict[str, list[tuple[str, float]]]) -> dict[str, list[str]]:
    return {q: [d for d, _ in h] for q, h in hits.items()}


RERANK_FEATURES = ("log_bm25", "rel_top", "query_coverage", "claim_coverage", "title_bm25", "rank_inv")


def rerank_rows(
    index: BM25Index, title_index: BM25Index, queries: dict[str, str], level: int, depth: int
) -> dict[str, list[tuple[str, np.ndarray]]]:
    qs = list(queries)
    texts = [clean(queries[q], level) for q in qs]
    cands = index.candidates(texts, depth)
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for q, text, row in zip(qs, texts, cands, strict=True):
        if not row:
            out[q] = []
            continue
        tscore = title_index.scores(text)
        top = row[0][1]
        feats = []
        for rank, (d, s, qc, cc) in enumerate(row, start=1):
            t = float(tscore[title_index.position(d)])
            feats.append(
                (d, np.array([math.log1p(s), s / top, qc, cc, math.log1p(t), 1.0 / rank], dtype=np.float64))
            )
        out[q] = feats
    return out


def training_matrix(
    rows: dict[str, list[tuple[str, np.ndarray]]], qrels: dict[str, set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for q, cand in rows.items():
        rel = qrels.get(q, set())
        if not any(d in rel for d, _ in cand):
            continue  # nothing to learn from a query whose gold claim was not retrieved
        for d, f in cand:
            x.append(f)
            y.append(1.0 if d in rel else 0.0)
    return np.array(x), np.array(y)


def rerank(rows: dict[str, list[tuple[str, np.ndarray]]], w: np.ndarray) -> dict[str, list[str]]:
    out = {}
    for q, cand in rows.items():
        scored = sorted(cand, key=lambda df: -(w[0] + float(df[1] @ w[1:])))
        out[q] = [d for d, _ in scored]
    return out


def euvsdisinfo_check(path: Path, seed: int = 1, n: int = 300) -> dict[str, float | int]:
    """The detector on EUvsDisinfo cases: is a reworded claim (the case title) found inside 10
    unrelated sentences, and do unrelated texts (CheckThat dev tweets) stay unflagged?"""
    import random

    from fimiscope.detect.claims import ClaimMatcher, split_sentences

    with path.open(encoding="utf-8", newline="") as f:
        rows = list({r["summary"]: r for r in csv.DictReader(f) if r["summary"].strip()}.values())
    matcher = ClaimMatcher([(str(i), r["summary"]) for i, r in enumerate(rows)])
    rng = random.Random(seed)
    prose = [s.text for r in rows for s in split_sentences(r["disproof"]) if len(s.text.split()) >= 6]
    found = 0
    for i in rng.sample(range(len(rows)), n):
        doc = " ".join([*rng.sample(prose, 5), rows[i]["title"].rstrip(".") + ".", *rng.sample(prose, 5)])
        found += any(m.claim_id == str(i) for m in matcher.match_text(doc))
    return {"claims": len(rows), "documents": n, "reworded_found": found}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--depth", type=int, default=30, help="candidates the reranker sees")
    ap.add_argument("--fit-calibration", action="store_true", help="print CALIBRATION fit on train")
    ap.add_argument("--euvsdisinfo", type=Path, help="EUvsDisinfo case CSV: also run the in-document check")
    args = ap.parse_args()
    if args.split == "train":
        sys.exit("tuning happens on train: score another split")

    docs = {r[0]: (r[1], r[2] if len(r) > 2 else "") for r in read_tsv(args.data / "verified_claims.docs.tsv")}
    both = {d: f"{t} {c}" for d, (c, t) in docs.items()}
    train_q, train_rel = load(args.data, "train")
    eval_q, eval_rel = load(args.data, args.split)
    print(f"{len(docs)} claims; train {len(train_q)} queries; {args.split} {len(eval_q)} queries", file=sys.stderr)

    t0 = time.perf_counter()
    base_eval = metrics(baseline(both, eval_q), eval_rel)
    base_train = metrics(baseline(both, train_q), train_rel)
    t_base = time.perf_counter() - t0

    # Tune on train: cleaning level, prefix length, k1, b.
    t0 = time.perf_counter()
    best: tuple[float, dict[str, float]] = (-1.0, {})
    grid = []
    for prefix in (0, 5, 6, 7):
        for k1 in (0.9, 1.2, 1.6):
            for b in (0.4, 0.75, 0.9):
                idx = BM25Index.build(both.items(), Analyzer(prefix=prefix), k1=k1, b=b)
                for level in (0, 1, 2):
                    m = map_at(ranked_ids(run_ours(idx, train_q, level, 5)), train_rel, 5)
                    grid.append((m, prefix, k1, b, level))
                    if m > best[0]:
                        best = (m, {"prefix": prefix, "k1": k1, "b": b, "clean": level})
    t_tune = time.perf_counter() - t0
    p = best[1]
    print(f"train grid best MAP@5 {best[0]:.4f} with {p}", file=sys.stderr)
    analyzer = Analyzer(prefix=int(p["prefix"]))
    index = BM25Index.build(both.items(), analyzer, k1=p["k1"], b=p["b"])
    title_index = BM25Index.build(((d, t) for d, (_c, t) in docs.items()), analyzer, k1=p["k1"], b=p["b"])
    level = int(p["clean"])
    ours_bm25_eval = metrics(ranked_ids(run_ours(index, eval_q, level, 10)), eval_rel)

    train_rows = rerank_rows(index, title_index, train_q, level, args.depth)
    x, y = training_matrix(train_rows, train_rel)
    w = fit_logistic(x, y, l2=1.0)
    eval_rows = rerank_rows(index, title_index, eval_q, level, args.depth)
    ours_eval = metrics(rerank(eval_rows, w), eval_rel)
    ours_train = metrics(rerank(train_rows, w), train_rel)

    calib = None
    if args.fit_calibration:
        # The detector's own index (ClaimMatcher: "title. text", its analyzer, k1, b), top-10
        # candidates of each cleaned train tweet (documents carry no t.co links).
        from fimiscope.detect.claims import ClaimMatcher

        det = ClaimMatcher([(d, f"{t}. {c}" if t and t != c else c) for d, (c, t) in docs.items()]).index
        qs = list(train_q)
        cands = det.candidates([clean(train_q[q], 1) for q in qs], 10)
        cx, cy = [], []
        for q, row in zip(qs, cands, strict=True):
            for d, s, qc, cc in row:
                f = features(s, qc, cc)
                cx.append([f["query_coverage"], f["claim_coverage"], f["log_bm25"]])
                cy.append(1.0 if d in train_rel[q] else 0.0)
        cw = fit_logistic(np.array(cx), np.array(cy), l2=1.0)
        calib = {
            "intercept": round(float(cw[0]), 3),
            "query_coverage": round(float(cw[1]), 3),
            "claim_coverage": round(float(cw[2]), 3),
            "log_bm25": round(float(cw[3]), 3),
            "train_pairs": len(cy),
            "train_positives": int(sum(cy)),
        }
        print(f"CALIBRATION = {calib}", file=sys.stderr)

    # The detector's decision (calibrated probability >= THRESHOLD with the constants in the
    # code, fit on train) on the eval split: precision of what it would flag, recall of gold.
    from fimiscope.detect.claims import THRESHOLD, ClaimMatcher
    from fimiscope.index.bm25 import calibrated

    det = ClaimMatcher([(d, f"{t}. {c}" if t and t != c else c) for d, (c, t) in docs.items()]).index
    qs = list(eval_q)
    flagged = correct = found = 0
    for q, row in zip(qs, det.candidates([clean(eval_q[q], 1) for q in qs], 10), strict=True):
        got = {d for d, s, qc, cc in row if calibrated(features(s, qc, cc)) >= THRESHOLD}
        flagged += len(got)
        correct += len(got & eval_rel[q])
        found += 1 if got & eval_rel[q] else 0
    detector = {
        "threshold": THRESHOLD,
        "flagged": flagged,
        "precision": round(correct / flagged, 4) if flagged else None,
        "recall": round(found / len(qs), 4),
    }

    unrelated = None
    euvs = None
    if args.euvsdisinfo:
        euvs = euvsdisinfo_check(args.euvsdisinfo)
        from fimiscope.detect.claims import ClaimMatcher

        with args.euvsdisinfo.open(encoding="utf-8", newline="") as f:
            summaries = list({r["summary"] for r in csv.DictReader(f) if r["summary"].strip()})
        m = ClaimMatcher([(str(i), t) for i, t in enumerate(summaries)])
        unrelated = sum(1 for t in eval_q.values() if m.match_text(t))
        euvs["unrelated_tweets"] = len(eval_q)
        euvs["unrelated_flagged"] = unrelated

    rows = [
        ("baseline rank-bm25 (train)", base_train),
        ("ours bm25+rerank (train, fit here)", ours_train),
        (f"baseline rank-bm25 ({args.split})", base_eval),
        (f"ours bm25 tuned ({args.split})", ours_bm25_eval),
        (f"ours bm25+rerank ({args.split})", ours_eval),
    ]
    print(f"{'system':40} {'MAP@1':>7} {'MAP@5':>7} {'S@10':>7}")
    for name, m in rows:
        print(f"{name:40} {m['map@1']:7.4f} {m['map@5']:7.4f} {m['success@10']:7.4f}")
    print(
        f"tuned on train: {p}; reranker weights {dict(zip(('bias', *RERANK_FEATURES), np.round(w, 3).tolist(), strict=True))}"
    )
    print(
        f"detector on {args.split} (p >= {THRESHOLD}): {flagged} flagged, precision {detector['precision']}, "
        f"recall {detector['recall']}"
    )
    if euvs:
        print(
            f"EUvsDisinfo: reworded claim found in {euvs['reworded_found']}/{euvs['documents']} documents; "
            f"{euvs['unrelated_flagged']}/{euvs['unrelated_tweets']} unrelated {args.split} tweets flagged"
        )
    print(f"time: baseline {t_base:.1f}s, tuning grid {t_tune:.1f}s")
    print(
        json.dumps(
            {
                "eval": "claims",
                "split": args.split,
                "queries": len(eval_q),
                "claims": len(docs),
                "baseline": base_eval,
                "ours_bm25": ours_bm25_eval,
                "ours": ours_eval,
                "ratio_map5": round(ours_eval["map@5"] / base_eval["map@5"], 3) if base_eval["map@5"] else None,
                "tuned": p,
                "reranker": dict(zip(("bias", *RERANK_FEATURES), np.round(w, 4).tolist(), strict=True)),
                "calibration": calib,
                "detector": detector,
                "euvsdisinfo": euvs,
            }
        )
    )


if __name__ == "__main__":
    main()
