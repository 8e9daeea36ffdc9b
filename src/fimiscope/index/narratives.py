"""Narrative kernels, free of storage: term vectors, known-narrative assignment with the
sentences that carry it, incremental clustering of what fits no known narrative, and bursts.

**Term vectors** (``TermVectors``): the BM25 analyzer's terms (NFKC, casefold, diacritics
folded, stopwords of en/cs/ru dropped, Cyrillic transliterated, words cut to a prefix) plus the
name and quoted-name anchors laundering uses (``index/anchors.py``: "Zelenskogo" and
"Zelensky" meet), hashed into ``2**18`` columns, sublinear tf x idf, L2-normalised. Document
frequencies grow one document at a time (``vectors(..., learn=True)``), so a document's vector
depends only on the documents before it, never on how a run was cut into batches.

**Known narratives** (``NarrativeAssigner``): a narrative is its name, description, keywords
and example texts. Its score on a document mixes the cosine to the narrative's centroid
(Rocchio) and to its nearest example (a narrative is often several stories); with an encoder
the same two cosines on sentence vectors are mixed in. A document gets every narrative whose
score clears the threshold and a share of its best narrative's score (multi-label). The
carrying sentences are the document's sentences scored the same way. Narratives with many
examples (8+) also get a learned part (``LinearNarratives``: one-vs-rest logistic regression on
the examples) whose probability is blended in: a trained classifier wins once labelled
documents are numerous, the prototypes win for narratives with a handful.

**Emerging narratives** (``EmergingClusters``): first-story detection as in topic detection
and tracking. A document joins the narrative of its nearest earlier document when their cosine
clears ``join``, or founds a new one named after itself. Nothing is refit: adding a day never
renumbers yesterday's narratives. Maintenance merges narratives whose centroids converge
(the older id survives) and splits one whose members form two separate groups (the founder's
side keeps the id); both are returned as lineage.

**Bursts** (``bursts``): Kleinberg's two-state automaton over daily counts against daily
totals ("Bursty and hierarchical structure in streams", KDD 2002, the batched form).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from fimiscope.index.anchors import STEM
from fimiscope.index.anchors import _fold as fold_name
from fimiscope.index.bm25 import Analyzer
from fimiscope.index.bm25 import _term as _analyzer_term

__all__ = [
    "BURST_GAMMA",
    "BURST_METHOD",
    "BURST_S",
    "N_FEATURES",
    "AssignParams",
    "Assignment",
    "Burst",
    "ClusterParams",
    "EmergingClusters",
    "Lineage",
    "LinearNarratives",
    "NarrativeAssigner",
    "NarrativeDefinition",
    "TermVectors",
    "blend",
    "bursts",
    "distinctive_terms",
    "embed_documents",
    "learned_fingerprint",
    "passages",
]

N_FEATURES = 1 << 18
ANALYZER = Analyzer(prefix=6)
Embed = Callable[[Sequence[str]], NDArray[np.float32]]


@lru_cache(maxsize=1 << 19)
def _column(term: str) -> int:
    # crc32, not hash(): Python salts str hashes per process, and columns must persist.
    return zlib.crc32(term.encode("utf-8")) & (N_FEATURES - 1)


_WORD = re.compile(r"\w+", re.UNICODE)


def _word_column(word: str) -> int:
    """The column of a casefolded word's analyzer term; -1 for a stopword or nothing."""
    term = _analyzer_term(word, ANALYZER.prefix, ANALYZER.transliterate, ANALYZER.stopwords, ANALYZER.min_len)
    return _column(term) if term else -1


class _Lookup(dict[str, int]):
    """word -> column, computed on the first miss. A hit is a plain dict lookup, done in C by
    ``map(lookup.__getitem__, words)``: the vectors' hot loop (an ``lru_cache`` wrapper per
    word cost 3x more). Emptied when it holds ``limit`` words, so memory stays bounded."""

    def __init__(self, compute: Callable[[str], int], limit: int) -> None:
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        col = self[word] = self.compute(word)
        return col


