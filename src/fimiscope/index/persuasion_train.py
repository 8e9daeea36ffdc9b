"""Training the persuasion model on SemEval-2023 Task 3 subtask 3 data (needs scikit-learn, in
the ``bench`` extra; inference does not).

The data folder holds one folder per language (``en fr ge it po ru``, or ISO codes), each with
``train-articles/article<ID>.txt`` and ``train-labels-subtask-3.txt`` (article id, paragraph =
line number in the article, comma-separated techniques). ``split_articles`` cuts by article
(never a paragraph of one article on both sides), by a hash of its id, so it is stable.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fimiscope.index.persuasion import (
    TECHNIQUES,
    ParagraphFeatures,
    PersuasionHead,
    PersuasionModel,
    _language,
    featurize,
    normalise_label,
)

THRESHOLD_GRID = np.round(np.arange(0.05, 0.91, 0.025), 3)


@dataclass(slots=True)
class Example:
    language: str
    article: str
    paragraph: int
    text: str
    labels: tuple[str, ...]


def load_semeval(root: str | Path, languages: Sequence[str] | None = None) -> list[Example]:
    """Labelled paragraphs of every language folder under ``root``."""
    out: list[Example] = []
    base = Path(root)
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        lang = _language(folder.name) or folder.name
        if languages and lang not in languages:
            continue
        labels_file = folder / "train-labels-subtask-3.txt"
        if not labels_file.exists():
            continue
        lines_of: dict[str, list[str]] = {}
        for raw in labels_file.read_text(encoding="utf-8").splitlines():
            parts = raw.split("\t")
            if len(parts) < 2 or not parts[1].strip().isdigit():
                continue
            art, par = parts[0].strip(), int(parts[1])
            if art not in lines_of:
                path = folder / "train-articles" / f"article{art}.txt"
                lines_of[art] = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            lines = lines_of[art]
            if not 1 <= par <= len(lines) or not lines[par - 1].strip():
                continue
            labs = tuple(dict.fromkeys(t for t in (normalise_label(x) for x in (parts[2] if len(parts) > 2 else "")
                                                   .split(",") if x.strip()) if t))
            out.append(Example(lang, art, par, lines[par - 1].strip(), labs))
    return out


def is_dev(article: str, share: float = 0.2) -> bool:
    h = int.from_bytes(hashlib.sha256(article.encode()).digest()[:4], "big")
    return (h % 1000) < share * 1000


def split_articles(examples: Sequence[Example], share: float = 0.2) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not is_dev(f"{e.language}:{e.article}", share)]
    dev = [e for e in examples if is_dev(f"{e.language}:{e.article}", share)]
    return train, dev


def subsample(examples: Sequence[Example], share: float, salt: str = "sub") -> list[Example]:
    """The examples of a stable ``share`` of their articles (a hash of ``salt``, language and
    article id): a smaller set cut the same way as ``split_articles``, for what is too slow to
    run on all of it (encoding every paragraph on a shared CPU). ``share >= 1``: all of them."""
    if share >= 1:
        return list(examples)
    return [e for e in examples if is_dev(f"{salt}:{e.language}:{e.article}", share)]


def label_matrix(examples: Sequence[Example], labels: Sequence[str] = TECHNIQUES) -> NDArray[np.int8]:
    y = np.zeros((len(examples), len(labels)), dtype=np.int8)
    index = {t: i for i, t in enumerate(labels)}
    for r, e in enumerate(examples):
        for t in e.labels:
            if t in index:
                y[r, index[t]] = 1
    return y


def _fit(x: Any, y: NDArray[np.int8], c: float) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    from sklearn.linear_model import LogisticRegression

    w = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    b = np.full(y.shape[1], -10.0, dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].sum() < 2 or y[:, j].sum() == len(y):
            continue
        clf = LogisticRegression(C=c, solver="liblinear", max_iter=200)
        clf.fit(x, y[:, j])
        w[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return w, b


def _sigmoid(z: NDArray[Any]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
    return out


def best_f1_thresholds(p: NDArray[np.float32], y: NDArray[np.int8]) -> NDArray[np.float32]:
    out = np.full(y.shape[1], 0.5, dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].sum() == 0:
            continue
        best = (-1.0, 0.5)
        for t in THRESHOLD_GRID:
            pred = p[:, j] >= t
            tp = float((pred & (y[:, j] == 1)).sum())
            f1 = 2 * tp / (pred.sum() + y[:, j].sum()) if tp else 0.0
            if f1 > best[0]:
                best = (f1, float(t))
        out[j] = best[1]
    return out


def precision_thresholds(p: NDArray[np.float32], y: NDArray[np.int8], precision: float, min_hits: int = 3
                         ) -> NDArray[np.float32]:
    """Per label, the lowest threshold whose precision on (p, y) reaches ``precision`` with at
    least ``min_hits`` true positives; 1.01 (never) when none does."""
    out = np.full(y.shape[1], 1.01, dtype=np.float32)
    grid = np.round(np.arange(0.05, 0.991, 0.01), 3)
    for j in range(y.shape[1]):
        for t in grid:
            pred = p[:, j] >= t
            tp = int((pred & (y[:, j] == 1)).sum())
            if tp >= min_hits and tp / max(int(pred.sum()), 1) >= precision:
                out[j] = float(t)
                break
    return out


class Design:
    """The n-gram vocabulary (document frequency >= ``min_df``) and dense feature columns."""

    def __init__(self, feats: Sequence[ParagraphFeatures], min_df: int = 2) -> None:
        df: dict[str, int] = {}
        dense: set[str] = set()
        for f in feats:
            for name in f.ngrams:
                df[name] = df.get(name, 0) + 1
            dense.update(f.dense)
        kept = sorted(n for n, c in df.items() if c >= min_df)
        self.vocab = {n: i for i, n in enumerate(kept)}
        n = max(len(feats), 1)
        self.idf = np.asarray([math.log((1 + n) / (1 + df[w])) + 1.0 for w in kept], dtype=np.float32)
        self.dense = {d: i for i, d in enumerate(sorted(dense))}
        for lang in ("en", "fr", "de", "it", "pl", "ru", "cs", "sk", "uk", "xx"):
            self.dense.setdefault("lang:" + lang, len(self.dense))

    def model(self, labels: Sequence[str], w: NDArray[np.float32] | None = None,
              b: NDArray[np.float32] | None = None) -> PersuasionModel:
        n = len(self.vocab) + len(self.dense)
        return PersuasionModel(
            "draft", tuple(labels), self.vocab, self.idf, self.dense,
            w if w is not None else np.zeros((n, len(labels)), dtype=np.float32),
            b if b is not None else np.zeros(len(labels), dtype=np.float32),
            np.full(len(labels), 0.5, dtype=np.float32), np.full(len(labels), 1.01, dtype=np.float32), 0.0)


def _featurize(examples: Sequence[Example], ngrams: bool = True) -> list[ParagraphFeatures]:
    feats = [featurize(e.text, e.language) for e in examples]
    if not ngrams:
        for f in feats:
            f.ngrams = {}
    return feats


def train(examples: Sequence[Example], *, dev: Sequence[Example] = (), c: float = 2.0, folds: int = 2,
          max_ngrams: int = 40000, min_df: int = 3, signal_precision: float = 0.6, ngrams: bool = True,
          version: str = "draft", log: Any = None) -> PersuasionModel:
    """One logistic regression per technique; decision thresholds by ``folds``-fold
    cross-validation over articles of ``examples``; signal thresholds on ``dev`` (if given)."""
    say = log or (lambda _m: None)
    labels = TECHNIQUES
    feats = _featurize(examples, ngrams)
    y = label_matrix(examples, labels)
    design = Design(feats, min_df)
    draft = design.model(labels)
    x = draft.matrix(feats)
    say(f"{x.shape[0]} paragraphs, {len(design.vocab)} n-grams, {len(design.dense)} cue features")
    oof = np.zeros(y.shape, dtype=np.float32)
    fold_of = np.asarray([int(hashlib.sha256(f"{e.language}:{e.article}".encode()).digest()[5]) % folds
                          for e in examples])
    for k in range(folds):
        tr, te = fold_of != k, fold_of == k
        w, b = _fit(x[tr], y[tr], c)
        oof[te] = _sigmoid(np.asarray(x[te] @ w) + b)
        say(f"fold {k + 1}/{folds} done")
    thresholds = best_f1_thresholds(oof, y)
    w, b = _fit(x, y, c)
    # Keep the n-grams that weigh most (for a small file), then the dense features.
    n_vocab = len(design.vocab)
    if n_vocab > max_ngrams:
        strength = np.abs(w[:n_vocab]).max(axis=1)
        keep = np.sort(np.argsort(-strength)[:max_ngrams])
        inv = sorted(design.vocab, key=design.vocab.__getitem__)
        design.vocab = {inv[i]: r for r, i in enumerate(keep)}
        design.idf = design.idf[keep]
        w = np.vstack([w[keep], w[n_vocab:]])
    model = design.model(labels, w.astype(np.float32), b.astype(np.float32))
    model.thresholds = thresholds
    model.version = version
    model.bigrams = True
    model.meta = {"c": c, "folds": folds, "min_df": min_df, "train_paragraphs": len(examples), "ngrams": ngrams,
                  "languages": sorted({e.language for e in examples})}
    # Round-trip through the stored form, so what is measured is what ships.
    model = PersuasionModel.from_json(model.to_json())
    if dev:
        p = model.probabilities(_featurize(dev, ngrams))
        model.signal_thresholds = precision_thresholds(p, label_matrix(dev, labels), signal_precision)
        model.signal_precision = signal_precision
        model.meta["dev_paragraphs"] = len(dev)
    return model


def train_head(examples: Sequence[Example], vectors: NDArray[np.float32], *, encoder: str, free: PersuasionModel,
               dev: Sequence[Example] = (), dev_vectors: NDArray[np.float32] | None = None, c: float = 1.0,
               folds: int = 2, signal_precision: float = 0.6, version: str = "draft",
               log: Any = None) -> PersuasionHead:
    """The encoder head: one logistic regression per technique on the paragraphs' ``vectors``;
    its decision thresholds by ``folds``-fold cross-validation over articles (best F1 of the head
    alone); the signal thresholds of the combined score (``PersuasionHead.combine`` with ``free``)
    on ``dev``, as ``train`` does for the model-free model."""
    say = log or (lambda _m: None)
    labels = TECHNIQUES
    x = np.asarray(vectors, dtype=np.float32)
    y = label_matrix(examples, labels)
    oof = np.zeros(y.shape, dtype=np.float32)
    fold_of = np.asarray([int(hashlib.sha256(f"{e.language}:{e.article}".encode()).digest()[5]) % folds
                          for e in examples])
    for k in range(folds):
        tr, te = fold_of != k, fold_of == k
        w, b = _fit(x[tr], y[tr], c)
        oof[te] = _sigmoid(x[te] @ w + b)
        say(f"head fold {k + 1}/{folds} done")
    w, b = _fit(x, y, c)
    head = PersuasionHead(encoder, version, tuple(labels), w, b, best_f1_thresholds(oof, y),
                          np.full(len(labels), 1.01, dtype=np.float32), 0.0,
                          {"c": c, "folds": folds, "train_paragraphs": len(examples), "dim": int(x.shape[1]),
                           "free_model": free.version, "languages": sorted({e.language for e in examples})})
    head = PersuasionHead.from_json(head.to_json())  # what is measured is what ships
    if dev and dev_vectors is not None:
        p, _t = head.combine(free.probabilities(_featurize(dev)), free.thresholds, dev_vectors)
        head.signal_thresholds = precision_thresholds(p, label_matrix(dev, labels), signal_precision)
        head.signal_precision = signal_precision
        head.meta["dev_paragraphs"] = len(dev)
    return head


def score_with_head(model: PersuasionModel, head: PersuasionHead, examples: Sequence[Example],
                    vectors: NDArray[np.float32]) -> NDArray[np.int8]:
    """``score`` with the encoder head combined in."""
    p, t = head.combine(model.probabilities(_featurize(examples)), model.thresholds, vectors)
    out: NDArray[np.int8] = (p >= t).astype(np.int8)
    return out


def score(model: PersuasionModel, examples: Sequence[Example], ngrams: bool = True) -> NDArray[np.int8]:
    """Predicted label matrix (decision thresholds) for ``examples``."""
    p = model.probabilities(_featurize(examples, ngrams))
    out: NDArray[np.int8] = (p >= model.thresholds).astype(np.int8)
    return out


def f1s(pred: NDArray[np.int8], gold: NDArray[np.int8]) -> dict[str, float]:
    tp = (pred & gold).sum(axis=0).astype(float)
    fp = (pred & (1 - gold)).sum(axis=0).astype(float)
    fn = ((1 - pred) & gold).sum(axis=0).astype(float)
    micro_p = tp.sum() / max(tp.sum() + fp.sum(), 1)
    micro_r = tp.sum() / max(tp.sum() + fn.sum(), 1)
    micro = 2 * micro_p * micro_r / max(micro_p + micro_r, 1e-9)
    per = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), np.nan)
    present = gold.sum(axis=0) > 0
    macro = float(np.nanmean(per[present])) if present.any() else 0.0
    return {"micro_f1": round(float(micro), 4), "macro_f1": round(macro, 4), "micro_p": round(float(micro_p), 4),
            "micro_r": round(float(micro_r), 4)}
