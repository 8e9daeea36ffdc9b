"""Known-narrative assignment on SemEval-2025 Task 10 subtask 2 (narratives and sub-narratives).

    python eval/narratives.py DATA [--test DIR] [--encoder usem3|MODEL_DIR] [--no-encoder] [--cache-dir DIR]

DATA holds one folder per language (BG, EN, HI, PT, RU), each with ``subtask-2-annotations.txt``
(file, narratives, sub-narratives; ``;``-separated) and ``raw-documents/``.

Without ``--test``: DATA is split by document into train (70 %) and dev (30 %) per language,
by a hash of the file name (stable across runs); everything tunable is chosen by 3-fold
cross-validation inside train; dev is scored once. With ``--test DIR`` (laid out like DATA):
fit on all of DATA, tune by cross-validation inside it, score DIR once.

Compares, in one run, per language and over all languages:
  baseline  scikit-learn TfidfVectorizer (word 1-2 grams, sublinear tf) + one-vs-rest LinearSVC
            (class_weight balanced, C chosen by the same cross-validation)
  baseline+encoder  the baseline with the encoder's document vector appended to each article's
            tf-idf features (C chosen the same way)
  ours      fimiscope's NarrativeAssigner: each label is a known narrative whose examples are
            its train documents; model-free (hashed tf-idf of the analyzer's terms and name
            anchors, centroid + nearest example)
  ours+encoder  ours with the encoder plug-in's document vectors mixed in (--encoder, as
            FIMISCOPE_ENCODER takes it: default usem3, the [multilingual] extra's Universal Sentence
            Encoder multilingual; skipped with a note when not installed, or with --no-encoder)
  +learned  with the learned part for labels with 8+ train articles (one-vs-rest logistic
            regression on our term vectors, blended in; its C and weight chosen with the rest by
            the same cross-validation; "Other"-only train articles are its background)

An article with no label predicted gets "Other", as in the task. Sub-narratives may be read
with the same system's narratives (``MODES``: a narrative assigned without any of its
sub-narratives becomes "<narrative>: Other", as the annotators wrote it; optionally a
sub-narrative needs its narrative), the reading chosen by the same cross-validation. Scores: micro and macro F1
over labels, and samples F1 (the task's official measure: F1 per article, averaged).
Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.narratives import (
    AssignParams,
    NarrativeAssigner,
    NarrativeDefinition,
    TermVectors,
    blend,
    embed_documents,
)

LANGS = ("BG", "EN", "HI", "PT", "RU")
OTHER = "Other"
LEVELS = ("narrative", "subnarrative")


def load(root: Path) -> list[dict]:
    docs = []
    for lang in LANGS:
        ann = root / lang / "subtask-2-annotations.txt"
        if not ann.exists():
            continue
        for line in ann.read_text(encoding="utf-8").splitlines():
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            name, narr, sub = parts[0], parts[1], parts[2]
            path = root / lang / "raw-documents" / name
            if not path.exists():
                continue
            docs.append(
                {
                    "id": name,
                    "lang": lang,
                    "text": path.read_text(encoding="utf-8", errors="replace"),
                    "narrative": sorted({x.strip() for x in narr.split(";") if x.strip()}),
                    "subnarrative": sorted({x.strip() for x in sub.split(";") if x.strip()}),
                }
            )
    if not docs:
        sys.exit(f"{root}: no <LANG>/subtask-2-annotations.txt with raw-documents/ found")
    return docs


def bucket(name: str, n: int) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % n


def split(docs: list[dict]) -> tuple[list[dict], list[dict]]:
    train = [d for d in docs if bucket(d["id"], 10) < 7]
    dev = [d for d in docs if bucket(d["id"], 10) >= 7]
    return train, dev


# -- scores -----------------------------------------------------------------------------------


def scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    labels = sorted({x for g in gold for x in g} | {x for p in pred for x in p})
    tp = dict.fromkeys(labels, 0)
    fp = dict.fromkeys(labels, 0)
    fn = dict.fromkeys(labels, 0)
    samples = []
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(g), set(p)
        for x in gs & ps:
            tp[x] += 1
        for x in ps - gs:
            fp[x] += 1
        for x in gs - ps:
            fn[x] += 1
        inter = len(gs & ps)
        samples.append(2 * inter / (len(gs) + len(ps)) if gs or ps else 1.0)
    T, P, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro = 2 * T / (2 * T + P + N) if T + P + N else 0.0
    # Macro over the labels present in the gold of this slice (a label never seen here would
    # count as 0 or be undefined depending on convention; this one is the common choice).
    present = sorted({x for g in gold for x in g})
    per = [2 * tp[x] / (2 * tp[x] + fp[x] + fn[x]) if (tp[x] + fp[x] + fn[x]) else 0.0 for x in present]
    return {
        "micro_f1": round(micro, 4),
        "macro_f1": round(float(np.mean(per)) if per else 0.0, 4),
        "samples_f1": round(float(np.mean(samples)) if samples else 0.0, 4),
        "n": len(gold),
    }


def by_language(docs: list[dict], level: str, pred: list[list[str]]) -> dict[str, dict[str, float]]:
    out = {}
    for lang in [*LANGS, "all"]:
        idx = [i for i, d in enumerate(docs) if lang in ("all", d["lang"])]
        if idx:
            out[lang] = scores([docs[i][level] for i in idx], [pred[i] for i in idx])
    return out


def with_other(labels: list[str]) -> list[str]:
    return labels or [OTHER]


def parent(label: str) -> str:
    """A sub-narrative's narrative: 'URW: Blaming the war on others: The West are aggressors'
    -> 'URW: Blaming the war on others'."""
    return label.rsplit(": ", 1)[0]


# How sub-narrative predictions are read in the task's format, chosen by the cross-validation:
#   flat        the sub-narratives scored above the cut, as they are
#   other       plus "<narrative>: Other" for each narrative the system assigned without any of
#               its sub-narratives (the task's convention: 22 % of the gold sub-narrative labels
#               in the released half are "<narrative>: Other")
#   other+tree  the same, and a sub-narrative is kept only when its narrative was assigned
MODES = ("flat", "other", "other+tree")


def compose(subs: list[list[str]], nars: list[list[str]] | None, mode: str) -> list[list[str]]:
    if mode == "flat" or nars is None:
        return subs
    out = []
    for sub, nar in zip(subs, nars, strict=True):
        assigned = {x for x in nar if x != OTHER}
        keep = [x for x in sub if x != OTHER and (mode != "other+tree" or parent(x) in assigned)]
        covered = {parent(x) for x in keep}
        keep += [f"{n}: Other" for n in sorted(assigned) if n not in covered]
        out.append(with_other(keep))
    return out


# -- ours -------------------------------------------------------------------------------------


def definitions(train: list[dict], level: str) -> list[NarrativeDefinition]:
    """One known narrative per label, its train documents as examples. 'Other' is not a
    narrative: it is what an article gets when none fits."""
    labels = sorted({x for d in train for x in d[level] if x != OTHER and not x.endswith(": Other")})
    out = []
    for lab in labels:
        name = lab.split(": ", 1)[-1]
        out.append(NarrativeDefinition(id=lab, name=name, examples=[d["text"] for d in train if lab in d[level]]))
    return out


class Ours:
    def __init__(self, embed_cache: dict[str, np.ndarray] | None = None, encode=None) -> None:  # type: ignore[no-untyped-def]
        self.cache = embed_cache
        self.encode = encode

    def _embed(self, texts: list[str]) -> np.ndarray:
        assert self.cache is not None
        missing = sorted({t for t in texts if t not in self.cache})
        if missing:  # label names (the definition text): a handful, encoded once
            self.cache.update(zip(missing, embed_documents(self.encode, missing), strict=True))
        return np.stack([self.cache[t] for t in texts])

    def fit(self, train: list[dict], level: str, params: AssignParams, tv: TermVectors | None = None
            ) -> NarrativeAssigner:
        if tv is None:
            tv = TermVectors()
            tv.learn([d["text"] for d in train])
        # the articles labelled "Other" alone are the learned part's background: they fit none
        background = [d["text"] for d in train if not [x for x in d[level] if x != OTHER]]
        return NarrativeAssigner(
            definitions(train, level), tv, params=params, embed=self._embed if self.cache is not None else None,
            background=background,
        )

    def predict_scores(self, model: NarrativeAssigner, docs: list[dict]) -> np.ndarray:
        texts = [d["text"] for d in docs]
        emb = self._embed(texts) if self.cache is not None else None
        s, _ = model.scores(texts, embeddings=emb)
        return s


def decide(model: NarrativeAssigner, s: np.ndarray, params: AssignParams, level: str) -> list[list[str]]:
    model.params = params
    return [with_other([model.ids[c] for c in cols]) for cols in model.decide(s)]


def folds(train: list[dict], k: int = 3) -> list[tuple[list[dict], list[dict]]]:
    return [
        ([d for d in train if bucket("f" + d["id"], k) != f], [d for d in train if bucket("f" + d["id"], k) == f])
        for f in range(k)
    ]


# What the cross-validation inside train picks from. learned_weight 0 is the model-free system;
# the learned part's C and weight are chosen with the rest, on train folds only.
GRID_W = (0.25, 0.5, 0.75)
GRID_T = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7)
GRID_R = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GRID_C = (3.0, 10.0, 30.0)
GRID_L = (0.25, 0.5, 0.75, 1.0)
CV_BY_WEIGHT: dict[tuple[str, bool, bool], dict[str, float]] = {}


def narrative_level(ours: Ours, train: list[dict], docs: list[dict], learned: bool) -> list[list[str]]:
    """The narratives the same system assigns to ``docs`` when fit on ``train``, with the
    narrative level's defaults (AssignParams, chosen on train): what the sub-narrative level
    composes with inside the cross-validation."""
    params = AssignParams() if learned else AssignParams(learned_weight=0.0)
    model = ours.fit(train, "narrative", params)
    return decide(model, ours.predict_scores(model, docs), params, "narrative")


def tune_ours(ours: Ours, train: list[dict], level: str, encoder: bool, learned: bool = False,
              objective: str = "samples_f1") -> tuple[AssignParams, str]:
    """The parameters, and for sub-narratives the reading (MODES), with the best mean
    ``objective`` over the train folds."""
    grid_b = (0.5, 0.7) if encoder else (0.0,)
    grid_cl = [(GRID_C[0], 0.0)] + ([(c, lw) for c in GRID_C for lw in GRID_L] if learned else [])
    modes = MODES if level == "subnarrative" else ("flat",)
    results: dict[tuple, list[float]] = {}
    for tr, va in folds(train):
        gold = [d[level] for d in va]
        nars = narrative_level(ours, tr, va, learned) if level == "subnarrative" else None
        tv = TermVectors()
        tv.learn([d["text"] for d in tr])
        rows = tv.vectors([d["text"] for d in va])
        probs = {}
        for w in GRID_W:
            for b in grid_b:
                model = ours.fit(tr, level, AssignParams(centroid_weight=w, encoder_weight=b, learned_weight=0.0), tv)
                base = ours.predict_scores(model, va)
                if learned and not probs:
                    background = [d["text"] for d in tr if not [x for x in d[level] if x != OTHER]]
                    for c in GRID_C:
                        lin = model.fit_learned(c, background)
                        probs[c] = (lin.probabilities(rows), lin.learned) if lin is not None else None
                for c, lw in grid_cl:
                    if lw and probs.get(c) is None:
                        continue
                    s = blend(base, *probs[c], lw) if lw else base
                    for t in GRID_T:
                        for r in GRID_R:
                            q = AssignParams(centroid_weight=w, encoder_weight=b, threshold=t, encoder_threshold=t,
                                             relative=r, learned_weight=lw, learned_c=c, learned_threshold=t,
                                             learned_relative=r)
                            pred = decide(model, s, q, level)
                            for mode in modes:
                                results.setdefault((w, b, c, lw, t, r, mode), []).append(
                                    scores(gold, compose(pred, nars, mode))[objective])
    (w, b, c, lw, t, r, mode), _ = max(results.items(), key=lambda kv: (np.mean(kv[1]), -kv[0][4]))
    # the best train-fold score reached with each centroid weight (the rest tuned with it): how
    # clearly the cross-validation prefers the weight it picked
    CV_BY_WEIGHT[(level, encoder, learned)] = {
        str(gw): round(max(float(np.mean(v)) for k, v in results.items() if k[0] == gw), 4) for gw in GRID_W}
    return AssignParams(centroid_weight=w, encoder_weight=b, threshold=t, encoder_threshold=t, relative=r,
                        learned_weight=lw, learned_c=c, learned_threshold=t, learned_relative=r,
                        learned_centroid_weight=w), mode


# -- baseline ---------------------------------------------------------------------------------


def baseline_fit_predict(train: list[dict], test: list[dict], level: str, c: float,
                         emb: dict[str, np.ndarray] | None = None) -> list[list[str]]:
    """TF-IDF + one-vs-rest LinearSVC; with ``emb`` (text -> the encoder's document vector) the
    vector is appended to each article's tf-idf features (both L2-normalised): the baseline with
    the same encoder as ours."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    labels = [[x for x in d[level] if x != OTHER] for d in train]
    mlb = MultiLabelBinarizer()
    y = mlb.fit_transform(labels)
    keep = y.sum(axis=0) > 0
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=200_000)
    x = vec.fit_transform([d["text"] for d in train])
    x_test = vec.transform([d["text"] for d in test])
    if emb is not None:
        x = sparse.hstack([x, np.stack([emb[d["text"]] for d in train])]).tocsr()
        x_test = sparse.hstack([x_test, np.stack([emb[d["text"]] for d in test])]).tocsr()
    clf = OneVsRestClassifier(LinearSVC(C=c, class_weight="balanced"))
    clf.fit(x, y[:, keep])
    pred = clf.predict(x_test)
    names = np.asarray(mlb.classes_)[keep]
    return [with_other([str(names[j]) for j in np.flatnonzero(row)]) for row in np.asarray(pred)]