# Capitalised words of the Latin and Cyrillic alphabets (the scripts that have case).
_CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽЀ-Я][\w'’-]{2,}")
_SENTENCE_START = frozenset(".!?…:;\n\"«“„(")


def _name_anchor(word: str) -> str:
    folded = fold_name(word)[:STEM]
    return "e:" + folded if len(folded) >= 3 else ""


def _anchor_column(word: str) -> int:
    term = _name_anchor(word)
    return _column(term) if term else -1


_WORD_COLUMNS = _Lookup(_word_column, 1 << 21)
_ANCHOR_COLUMNS = _Lookup(_anchor_column, 1 << 19)


def _anchor_words(text: str) -> list[str]:
    """The words that give the name anchors of ``index/anchors.py`` (a capitalised word not
    opening a sentence, folded to Latin and cut to its stem, so "Zelenskogo" and "Zelensky"
    meet); numbers and links are left out: they belong to one story, not to a narrative. A lean
    pass instead of ``anchors()``, which also collects what is not used here."""
    out = []
    for m in _CAPITALISED.finditer(text):
        j = m.start() - 1
        while j >= 0 and text[j] in " \t":
            j -= 1
        if j < 0 or text[j] in _SENTENCE_START:
            continue
        out.append(m.group())
    return out


class TermVectors:
    """Hashed tf-idf over the analyzer's terms and name anchors, with document frequencies
    learnt in document order."""

    def __init__(self, df: NDArray[np.int32] | None = None, n_docs: int = 0, *, anchors: bool = True) -> None:
        self.df = np.zeros(N_FEATURES, dtype=np.int32) if df is None else np.asarray(df, dtype=np.int32).copy()
        if self.df.shape != (N_FEATURES,):
            raise ValueError(f"document frequencies must have {N_FEATURES} entries")
        self.n_docs = int(n_docs)
        self.anchors = anchors

    def term_counts(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """(texts x N_FEATURES) term counts, indices sorted. Python touches each word once (a
        dict lookup); the rest is done on the whole batch at once."""
        # the analyzer's steps (bm25.Analyzer.terms) with the column looked up per distinct word
        # in one cached call
        cols: list[int] = []
        lens = np.zeros(len(texts), dtype=np.int64)
        words_of = _WORD_COLUMNS.__getitem__
        names_of = _ANCHOR_COLUMNS.__getitem__
        for i, text in enumerate(texts):
            n = len(cols)
            cols.extend(map(words_of, _WORD.findall(unicodedata.normalize("NFKC", text).casefold())))
            if self.anchors:
                cols.extend(map(names_of, _anchor_words(text)))
            lens[i] = len(cols) - n
        c = np.fromiter(cols, dtype=np.int64, count=len(cols))
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
        keep = c >= 0
        m = sparse.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (doc[keep], c[keep])), shape=(len(texts), N_FEATURES)
        )
        m.sum_duplicates()
        m.sort_indices()
        return m

    def counts(self, text: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Distinct columns of ``text`` and their term counts."""
        m = self.term_counts([text])
        return m.indices.astype(np.int64), m.data.astype(np.float32)

    def idf(self, cols: NDArray[np.int64]) -> NDArray[np.float32]:
        out: NDArray[np.float32] = (np.log((1.0 + self.n_docs) / (1.0 + self.df[cols])) + 1.0).astype(np.float32)
        return out

    def vectors(self, texts: Sequence[str], *, learn: bool = False) -> sparse.csr_matrix:
        """One L2-normalised row per text. With ``learn`` each text's frequencies are added after
        its own vector is made, so a vector never depends on the texts after it (done for the
        batch at once: a text's document frequency is the stored one plus the earlier texts of
        the batch that hold the term)."""
        m = self.term_counts(texts)
        n = len(texts)
        cols = m.indices.astype(np.int64)
        doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(m.indptr))
        if learn and len(cols):
            order = np.lexsort((doc, cols))
            ordered = cols[order]
            first = np.r_[True, ordered[1:] != ordered[:-1]]
            starts = np.flatnonzero(first)
            rank = np.arange(len(order)) - starts[np.cumsum(first) - 1]
            earlier = np.empty(len(order), dtype=np.int64)
            earlier[order] = rank
            df = self.df[cols] + earlier
            n_docs: Any = self.n_docs + doc
        else:
            df = self.df[cols]
            n_docs = self.n_docs
        idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        w = ((1.0 + np.log(m.data)) * idf).astype(np.float32)
        norms = np.sqrt(np.bincount(doc, weights=w.astype(np.float64) ** 2, minlength=n))
        if len(w):
            w = (w / np.where(norms > 0, norms, 1.0)[doc]).astype(np.float32)
        if learn:
            self._add(cols, n)
        return sparse.csr_matrix((w, m.indices, m.indptr), shape=(n, N_FEATURES))

    def _add(self, cols: NDArray[np.int64], n: int) -> None:
        if len(cols):
            self.df += np.bincount(cols, minlength=N_FEATURES).astype(np.int32)
        self.n_docs += n

    def learn(self, texts: Sequence[str]) -> None:
        for i in range(0, len(texts), 2000):
            m = self.term_counts(texts[i : i + 2000])
            self._add(m.indices.astype(np.int64), m.shape[0])


def _normalise_rows(m: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    out: NDArray[np.float32] = (m / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def _sparse_normalise_rows(m: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.maximum(norms, 1e-12)).dot(m).tocsr().astype(np.float32)


def passages(text: str, words: int = 120, limit: int = 16) -> list[str]:
    """A text cut into runs of about ``words`` words (at most ``limit``): sentence encoders read
    a few hundred tokens, and a long article's narrative is often past its first paragraph."""
    tokens = text.split()
    if not tokens:
        return [""]
    return [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)][:limit]


def embed_documents(embed: Embed, texts: Sequence[str], *, words: int = 120) -> NDArray[np.float32]:
    """One normalised vector per text: the mean of its passages' vectors."""
    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for piece in passages(text, words):
            pieces.append(piece)
            owner.append(i)
    if not pieces:
        return np.zeros((0, 0), dtype=np.float32)
    vecs = np.asarray(embed(pieces), dtype=np.float32)
    sums = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
    np.add.at(sums, np.asarray(owner), vecs)
    return _normalise_rows(sums)


# -- known narratives ------------------------------------------------------------------------------


