"""Persuasion-technique classification speed: the shipped model beside scikit-learn, and the
stage beside the laundering stage, side by side.

    python benchmarks/persuasion_bench.py [--paragraphs 100000] [--docs 500] [--memory 20000]
                                          [--data /work/shared/data/persuasion/semeval2023-t3]

Paragraphs: the non-empty lines of the SemEval-2023 Task 3 articles (six languages), cycled to
``--paragraphs`` (real prose and lengths; the same paragraph recurs about five times at 100k,
which no contender caches).

Contenders on the same paragraphs, in one run, interleaved by slices of 10,000 paragraphs (the
order rotating, so that the shared machine's changing load falls on all alike) after an untimed
warm-up on 2,000:
  ours            featurize + score + decision (``PersuasionModel.predict(spans=False)``)
  ours+spans      the same plus the trigger spans (what the stage stores)
  scikit-learn    TfidfVectorizer word 1-2-grams + OneVsRestClassifier(LogisticRegression), fitted
                  on 5,000 of the paragraphs beforehand (not timed): transform + predict_proba,
                  the eval's baseline

Then every stage of the pipeline, one after the other in pipeline order (what ``fimiscope run``
does), through ``pipeline.run`` on ``--docs`` of the articles in a fresh SQLite store:
documents/s per stage, and ``detect.persuasion`` beside the slowest other stage and beside
``detect.laundering`` (the issue asks that the persuasion stage not be the pipeline's slowest by
more than 2x). Peak memory: tracemalloc over a separate pass on ``--memory`` paragraphs
(tracemalloc slows Python code several-fold, so the timed passes run without it). Ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.persuasion import _language, shipped_model

DATA = "/work/shared/data/persuasion/semeval2023-t3"
CHUNK = 10_000


def articles(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        lang = _language(folder.name) or folder.name
        for path in sorted((folder / "train-articles").glob("article*.txt")):
            out.append((lang, path.stem, path.read_text(encoding="utf-8")))
    return out


def paragraphs(arts: list[tuple[str, str, str]], n: int) -> list[tuple[str, str]]:
    pool = [(lang, line.strip()) for lang, _a, text in arts for line in text.splitlines() if line.strip()]
    return [pool[i % len(pool)] for i in range(n)]


def by_language(paras: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lang, text in paras:
        out.setdefault(lang, []).append(text)
    return out


def run_ours(paras: list[tuple[str, str]], spans: bool) -> int:
    model = shipped_model()
    found = 0
    for lang, texts in by_language(paras).items():
        for i in range(0, len(texts), 1000):
            found += sum(len(p.techniques) for p in model.predict(texts[i:i + 1000], lang, spans=spans))
    return found


def fit_sklearn(paras: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    sample = [t for _l, t in paras[:5000]]
    x = vec.fit_transform(sample)
    rng = np.random.default_rng(1)
    y = (rng.random((len(sample), 23)) < 0.1).astype(int)  # speed only: labels do not matter
    return vec, OneVsRestClassifier(LogisticRegression(max_iter=200, solver="liblinear")).fit(x, y)


def run_sklearn(paras: list[tuple[str, str]], vec, clf) -> int:  # type: ignore[no-untyped-def]
    found = 0
    texts = [t for _l, t in paras]
    for i in range(0, len(texts), 1000):
        found += int((clf.predict_proba(vec.transform(texts[i:i + 1000])) >= 0.5).sum())
    return found


def timed(fn, *args) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def peak_mb(fn, *args) -> float:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    fn(*args)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def stages(arts: list[tuple[str, str, str]], n_docs: int) -> dict[str, float]:
    from datetime import UTC, datetime, timedelta

    from fimiscope import pipeline
    from fimiscope.core.model import Document
    from fimiscope.store import Store
    from fimiscope.store import documents as document_store

    picked = arts[:: max(len(arts) // n_docs, 1)][:n_docs]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    docs = [Document(text=text, url=f"https://bench.example/{lang}/{aid}", source="bench.example", language=lang,
                     title=text.splitlines()[0][:200], published_at=base + timedelta(hours=i))
            for i, (lang, aid, text) in enumerate(picked)]
    out: dict[str, float] = {"documents": len(docs),
                             "paragraphs": sum(1 for d in docs for line in d.text.splitlines() if line.strip())}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(None, Path(tmp))
        store.write(document_store.upsert_documents, docs)
        for stage in pipeline.stages():
            t = time.perf_counter()
            pipeline.run(store, only=[stage.name])
            out[stage.name] = len(docs) / (time.perf_counter() - t)
        store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paragraphs", type=int, default=100_000)
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--memory", type=int, default=20_000)
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # BLAS threads only fight each other on a shared 2-core machine
    arts = articles(Path(args.data))
    paras = paragraphs(arts, args.paragraphs)
    shipped_model()  # load outside the timings
    vec, clf = fit_sklearn(paras)

    contenders = (("ours", run_ours, (False,)), ("ours+spans", run_ours, (True,)),
                  ("scikit-learn", run_sklearn, (vec, clf)))
    for _name, fn, extra in contenders:  # warm-up, not timed: caches (the lexicon's, sklearn's vocabulary)
        fn(paras[:2000], *extra)
    # Interleaved: each slice of CHUNK paragraphs goes through every contender, in an order that
    # rotates, so that a change in the shared machine's load falls on all of them alike.
    seconds = {name: 0.0 for name, _fn, _extra in contenders}
    for k, i in enumerate(range(0, len(paras), CHUNK)):
        part = paras[i:i + CHUNK]
        for j in range(len(contenders)):
            name, fn, extra = contenders[(k + j) % len(contenders)]
            took, _found = timed(fn, part, *extra)
            seconds[name] += took
    rows = {}
    for name, fn, extra in contenders:
        mem = peak_mb(fn, paras[: args.memory], *extra)
        rows[name] = {"paragraphs_per_s": round(len(paras) / seconds[name]), "seconds": round(seconds[name], 1),
                      "peak_mb": round(mem, 1)}
    st = stages(arts, args.docs)

    print(f"\nPersuasion techniques: {len(paras):,} paragraphs (peak memory over {args.memory:,})\n")
    print(f"{'contender':<14} {'paragraphs/s':>13} {'seconds':>8} {'peak MB':>8} {'vs scikit-learn':>16}")
    for name, r in rows.items():
        ratio = r["paragraphs_per_s"] / rows["scikit-learn"]["paragraphs_per_s"]
        print(f"{name:<14} {r['paragraphs_per_s']:>13,} {r['seconds']:>8} {r['peak_mb']:>8} {ratio:>15.2f}x")
    names = [k for k in st if "." in k]
    print(f"\nStages in pipeline order on {int(st['documents'])} articles ({int(st['paragraphs']):,} paragraphs), "
          "SQLite:")
    for stage in names:
        print(f"  {stage:<28} {st[stage]:>9.1f} documents/s")
    others = {k: st[k] for k in names if k != "detect.persuasion"}
    slowest = min(others, key=others.__getitem__)
    ratio = st["detect.persuasion"] / st["detect.laundering"]
    vs_slowest = st["detect.persuasion"] / others[slowest]
    print(f"  persuasion / laundering: {ratio:.2f}x; persuasion / slowest other stage ({slowest}): {vs_slowest:.2f}x")
    print(json.dumps({"bench": "persuasion", "paragraphs": len(paras), "contenders": rows, "stages": st,
                      "persuasion_vs_laundering": round(ratio, 3), "slowest_other": slowest,
                      "persuasion_vs_slowest_other": round(vs_slowest, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