def tune_baseline(train: list[dict], level: str, emb: dict[str, np.ndarray] | None = None) -> float:
    best = (-1.0, 1.0)
    for c in (0.1, 0.3, 1.0, 3.0):
        f = np.mean(
            [
                scores([d[level] for d in va], baseline_fit_predict(tr, va, level, c, emb))["samples_f1"]
                for tr, va in folds(train)
            ]
        )
        if f > best[0]:
            best = (float(f), c)
    return best[1]


# -- encoder ----------------------------------------------------------------------------------


def encoder_cache(spec: str, docs: list[dict], cache_dir: Path):  # type: ignore[no-untyped-def]
    """(name, text -> document vector, encode) for the encoder ``spec`` names, as FIMISCOPE_ENCODER
    does (``fimiscope.index.encoders.load_encoder``: a packaged encoder such as usem3, or a local
    sentence-transformers folder); None, said on stderr, when it is not installed."""
    from fimiscope.core.errors import ConfigError
    from fimiscope.index.encoders import encode_cached, load_encoder

    try:
        enc = load_encoder(spec)
    except ConfigError as exc:
        print(f"encoder rows skipped: {exc}", file=sys.stderr)
        return None
    texts = sorted({d["text"] for d in docs})
    t0 = time.perf_counter()
    vecs = embed_documents(lambda pieces: encode_cached(enc, list(pieces), cache_dir), texts)
    print(f"encoder {enc.name}: {len(texts)} documents in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return enc.name, dict(zip(texts, vecs, strict=True)), enc.encode


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--test", type=Path, help="fit on all of DATA and score this folder once")
    ap.add_argument("--encoder", default=os.environ.get("FIMISCOPE_ENCODER") or "usem3",
                    help="the encoder rows' encoder, as FIMISCOPE_ENCODER takes it: a packaged encoder's name "
                         "(default usem3, the [multilingual] extra) or a local sentence-transformers folder")
    ap.add_argument("--no-encoder", action="store_true", help="skip the encoder rows")
    ap.add_argument("--only", nargs="*", help="score only these of our systems (the baseline always runs)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the baseline (deterministic: its figures do not change between runs)")
    ap.add_argument("--narrative-defaults", action="store_true",
                    help="narrative level: AssignParams' defaults (an earlier run's cross-validation chose "
                         "them) instead of tuning again; the sub-narrative level is tuned as always")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache")
    args = ap.parse_args()

    docs = load(args.data)
    if args.test:
        train, test, split_name = docs, load(args.test), "test"
    else:
        (train, test), split_name = split(docs), "dev"
    print(f"train {len(train)} documents; {split_name} {len(test)}", file=sys.stderr)

    enc = None if args.no_encoder else encoder_cache(args.encoder, train + test, args.cache_dir)
    systems: dict[str, dict] = {}
    chosen: dict[str, dict] = {}
    timing: dict[str, float] = {}
    narrative_pred: dict[str, list[list[str]]] = {}
    for level in LEVELS:
        if not args.no_baseline:
            t0 = time.perf_counter()
            c = tune_baseline(train, level)
            pred = baseline_fit_predict(train, test, level, c)
            timing[f"baseline_{level}"] = round(time.perf_counter() - t0, 1)
            systems.setdefault("baseline", {})[level] = by_language(test, level, pred)
            chosen.setdefault("baseline", {})[level] = {"C": c}
            if enc is not None:
                t0 = time.perf_counter()
                c = tune_baseline(train, level, enc[1])
                pred = baseline_fit_predict(train, test, level, c, enc[1])
                timing[f"baseline+encoder_{level}"] = round(time.perf_counter() - t0, 1)
                systems.setdefault("baseline+encoder", {})[level] = by_language(test, level, pred)
                chosen.setdefault("baseline+encoder", {})[level] = {"C": c}

        variants = [("ours", Ours(None), False), ("ours+learned", Ours(None), True)]
        if enc is not None:
            variants.append(("ours+encoder", Ours(enc[1], enc[2]), False))
            variants.append(("ours+enc+learned", Ours(enc[1], enc[2]), True))
        for name, ours, learned in variants:
            if args.only and name not in args.only:
                continue
            t0 = time.perf_counter()
            if level == "narrative" and args.narrative_defaults:
                params = AssignParams() if learned else AssignParams(learned_weight=0.0)
                mode = "flat"
            else:
                params, mode = tune_ours(ours, train, level, ours.cache is not None, learned)
            model = ours.fit(train, level, params)
            pred = decide(model, ours.predict_scores(model, test), params, level)
            if level == "narrative":
                narrative_pred[name] = pred
            else:  # read with the same system's narratives, as the cross-validation chose
                pred = compose(pred, narrative_pred.get(name), mode)
            timing[f"{name}_{level}"] = round(time.perf_counter() - t0, 1)
            systems.setdefault(name, {})[level] = by_language(test, level, pred)
            chosen.setdefault(name, {})[level] = {**params.as_dict(), "reading": mode}
            cv = CV_BY_WEIGHT.get((level, ours.cache is not None, learned))
            if cv and not (level == "narrative" and args.narrative_defaults):
                chosen[name][level]["cv_by_centroid_weight"] = cv
                print(f"{name} {level}: best train-fold samples F1 by centroid weight {cv}", file=sys.stderr)
        print(f"{level}: done", file=sys.stderr)

    for level in LEVELS:
        print(f"\n{level}s ({split_name}; micro F1 / macro F1 / samples F1)")
        first = next(iter(systems.values()))
        langs = [lang for lang in [*LANGS, "all"] if lang in first[level]]
        print(f"{'system':<18}" + "".join(f"{lang:>22}" for lang in langs))
        for name, per in systems.items():
            row = per[level]
            print(f"{name:<18}" + "".join(
                f"{row[lang]['micro_f1']:>8.3f}{row[lang]['macro_f1']:>7.3f}{row[lang]['samples_f1']:>7.3f}"
                for lang in langs))
        print(f"{'n':<18}" + "".join(f"{first[level][lang]['n']:>22}" for lang in langs))
    print(
        json.dumps(
            {
                "eval": "narratives",
                "data": "SemEval-2025 Task 10 subtask 2",
                "split": split_name,
                "train_documents": len(train),
                "scored_documents": len(test),
                "encoder": enc[0] if enc else None,
                "systems": systems,
                "parameters": chosen,
                "seconds": timing,
            }
        )
    )


if __name__ == "__main__":
    main()