@dataclass(slots=True)
class NarrativeDefinition:
    """What an analyst gives: a name, a description, keywords, example documents or sentences."""

    id: str
    name: str
    description: str = ""
    keywords: Sequence[str] = ()
    examples: Sequence[str] = ()

    def definition_text(self) -> str:
        return ". ".join(p for p in (self.name, self.description, ", ".join(self.keywords)) if p)


@dataclass(slots=True)
class AssignParams:
    """Scoring and decision. The defaults were chosen on the SemEval-2025 Task 10 train split by
    ``eval/narratives.py`` (grid with 3-fold cross-validation inside train; dev never used)."""

    centroid_weight: float = 0.25  # centroid cosine vs nearest-example cosine
    encoder_weight: float = 0.5  # share of the encoder's score when an encoder is on
    threshold: float = 0.15
    encoder_threshold: float = 0.4  # the same with an encoder on: its cosines run higher
    relative: float = 0.9  # a label also needs this share of the document's best score
    max_labels: int = 5
    sentences: int = 3  # carrying sentences kept per label
    # The learned part (``LinearNarratives``), for narratives with many examples: its share of
    # the score, its inverse regularisation, how many examples a narrative needs for it, and the
    # decision's threshold and relative cut when it is on (its probabilities run higher than
    # cosines). Chosen the same way, on narratives (eval/narratives.py, docs/evaluation.md).
    learned_weight: float = 1.0
    learned_c: float = 30.0
    learned_min_examples: int = 8
    learned_threshold: float = 0.3
    learned_relative: float = 0.6
    # the centroid weight when the learned part is on: 3-fold cross-validation inside the train
    # split preferred 0.75 there (best train-fold samples F1 0.500 vs 0.487 at 0.25 for narratives,
    # 0.313 vs 0.310 for sub-narratives; 0.484 vs 0.471 with the encoder), and 0.25 without it
    learned_centroid_weight: float = 0.75

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(slots=True)
class Assignment:
    narrative_id: str
    score: float
    sentences: list[tuple[int, int, float]] = field(default_factory=list)  # (start, end, score)
    components: dict[str, float] = field(default_factory=dict)


class LinearNarratives:
    """One-vs-rest logistic regression over the same term vectors, fit on the known narratives'
    examples: what a trained classifier adds once a narrative has dozens of labelled documents
    (the prototype scores stay best for narratives with a handful). Each narrative's positives
    are its examples; its negatives the other narratives' examples and any ``background`` rows
    (documents known to fit none). Classes are weighted to balance (a narrative with 10 examples
    among 2,000 is not drowned); L2-regularised (``c`` as in scikit-learn's ``C``); solved with
    L-BFGS in blocks of narratives over the most frequent columns, so memory stays bounded."""

    def __init__(self, columns: NDArray[np.int64], weights: NDArray[np.float32], bias: NDArray[np.float32],
                 learned: NDArray[np.bool_]) -> None:
        self.columns = columns  # the hashed columns kept, sorted
        self.weights = weights  # columns x learned narratives
        self.bias = bias
        self.learned = learned  # narratives (all of them) that have a model

    @classmethod
    def fit(
        cls,
        rows: sparse.csr_matrix,
        labels: sparse.csr_matrix,
        *,
        c: float = 10.0,
        min_examples: int = 8,
        max_columns: int = 1 << 15,
        block: int = 32,
        max_iter: int = 200,
    ) -> LinearNarratives | None:
        """``rows``: (texts x N_FEATURES); ``labels``: (texts x narratives), 1 where a text is an
        example of a narrative. None when fewer than two narratives have ``min_examples``."""
        from scipy.optimize import minimize

        labels = sparse.csr_matrix(labels, dtype=np.float32)
        n = rows.shape[0]
        pos = np.asarray(labels.sum(axis=0)).ravel()
        learned = (pos >= min_examples) & (pos < n)
        if learned.sum() < 2:
            return None
        x = sparse.csr_matrix(rows, dtype=np.float64)
        df = np.bincount(x.indices, minlength=x.shape[1])
        keep = np.flatnonzero(df >= 2)
        if len(keep) > max_columns:
            keep = np.sort(keep[np.argsort(-df[keep], kind="stable")[:max_columns]])
        x = x[:, keep].tocsr()
        xt = x.T.tocsr()
        y_all = np.asarray(labels[:, np.flatnonzero(learned)].todense(), dtype=np.float64)
        d = x.shape[1]
        w_out = np.zeros((d, y_all.shape[1]), dtype=np.float32)
        b_out = np.zeros(y_all.shape[1], dtype=np.float32)
        for lo in range(0, y_all.shape[1], block):
            y = y_all[:, lo : lo + block]
            k = y.shape[1]
            npos = y.sum(axis=0)
            # balanced class weights, as scikit-learn's class_weight="balanced"
            sw = np.where(y > 0, n / (2.0 * npos), n / (2.0 * (n - npos)))

            def loss(theta: NDArray[np.float64], y: Any = y, sw: Any = sw, k: int = k) -> tuple[float, Any]:
                w = theta[: d * k].reshape(d, k)
                b = theta[d * k :]
                z = np.asarray(x @ w) + b
                sign = 2.0 * y - 1.0
                m = sign * z
                f = c * float((sw * np.logaddexp(0.0, -m)).sum()) + 0.5 * float((w * w).sum())
                g = c * sw * (-sign) * (1.0 / (1.0 + np.exp(m)))
                gw = np.asarray(xt @ g) + w
                return f, np.concatenate([gw.ravel(), g.sum(axis=0)])

            theta0 = np.zeros(d * k + k)
            res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
            w_out[:, lo : lo + k] = res.x[: d * k].reshape(d, k)
            b_out[lo : lo + k] = res.x[d * k :]
        return cls(keep.astype(np.int64), w_out, b_out, learned)

    def to_bytes(self, key: str) -> bytes:
        """The fitted model, with the ``key`` of what it was fit on (``learned_fingerprint``)."""
        buf = io.BytesIO()
        np.savez(buf, key=np.frombuffer(key.encode(), dtype=np.uint8), columns=self.columns,
                 weights=self.weights, bias=self.bias, learned=self.learned)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes | None, key: str) -> LinearNarratives | None:
        """The model stored by ``to_bytes``, or None when there is none or it was fit on
        something else than ``key`` says (the narratives or their examples changed)."""
        if not data:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                if z["key"].tobytes().decode() != key:
                    return None
                return cls(z["columns"].astype(np.int64), z["weights"].astype(np.float32),
                           z["bias"].astype(np.float32), z["learned"].astype(np.bool_))
        except (ValueError, KeyError, OSError):
            return None

    def probabilities(self, rows: sparse.csr_matrix) -> NDArray[np.float32]:
        """(rows x narratives): each learned narrative's probability; 0 for the others."""
        out = np.zeros((rows.shape[0], len(self.learned)), dtype=np.float32)
        if rows.shape[0]:
            z = np.asarray(rows[:, self.columns] @ self.weights, dtype=np.float32) + self.bias
            out[:, self.learned] = 1.0 / (1.0 + np.exp(-z))
        return out


def blend(base: NDArray[np.float32], learned: NDArray[np.float32], mask: NDArray[np.bool_],
          weight: float) -> NDArray[np.float32]:
    """The prototype scores with the learned probabilities mixed in at ``weight``, for the
    narratives that have a learned model."""
    if weight <= 0 or not mask.any():
        return base
    out = base.copy()
    out[:, mask] = (1.0 - weight) * base[:, mask] + weight * learned[:, mask]
    return out


# documents per dense block in NarrativeAssigner.lexical_scores: the block is (columns the chunk
# uses x chunk) and every stored example value in those columns meets every document of the
# chunk, so a smaller chunk wastes fewer products on zeros (32 was fastest at 2,000 and 20,000
# documents against 200 narratives, docs/benchmarks.md)
_CHUNK = 32
LEARNED_VERSION = "1"  # bump when LinearNarratives.fit or the term vectors change


def learned_fingerprint(narratives: Sequence[NarrativeDefinition], params: AssignParams,
                        background: Sequence[str] = ()) -> str:
    """What the learned part is fit on: each narrative's id and examples, in order, the
    background texts and the fit's parameters. Equal fingerprints, equal fits (up to the term
    frequencies of the moment, which a large collection barely moves), so a stored fit is
    reused until a known narrative or one of its examples changes."""
    h = hashlib.sha256(f"{LEARNED_VERSION}|{N_FEATURES}|{params.learned_c!r}|{params.learned_min_examples}".encode())
    for n in narratives:
        h.update(b"\x00N" + n.id.encode())
        for t in n.examples:
            h.update(b"\x00E" + t.encode())
    for t in background:
        h.update(b"\x00B" + t.encode())
    return h.hexdigest()


class NarrativeAssigner:
    """Scores documents against known narratives; see the module docstring."""

    def __init__(
        self,
        narratives: Sequence[NarrativeDefinition],
        vectors: TermVectors,
        *,
        params: AssignParams | None = None,
        embed: Embed | None = None,
        example_embeddings: NDArray[np.float32] | None = None,
        background: Sequence[str] = (),
        learned: LinearNarratives | None = None,
    ) -> None:
        """``learned``: a learned part fit earlier on the same narratives and examples (see
        ``learned_fingerprint``); without it, it is fit here when ``params.learned_weight`` > 0."""
        self.narratives = list(narratives)
        self.ids = [n.id for n in self.narratives]
        self.params = params or AssignParams()
        self.vectors = vectors
        self.embed = embed
        texts: list[str] = []
        owner: list[int] = []
        for i, n in enumerate(self.narratives):
            for t in [n.definition_text(), *n.examples]:
                if t.strip():
                    texts.append(t)
                    owner.append(i)
        self._owner = np.asarray(owner, dtype=np.int64)  # grouped by narrative, in order
        self._starts = np.searchsorted(self._owner, np.arange(len(self.narratives)))
        self._has = np.isin(np.arange(len(self.narratives)), self._owner)
        self.example_texts = texts
        ex = vectors.vectors(texts)
        # by column (CSC): a batch of documents touches few of the 2^18 columns, and slicing
        # those out of a CSC matrix is cheap (see lexical_scores)
        self._examples = ex.tocsc()  # examples x features
        member = sparse.csr_matrix(
            (np.ones(len(owner), dtype=np.float32), (self._owner, np.arange(len(owner)))),
            shape=(len(self.narratives), len(owner)),
        )
        self._centroids = _sparse_normalise_rows(member @ ex).tocsc()  # narratives x features
        self._dense_examples: NDArray[np.float32] | None = None
        self._dense_centroids: NDArray[np.float32] | None = None
        if embed is not None and texts:
            emb = example_embeddings if example_embeddings is not None else embed(texts)
            self._dense_examples = _normalise_rows(np.asarray(emb, dtype=np.float32))
            sums = np.asarray(member @ self._dense_examples, dtype=np.float32)
            self._dense_centroids = _normalise_rows(sums)
        self.learned: LinearNarratives | None = None
        self.learned_fitted = False  # whether this assigner fit its learned part (not given one)
        if self.params.learned_weight > 0:
            if learned is not None and len(learned.learned) == len(self.narratives):
                self.learned = learned
            else:
                self.learned = self.fit_learned(self.params.learned_c, background)
                self.learned_fitted = self.learned is not None

    def fit_learned(self, c: float, background: Sequence[str] = ()) -> LinearNarratives | None:
        """The learned part on the narratives' examples (each distinct text once, with every
        narrative it is an example of) and ``background`` texts (examples of none)."""
        index: dict[str, int] = {}
        pairs: list[tuple[int, int]] = []
        for i, n in enumerate(self.narratives):
            for t in n.examples:
                if t.strip():
                    pairs.append((index.setdefault(t, len(index)), i))
        texts = list(index)
        texts += [t for t in background if t.strip() and t not in index]
        if not pairs:
            return None
        r, k = zip(*sorted(set(pairs)), strict=True)
        labels = sparse.csr_matrix((np.ones(len(r), dtype=np.float32), (r, k)),
                                   shape=(len(texts), len(self.narratives)))
        return LinearNarratives.fit(self.vectors.vectors(texts), labels, c=c,
                                    min_examples=self.params.learned_min_examples)

    def __len__(self) -> int:
        return len(self.narratives)

    def _mix(self, centroid: NDArray[np.float32], example: NDArray[np.float32]) -> NDArray[np.float32]:
        """(rows x narratives) from centroid cosines and per-example cosines."""
        best = np.zeros_like(centroid)
        if example.shape[1]:
            nonempty = self._has
            reduced = np.maximum.reduceat(example, self._starts[nonempty], axis=1)
            best[:, nonempty] = reduced
        a = self.params.learned_centroid_weight if self.learned is not None else self.params.centroid_weight
        return (a * centroid + (1.0 - a) * best).astype(np.float32)

    def lexical_scores(self, rows: sparse.csr_matrix) -> NDArray[np.float32]:
        if not len(self.narratives):
            return np.zeros((rows.shape[0], 0), dtype=np.float32)
        n = rows.shape[0]
        c = np.zeros((n, self._centroids.shape[0]), dtype=np.float32)
        e = np.zeros((n, self._examples.shape[0]), dtype=np.float32)
        # Sparse x sparse with a nearly dense result (a document shares words with most
        # examples) spends its time building the sparse result; instead each chunk of documents
        # becomes a dense block over the columns it uses, and the products are sparse x dense.
        for lo in range(0, n, _CHUNK):
            part = rows[lo : lo + _CHUNK]
            if not part.nnz:
                continue
            cols, at = np.unique(part.indices, return_inverse=True)
            block = np.zeros((len(cols), part.shape[0]), dtype=np.float32)
            block[at, np.repeat(np.arange(part.shape[0]), np.diff(part.indptr))] = part.data
            c[lo : lo + _CHUNK] = (self._centroids[:, cols] @ block).T
            e[lo : lo + _CHUNK] = (self._examples[:, cols] @ block).T
        return self._mix(c, e)

    def dense_scores(self, emb: NDArray[np.float32]) -> NDArray[np.float32]:
        assert self._dense_examples is not None and self._dense_centroids is not None
        emb = _normalise_rows(np.asarray(emb, dtype=np.float32))
        return self._mix(emb @ self._dense_centroids.T, emb @ self._dense_examples.T)

    def scores(
        self,
        texts: Sequence[str],
        *,
        rows: sparse.csr_matrix | None = None,
        embeddings: NDArray[np.float32] | None = None,
    ) -> tuple[NDArray[np.float32], dict[str, NDArray[np.float32]]]:
        """(documents x narratives) scores and their parts (``lexical``, ``encoder``)."""
        rows = rows if rows is not None else self.vectors.vectors(texts)
        lex = self.lexical_scores(rows)
        parts = {"lexical": lex}
        out = lex
        if self._dense_examples is not None and len(texts):
            emb = embeddings if embeddings is not None else self.embed(texts)  # type: ignore[misc]
            dense = self.dense_scores(emb)
            parts["encoder"] = dense
            b = self.params.encoder_weight
            out = ((1.0 - b) * lex + b * dense).astype(np.float32)
        if self.learned is not None:
            prob = self.learned.probabilities(rows)
            parts["learned"] = prob
            out = blend(out, prob, self.learned.learned, self.params.learned_weight)
        return out, parts

    def decide(self, scores: NDArray[np.float32]) -> list[list[int]]:
        """Chosen narrative columns per row, best first."""
        p = self.params
        floor = p.encoder_threshold if self._dense_examples is not None else p.threshold
        relative = p.relative
        if self.learned is not None:
            floor, relative = p.learned_threshold, p.learned_relative
        out: list[list[int]] = []
        for row in scores:
            if not len(row):
                out.append([])
                continue
            top = float(row.max())
            cut = max(floor, relative * top)
            chosen = np.flatnonzero(row >= cut)
            chosen = chosen[np.argsort(-row[chosen], kind="stable")][: p.max_labels]
            out.append([int(i) for i in chosen])
        return out

    def assign(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[tuple[int, int, str]]] | None = None,
        *,
        rows: sparse.csr_matrix | None = None,
        embeddings: NDArray[np.float32] | None = None,
    ) -> list[list[Assignment]]:
        """Narratives per document, each with its score and, when ``sentences`` (start, end,
        text per document) are given, the sentences that carry it."""
        scores, parts = self.scores(texts, rows=rows, embeddings=embeddings)
        chosen = self.decide(scores)
        out: list[list[Assignment]] = []
        for d, cols in enumerate(chosen):
            found = [
                Assignment(
                    narrative_id=self.ids[c],
                    score=round(float(scores[d, c]), 4),
                    components={k: round(float(v[d, c]), 4) for k, v in parts.items()},
                )
                for c in cols
            ]
            if found and sentences is not None and sentences[d]:
                self._carrying(found, cols, sentences[d])
            out.append(found)
        return out

    def _carrying(self, found: list[Assignment], cols: list[int], sents: Sequence[tuple[int, int, str]]) -> None:
        texts = [s[2] for s in sents]
        lex = self.lexical_scores(self.vectors.vectors(texts))[:, cols]
        if self._dense_examples is not None and self.embed is not None:
            b = self.params.encoder_weight
            lex = (1.0 - b) * lex + b * self.dense_scores(self.embed(texts))[:, cols]
        for j, a in enumerate(found):
            col = lex[:, j]
            order = np.argsort(-col, kind="stable")[: self.params.sentences]
            best = float(col[order[0]]) if len(order) else 0.0
            a.sentences = [
                (sents[i][0], sents[i][1], round(float(col[i]), 4))
                for i in sorted(order)
                if col[i] > 0 and col[i] >= 0.5 * best
            ]


# -- emerging narratives ---------------------------------------------------------------------------


@dataclass(slots=True)
class ClusterParams:
    join: float = 0.3  # cosine to the nearest earlier document to join its narrative
    window: int = 20_000  # documents remembered for nearest-neighbour joins (newest kept)
    min_size: int = 5  # a narrative is shown (and maintained) from this many documents on
    merge: float = 0.6  # centroid cosine at which two narratives are one
    split: float = 0.15  # centroid cosine under which a narrative's two halves are two narratives

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(slots=True)
class Lineage:
    kind: str  # merged | split
    parent: str  # merged: the absorbed id; split: the id split from
    child: str  # merged: the surviving id; split: the new id
    documents: int
    similarity: float


@dataclass(slots=True)
class Joined:
    document_id: str
    narrative_id: str
    similarity: float  # to the nearest earlier document; 0 for a founder
    nearest: str | None


class EmergingClusters:
    """Incremental first-story clustering with stable ids (see the module docstring).

    State is plain data so a store can persist it: the window's document ids and rows, each
    remembered document's narrative, and each narrative's members."""

    def __init__(self, params: ClusterParams | None = None, *, dense: bool = False) -> None:
        self.params = params or ClusterParams()
        self.dense = dense
        self.pool_ids: list[str] = []
        self._pool: Any = None  # csr rows, or a dense matrix with ``dense``
        self.narrative_of: dict[str, str] = {}  # document -> narrative
        self.members: dict[str, list[str]] = {}  # narrative -> documents, oldest first
        self.founded: dict[str, int] = {}  # narrative -> order of founding (older survives a merge)
        self._rows: dict[str, Any] = {}  # document -> row, for documents in the window
        self._order: dict[str, int] = {}  # document -> position in the stream (oldest first)

    # -- state ------------------------------------------------------------------------------------

    def remember(self, ids: Sequence[str], rows: Any, narratives: Sequence[str]) -> None:
        """Load documents already clustered (oldest first), e.g. from a store."""
        for doc_id, nar in zip(ids, narratives, strict=True):
            self._order[doc_id] = len(self._order)
            self.narrative_of[doc_id] = nar
            if nar not in self.members:
                self.members[nar] = []
                self.founded[nar] = len(self.founded)
            self.members[nar].append(doc_id)
        self._append_pool(list(ids), rows)

    def _append_pool(self, ids: list[str], rows: Any) -> None:
        if not ids:
            return
        for i, doc_id in enumerate(ids):
            self._rows[doc_id] = rows[i]
        self.pool_ids.extend(ids)
        if self._pool is None:
            self._pool = rows
        elif self.dense:
            self._pool = np.vstack([self._pool, rows])
        else:
            self._pool = sparse.vstack([self._pool, rows]).tocsr()
        extra = len(self.pool_ids) - self.params.window
        if extra > 0:
            for doc_id in self.pool_ids[:extra]:
                self._rows.pop(doc_id, None)
            self.pool_ids = self.pool_ids[extra:]
            self._pool = self._pool[extra:]

    # -- adding documents -------------------------------------------------------------------------

    def add(self, ids: Sequence[str], rows: Any) -> list[Joined]:
        """Cluster new documents, oldest first. Each is compared with every remembered document
        and every earlier one of this call, so the result does not depend on how the stream is
        cut into calls."""
        ids = list(ids)
        if not ids:
            return []
        p = self.params
        if self._pool is not None and len(self.pool_ids):
            prev = rows @ self._pool.T
            prev = np.asarray(prev.todense() if sparse.issparse(prev) else prev, dtype=np.float32)
        else:
            prev = np.zeros((len(ids), 0), dtype=np.float32)
        inner = rows @ rows.T
        inner = np.asarray(inner.todense() if sparse.issparse(inner) else inner, dtype=np.float32)
        out: list[Joined] = []
        for i, doc_id in enumerate(ids):
            best, nearest = -1.0, None
            if prev.shape[1]:
                j = int(np.argmax(prev[i]))
                best, nearest = float(prev[i, j]), self.pool_ids[j]
            if i:
                j = int(np.argmax(inner[i, :i]))
                if float(inner[i, j]) > best:
                    best, nearest = float(inner[i, j]), ids[j]
            if nearest is not None and best >= p.join and nearest in self.narrative_of:
                nar = self.narrative_of[nearest]
            else:
                nar, best, nearest = "nar_" + doc_id.split("_", 1)[-1], 0.0, None
                self.members[nar] = []
                self.founded[nar] = len(self.founded)
            self._order[doc_id] = len(self._order)
            self.narrative_of[doc_id] = nar
            self.members[nar].append(doc_id)
            out.append(Joined(doc_id, nar, round(max(best, 0.0), 4), nearest))
        self._append_pool(ids, rows)
        return out

    # -- maintenance ------------------------------------------------------------------------------

    def visible(self) -> list[str]:
        return [n for n, m in self.members.items() if len(m) >= self.params.min_size]

    def centroids(self, narratives: Sequence[str]) -> tuple[list[str], Any]:
        """Normalised mean row of each narrative's members still in the window."""
        kept, rows = [], []
        for n in narratives:
            mine = [self._rows[d] for d in self.members.get(n, ()) if d in self._rows]
            if not mine:
                continue
            kept.append(n)
            if self.dense:
                rows.append(np.mean(np.stack(mine), axis=0))
            else:
                rows.append(sparse.vstack(mine).mean(axis=0))
        if not kept:
            return [], None
        m = np.asarray(np.vstack(rows), dtype=np.float32)
        return kept, _normalise_rows(m)

    def maintain(self, touched: Sequence[str] | None = None) -> list[Lineage]:
        """Merge converging narratives, split divided ones; ``touched`` limits the work to the
        narratives that grew (and what they meet)."""
        out = self._merge(touched)
        out.extend(self._split(touched))
        return out

    def _merge(self, touched: Sequence[str] | None) -> list[Lineage]:
        vis = self.visible()
        names, cent = self.centroids(vis)
        if not names:
            return []
        focus = set(touched) if touched is not None else set(names)
        rows = [i for i, n in enumerate(names) if n in focus]
        if not rows:
            return []
        sims = cent[rows] @ cent.T
        pairs = []
        for r, i in enumerate(rows):
            for j in np.flatnonzero(sims[r] >= self.params.merge):
                if int(j) != i:
                    a, b = names[i], names[int(j)]
                    pairs.append((-float(sims[r, j]), min(a, b), max(a, b)))
        out: list[Lineage] = []
        for neg, a, b in sorted(set(pairs)):
            if a not in self.members or b not in self.members:
                continue  # already absorbed by a stronger pair
            keep, gone = sorted((a, b), key=lambda n: self.founded[n])
            moved = self.members.pop(gone)
            for d in moved:
                self.narrative_of[d] = keep
            self.members[keep] = sorted([*self.members[keep], *moved], key=lambda d: self._order.get(d, -1))
            out.append(Lineage("merged", gone, keep, len(moved), round(-neg, 4)))
        return out

    def _split(self, touched: Sequence[str] | None) -> list[Lineage]:
        p = self.params
        out: list[Lineage] = []
        for nar in list(touched if touched is not None else self.visible()):
            members = [d for d in self.members.get(nar, ()) if d in self._rows]
            if len(members) < 2 * p.min_size:
                continue
            m = np.vstack([self._dense_row(self._rows[d]) for d in members])
            halves = _two_means(m)
            if halves is None:
                continue
            labels, cos = halves
            founder_side = labels[0]
            other = [d for d, lab in zip(members, labels, strict=True) if lab != founder_side]
            if len(other) < p.min_size or len(members) - len(other) < p.min_size or cos >= p.split:
                continue
            new = "nar_" + other[0].split("_", 1)[-1]
            if new in self.members:
                continue
            self.members[nar] = [d for d in self.members[nar] if d not in set(other)]
            self.members[new] = other
            self.founded[new] = len(self.founded)
            for d in other:
                self.narrative_of[d] = new
            out.append(Lineage("split", nar, new, len(other), round(float(cos), 4)))
        return out

    def _dense_row(self, row: Any) -> NDArray[np.float32]:
        return np.asarray(row.todense() if sparse.issparse(row) else row, dtype=np.float32).ravel()


def _two_means(m: NDArray[np.float32], iterations: int = 10) -> tuple[NDArray[np.int64], float] | None:
    """Spherical 2-means seeded by the first row and the row least like it (deterministic);
    the labels and the cosine between the two centroids."""
    m = _normalise_rows(m)
    a = 0
    b = int(np.argmin(m @ m[a]))
    if b == a:
        return None
    cents = m[[a, b]]
    labels = np.zeros(len(m), dtype=np.int64)
    for _ in range(iterations):
        new = np.argmax(m @ cents.T, axis=1)
        if (new == labels).all() and _ > 0:
            break
        labels = new
        if labels.min() == labels.max():
            return None
        cents = _normalise_rows(np.vstack([m[labels == k].mean(axis=0) for k in (0, 1)]))
    return labels, float(cents[0] @ cents[1])


# -- labels ---------------------------------------------------------------------------------------


def distinctive_terms(
    class_counts: dict[str, dict[str, int]], *, top: int = 8
) -> dict[str, list[tuple[str, float]]]:
    """c-TF-IDF (as in BERTopic): a term's frequency in a class, times log(1 + A / f), A the mean
    number of words per class and f the term's frequency over all classes."""
    totals: dict[str, int] = {}
    words = 0
    for counts in class_counts.values():
        for term, n in counts.items():
            totals[term] = totals.get(term, 0) + n
            words += n
    if not class_counts or not words:
        return {c: [] for c in class_counts}
    avg = words / len(class_counts)
    out: dict[str, list[tuple[str, float]]] = {}
    for c, counts in class_counts.items():
        size = sum(counts.values()) or 1
        scored = [(t, (n / size) * math.log(1.0 + avg / totals[t])) for t, n in counts.items() if n > 1 or size < 50]
        scored.sort(key=lambda x: (-x[1], x[0]))
        out[c] = [(t, round(s, 5)) for t, s in scored[:top]]
    return out


# -- bursts ---------------------------------------------------------------------------------------


BURST_METHOD = "Kleinberg two-state burst automaton (batched, binomial)"
BURST_S = 2.0  # the burst state emits at s x the base share
BURST_GAMMA = 1.0  # entering it costs gamma x ln(days)


@dataclass(slots=True)
class Burst:
    start: int  # index of the first day in the burst
    end: int  # index of the last day (inclusive)
    weight: float  # how much cheaper the burst state explains these days (log-likelihood)
    share: float  # the narrative's share of all documents in these days
    baseline: float  # its share over the whole series


def bursts(counts: Sequence[int], totals: Sequence[int], *, s: float = BURST_S, gamma: float = BURST_GAMMA
           ) -> list[Burst]:
    """Kleinberg's batched two-state burst detection. ``counts[t]`` documents of the narrative
    out of ``totals[t]`` documents on day t. State 0 emits at the base share p0, state 1 at
    ``s * p0``; entering state 1 costs ``gamma * ln(days)``. The Viterbi path's runs in state 1
    are the bursts."""
    r = np.asarray(counts, dtype=np.float64)
    d = np.maximum(np.asarray(totals, dtype=np.float64), r)
    n = len(r)
    if n == 0 or d.sum() == 0 or r.sum() == 0:
        return []
    p0 = r.sum() / d.sum()
    p1 = min(s * p0, 0.9999)
    if p1 <= p0:
        return []
    trans = gamma * math.log(max(n, 2))

    def cost(p: float) -> NDArray[np.float64]:
        # -log binomial likelihood without the constant binomial coefficient
        return -(r * math.log(p) + (d - r) * math.log(1.0 - p))

    c = np.vstack([cost(p0), cost(p1)])
    best = np.zeros((2, n))
    back = np.zeros((2, n), dtype=np.int64)
    best[0, 0], best[1, 0] = c[0, 0], c[1, 0] + trans
    for t in range(1, n):
        stay0, up = best[0, t - 1], best[0, t - 1] + trans
        from1 = best[1, t - 1]
        best[0, t] = c[0, t] + min(stay0, from1)
        back[0, t] = 0 if stay0 <= from1 else 1
        best[1, t] = c[1, t] + min(up, from1)
        back[1, t] = 0 if up < from1 else 1
    state = np.zeros(n, dtype=np.int64)
    state[-1] = int(np.argmin(best[:, -1]))
    for t in range(n - 1, 0, -1):
        state[t - 1] = back[state[t], t]
    out: list[Burst] = []
    t = 0
    while t < n:
        if state[t] != 1:
            t += 1
            continue
        u = t
        while u + 1 < n and state[u + 1] == 1:
            u += 1
        weight = float((c[0, t : u + 1] - c[1, t : u + 1]).sum())
        share = float(r[t : u + 1].sum() / max(d[t : u + 1].sum(), 1.0))
        out.append(Burst(t, u, round(weight, 3), round(share, 4), round(float(p0), 4)))
        t = u + 1
    return out
