"""Claim matching: which sentences of a document repeat a claim that was already debunked.

Each document is split into sentences; every sentence (and every pair of neighbouring
sentences, since a claim often spans two) retrieves its best claims from a BM25 index over
all stored claims; each candidate gets a calibrated probability from its score components
(``fimiscope.index.bm25.calibrated``); the best unit per claim above the threshold becomes a
``claim_match`` signal naming the sentence span(s), the claim and the debunk.

With an encoder plug-in (setting ``encoder_path``, ``fimiscope.index.encoders``) every unit
also retrieves its nearest claims by cosine; the two candidate lists are fused (reciprocal
rank fusion) and each candidate is scored by a calibration that adds the cosine. Claims are
encoded once per claim set (new claims only, when claims are added); sentences per document.

The BM25 index is kept in the store (``claims_index``): a new process loads it instead of
analysing every claim again, and claims added since it was saved are added to it (then it is
saved again); it is rebuilt only when claims it holds are gone or the analyzer changed. The
stage's report says which (``details["claim_index"]``: built, loaded, or updated +N).

Across languages (the document's language and the claim's are both known and differ, e.g. a
Polish post and an English debunk) the lexical features say nothing, so the cosine alone decides,
against a threshold per document language and per model (``CROSS_LANGUAGE_THRESHOLDS``, chosen on
the dev part of eval/claims_crosslingual.py for a precision of at least 0.9 in each language): one
threshold does not fit all, and a language without one gets no cross-language matches.

Incremental: the stage reads documents past its watermark. When the claim set changes
(a claim was added), the watermark goes back to 0 so older documents are matched against the
new claims too; signals are keyed ``claim:<document>:<claim>``, so nothing is written twice.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.index.ann import AnnIndex
from fimiscope.index.bm25 import (
    CALIBRATION,
    CALIBRATION_PROVENANCE,
    TUNED_ANALYZER,
    TUNED_B,
    TUNED_K1,
    Analyzer,
    BM25Index,
    calibrated,
    encoder_calibration,
    encoder_calibration_provenance,
    features,
    reciprocal_rank_fusion,
)
from fimiscope.index.encoders import (
    USEM3_LANGUAGES,
    Encoder,
    VectorIndex,
    blas_threads,
    encoder_from_settings,
    model_key,
)
from fimiscope.index.sentences import Sentence, split_sentences  # shared with narratives; re-exported
from fimiscope.pipeline import DocumentStage, StageReport, register
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store import vectors as vector_store
from fimiscope.store import watermarks as watermark_store
from fimiscope.store.claims import (
    ClaimSet,
    claim_languages,
    claim_set,
    get_claims,
    iter_claim_texts,
    load_claim_index,
    save_claim_index,
)

__all__ = [
    "CROSS_LANGUAGE_THRESHOLDS",
    "ClaimMatcher",
    "ClaimStage",
    "Match",
    "claim_pair_text",
    "claim_signal",
    "cross_language_probability",
    "matcher_for",
    "sentences_of",
    "split_sentences",
]

VERSION = "1"
THRESHOLD = 0.5  # calibrated probability; see docs/evaluation.md "## claims"
CANDIDATES = 5  # claims retrieved per sentence
MAX_SENTENCES = 400  # per document: a book-length page is matched on its first 400 sentences
MIN_TERMS = 3  # a sentence with fewer index terms cannot carry a claim
# Threads one match may use with an encoder (capped at the cores): the document's sentences are
# encoded, and its units searched, in two halves at once while BM25 scores them in a third
# thread; the results are those of one thread. One document's latency is what an analyst waits
# for (docs/benchmarks.md "Issue 19, match p95, third pass"); parallel pipeline workers match
# on one thread each.
MATCH_THREADS = 2
_CLAIM_STATE = "detect.claims:claim-set"  # watermark row holding the max claim pk last matched

# The cosine at which a cross-language candidate is flagged, per encoder (``Encoder.name``) and
# per language of the document (primary subtag); "*" (pooled: one threshold for all languages)
# is for a language the model was trained on that the check had no gold for. Chosen on the dev
# split of eval/claims_crosslingual.py (UDHR paragraphs against the English ones among 14,231
# Snopes claims, plus SemEval-2022 Task 8 cross-language news pairs with an English side; news in
# the same languages as background), target precision 0.9: per language its own lowest precise
# cosine shrunk toward the pooled one by n / (n + 30) (n: its dev documents with a gold claim),
# never below the pooled one unless its dev flags prove the precision (no language's did); a
# language the model was not trained on gets its own threshold or None (no cross-language match).
CROSS_LANGUAGE_THRESHOLDS: dict[str, dict[str, float | None]] = {
    # dev 2026-12-03 (613 documents, 360 with a gold claim): ar and tr had background news only,
    # so they take "*"; the untrained be, bg, mk, sr, uk were precise on dev below the pooled
    # threshold and are raised to it; cs, et, hr, hu, lt, lv, ro, sk, sl never were: None.
    "usem3": {
        "be": 0.67, "bg": 0.67, "cs": None, "de": 0.67, "es": 0.67, "et": None, "fr": 0.7, "hr": None,
        "hu": None, "it": 0.68, "lt": None, "lv": None, "mk": 0.67, "pl": 0.76, "ro": None, "ru": 0.67,
        "sk": None, "sl": None, "sr": 0.67, "uk": 0.67, "zh": 0.67, "*": 0.67,
    },
}
CROSS_LANGUAGE_PROVENANCE = (
    "eval/claims_crosslingual.py --check: dev = UDHR articles with a number divisible by 3 and "
    "SemEval-2022 T8 cross-language pairs with an English side; target precision 0.9; per language "
    "shrunk toward the pooled threshold by n/(n+30), never below it without proof"
)
# The languages each encoder was trained on (primary subtags): one of them that the check had no
# gold for takes "*"; any other language missing from the table gets no cross-language match.
CROSS_LANGUAGE_TRAINED: dict[str, frozenset[str]] = {
    "usem3": frozenset(lang.split("-")[0] for lang in USEM3_LANGUAGES),
}
# p = 0.5 at the language's threshold, rising with the cosine: a ranking score on the same scale
# as the calibrated probabilities, not itself a calibrated probability
CROSS_LANGUAGE_SLOPE = 20.0


def _primary(language: str | None) -> str | None:
    return language.split("-")[0].split("_")[0].casefold() if language else None


def cross_language_threshold(model: str, language: str | None) -> float | None:
    """The cosine a cross-language candidate of a document in ``language`` needs with encoder
    ``model``; None: no cross-language matching for it."""
    table = CROSS_LANGUAGE_THRESHOLDS.get(model, {})
    lang = _primary(language)
    if lang in table:
        return table[lang]
    trained = CROSS_LANGUAGE_TRAINED.get(model)
    if trained is not None and lang not in trained:
        return None  # a language the model was not trained on and the check had no evidence for
    return table.get("*")


def cross_language_probability(cosine: float, model: str, language: str | None) -> float | None:
    """The score of a cross-language candidate: 0.5 at the language's threshold; None when the
    model has no threshold for the language."""
    t = cross_language_threshold(model, language)
    if t is None:
        return None
    z = CROSS_LANGUAGE_SLOPE * (cosine - t)
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

# -- matching ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Match:
    claim_id: str
    start: int
    end: int
    sentences: list[Sentence]
    probability: float
    components: dict[str, float]


class ClaimMatcher:
    """A BM25 index over claims (text + title), optionally their vectors, and the scoring of
    sentences against them."""

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        analyzer: Analyzer | None = None,
        *,
        encoder: Encoder | None = None,
        known_vectors: dict[str, NDArray[np.float32]] | None = None,
        index: BM25Index | None = None,
        claim_vectors: NDArray[np.float32] | None = None,
        ann: AnnIndex | None = None,
        ann_ids: Mapping[int, str] | None = None,
    ) -> None:
        """``index``: a BM25 index of ``pairs`` already made (loaded from the store); with an
        encoder, ``pairs`` still gives the texts of the claims to encode. ``claim_vectors`` (one
        row per pair, in order) are the stored vectors; else the claims are encoded here, reusing
        ``known_vectors``. ``ann`` searches them approximately, its labels meaning
        ``ann_ids[label]`` (default: position + 1); without it, exact search."""
        self.index = index if index is not None else BM25Index.build(
            pairs, analyzer or TUNED_ANALYZER, k1=TUNED_K1, b=TUNED_B
        )
        self.analyzer = self.index.analyzer
        self.encoder = encoder
        self.origin = "built"  # how matcher_for got the index: built, loaded, updated +N
        self.vectors: VectorIndex | None = None
        self.ann = ann
        self.ann_ids: Mapping[int, str] = ann_ids or {}
        self.claim_vectors: NDArray[np.float32] | None = None
        # Seconds spent per part of matching (split, encode, ann, bm25, fusion, decision), added up
        # over calls when the caller sets a dict here (benchmarks/vectors_bench.py --only latency).
        self.timings: dict[str, float] | None = None
        self.threads = match_threads()
        if encoder is not None and pairs:
            if claim_vectors is None:
                claim_vectors = _claim_vectors(encoder, pairs, known_vectors or {})
            ids = [cid for cid, _ in pairs]
            if ann is not None and ann_ids is None:
                self.ann_ids = {i + 1: cid for i, cid in enumerate(ids)}
            if list(self.index.ids) != ids:  # a loaded index: the rows follow its order
                row = {cid: i for i, cid in enumerate(ids)}
                ids = list(self.index.ids)
                claim_vectors = claim_vectors[[row[cid] for cid in ids]]
            self.claim_vectors = claim_vectors
            if ann is None:
                self.vectors = VectorIndex(claim_vectors.shape[1])
                self.vectors.add(ids, claim_vectors)

    @property
    def searches_vectors(self) -> bool:
        return self.claim_vectors is not None

    def vector_map(self) -> dict[str, NDArray[np.float32]]:
        """Claim id -> vector, for the next matcher to reuse when claims are added."""
        if self.claim_vectors is None:
            return {}
        return dict(zip(self.index.ids, self.claim_vectors, strict=True))

    def nearest(self, queries: NDArray[np.float32], k: int) -> list[list[tuple[str, float]]]:
        """The ``k`` nearest claims of every query vector, best first."""
        if self.ann is None:
            assert self.vectors is not None
            return self.vectors.search(queries, k)
        labels, scores = self.ann.search(queries, k)
        return [
            [(self.ann_ids[int(lab)], float(sc)) for lab, sc in zip(row_l, row_s, strict=True)
             if lab >= 0 and int(lab) in self.ann_ids]
            for row_l, row_s in zip(labels, scores, strict=True)
        ]

    def set_claim_languages(self, languages: dict[str, str | None]) -> None:
        """The language of each claim (id -> code); a claim without one is matched as if it were
        in the document's language."""
        self.claim_languages = {cid: _primary(lang) for cid, lang in languages.items() if lang}

    def is_cross_language(self, language: str | None, claim_id: str) -> bool:
        doc = _primary(language)
        claim = getattr(self, "claim_languages", {}).get(claim_id)
        return bool(doc and claim and doc != claim)

    def match_text(
        self,
        text: str,
        *,
        threshold: float = THRESHOLD,
        k: int = CANDIDATES,
        language: str | None = None,
        sentence_vectors: NDArray[np.float32] | None = None,
    ) -> list[Match]:
        """The claims ``text`` repeats, best first. ``language`` is the document's: with an encoder,
        a claim in another language is judged by the cosine against that language's threshold.
        ``sentence_vectors`` (one row per sentence of ``sentences_of(text)``, stored earlier)
        spare the encoder."""
        best: dict[str, Match] = {}
        found = self.candidates(text, k=k, sentence_vectors=sentence_vectors)
        t0 = time.perf_counter()
        for unit, claim_id, feats, extra in found:
            p: float | None
            if self.encoder is not None and "cosine" in feats and self.is_cross_language(language, claim_id):
                model = str(self.encoder.name)
                p = cross_language_probability(feats["cosine"], model, language)
                if p is None:
                    continue
                extra = {**extra, "cross_language": 1.0,
                         "language_threshold": float(cross_language_threshold(model, language) or 0.0)}
            else:
                p = calibrated(feats, self._coef)
            if p < threshold:
                continue
            old = best.get(claim_id)
            # A single sentence wins a tie with the pair that contains it: the tighter span.
            if old is None or p > old.probability + 1e-9:
                best[claim_id] = Match(
                    claim_id=claim_id,
                    start=unit[0].start,
                    end=unit[-1].end,
                    sentences=unit,
                    probability=p,
                    components={**extra, **feats, "calibrated": p},
                )
        out = sorted(best.values(), key=lambda m: (-m.probability, m.start, m.claim_id))
        self._tick("decision", t0)
        return out

    def _tick(self, part: str, since: float) -> float:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[part] = self.timings.get(part, 0.0) + now - since
        return now

    @property
    def _coef(self) -> dict[str, float]:
        return CALIBRATION if self.encoder is None else encoder_calibration(str(self.encoder.name))

    def candidates(
        self, text: str, *, k: int = CANDIDATES, sentence_vectors: NDArray[np.float32] | None = None
    ) -> list[tuple[list[Sentence], str, dict[str, float], dict[str, float]]]:
        """Every (unit, claim id, features, extra) the matcher scores for ``text``: BM25's top
        ``k`` per sentence and sentence pair, with an encoder fused with the vector index's."""
        if not len(self.index):
            return []
        t0 = time.perf_counter()
        sentences = sentences_of(text)
        terms = [self.analyzer.terms(s.text) for s in sentences]
        units: list[list[Sentence]] = [[s] for s in sentences]
        unit_terms = list(terms)
        for i in range(len(sentences) - 1):
            units.append([sentences[i], sentences[i + 1]])
            unit_terms.append(terms[i] + terms[i + 1])
        keep = [i for i, t in enumerate(unit_terms) if len(t) >= MIN_TERMS]
        if not keep:
            return []
        units = [units[i] for i in keep]
        kept_terms = [unit_terms[i] for i in keep]
        t0 = self._tick("split", t0)
        if not self.searches_vectors:
            scored = [
                [(cid, features(bm25, q_cov, c_cov), {"bm25": bm25}) for cid, bm25, q_cov, c_cov in hits]
                for hits in self.index.candidates_terms(kept_terms, k)
            ]
            self._tick("bm25", t0)
        else:
            scored = self._fused(sentences, keep, kept_terms, k, sentence_vectors)
        return [
            (unit, claim_id, feats, extra)
            for unit, cands in zip(units, scored, strict=True)
            for claim_id, feats, extra in cands
        ]

    def _encode_needed(
        self, sentences: list[Sentence], keep: list[int], pool: ThreadPoolExecutor | None = None
    ) -> NDArray[np.float32]:
        """One row per sentence; the encoder sees each distinct text once, and only the sentences
        a kept unit uses (unit i < n is sentence i, unit n + j the pair j, j + 1). The others stay
        zero: they only reach pairs that were not kept. The encoder's time is what dominates: with
        ``pool`` (and an encoder that allows it) the texts are encoded in halves at once."""
        assert self.encoder is not None
        n = len(sentences)
        needed: set[int] = set()
        for u in keep:
            needed.update((u,) if u < n else (u - n, u - n + 1))
        texts = list(dict.fromkeys(sentences[i].text for i in sorted(needed)))
        if pool is not None and len(texts) > 1 and getattr(self.encoder, "threadsafe", False):
            vecs = np.concatenate(_in_halves(pool, self.encoder.encode, texts))
        else:
            vecs = self.encoder.encode(texts)  # keep is never empty here
        row = {t: r for r, t in enumerate(texts)}
        out = np.zeros((n, vecs.shape[1]), dtype=np.float32)
        for i in needed:
            out[i] = vecs[row[sentences[i].text]]
        return out

    def _vector_side(
        self,
        sentences: list[Sentence],
        keep: list[int],
        k: int,
        sentence_vectors: NDArray[np.float32] | None,
        pool: ThreadPoolExecutor | None,
        t0: float,
    ) -> tuple[NDArray[np.float32], list[list[tuple[str, float]]]]:
        """The kept units' vectors and their ``k`` nearest claims; with ``pool``, the encoding and
        the search each in two halves at once (the pool's tasks never wait for one another)."""
        if sentence_vectors is not None and sentence_vectors.shape[0] == len(sentences):
            sent_vecs = np.array(sentence_vectors, dtype=np.float32)
        else:
            sent_vecs = self._encode_needed(sentences, keep, pool)
        # A pair's vector is the normalised sum of its sentences': one encoder call per sentence
        # instead of two, and the model's cost is what dominates the per-document time.
        pair_vecs = sent_vecs[:-1] + sent_vecs[1:]
        pair_vecs /= np.maximum(np.linalg.norm(pair_vecs, axis=1, keepdims=True), 1e-12)
        unit_vecs = np.concatenate([sent_vecs, pair_vecs])[keep]
        t0 = self._tick("encode", t0)
        if pool is not None and len(unit_vecs) > 1:
            first, rest = _in_halves(pool, lambda part: self.nearest(part, k), unit_vecs)
            vec_hits = first + rest
        else:
            vec_hits = self.nearest(unit_vecs, k)
        self._tick("ann", t0)
        return unit_vecs, vec_hits

    def _fused(
        self,
        sentences: list[Sentence],
        keep: list[int],
        kept_terms: list[list[str]],
        k: int,
        sentence_vectors: NDArray[np.float32] | None = None,
    ) -> list[list[tuple[str, dict[str, float], dict[str, float]]]]:
        """BM25 and vector candidates of every kept unit, fused; each with its features (cosine
        included) and the fusion's ranks. Rank 0 means "not in that list's top k"."""
        assert self.encoder is not None and self.claim_vectors is not None
        t0 = time.perf_counter()
        pool = _match_pool(self.threads) if self.threads > 1 else None
        if pool is None:
            unit_vecs, vec_hits = self._vector_side(sentences, keep, k, sentence_vectors, None, t0)
            t0 = time.perf_counter()
            lex_hits = self.index.candidates_terms(kept_terms, k, include=[[cid for cid, _ in h] for h in vec_hits])
        else:
            # BM25's sparse product in one thread while the vectors are made and searched in two:
            # its lexical scores of the vector candidates are read from that product once they come.
            vec_done: Future[list[list[tuple[str, float]]]] = Future()
            with blas_threads(1):  # every thread's BLAS on one thread, whatever each one's exit restores
                # its own thread, not the pool's: it waits for the vectors, and a pool worker that
                # waits could leave two concurrent matches each waiting for the other's queue
                lexical = _in_thread(self.index.candidates_terms, kept_terms, k,
                                     include=lambda: [[cid for cid, _ in h] for h in vec_done.result()])
                try:
                    unit_vecs, vec_hits = self._vector_side(sentences, keep, k, sentence_vectors, pool, t0)
                except BaseException as exc:
                    vec_done.set_exception(exc)
                    raise
                vec_done.set_result(vec_hits)
                t0 = time.perf_counter()
                lex_hits = lexical.result()  # "bm25" below: what is left of it once the vectors are searched
        t0 = self._tick("bm25", t0)
        out = []
        for u, (lex, vec) in enumerate(zip(lex_hits, vec_hits, strict=True)):
            by_bm25 = sorted((h for h in lex if h[1] > 0), key=lambda h: -h[1])[:k]
            lex_rank = {h[0]: r for r, h in enumerate(by_bm25, start=1)}
            vec_rank = {cid: r for r, (cid, _) in enumerate(vec, start=1)}
            fused = dict(reciprocal_rank_fusion([[h[0] for h in by_bm25], [cid for cid, _ in vec]]))
            cands = []
            for cid, bm25, q_cov, c_cov in lex:
                if cid not in fused:
                    continue  # an included claim already past BM25's top k
                cosine = float(unit_vecs[u] @ self.claim_vectors[self.index.position(cid)])
                extra = {
                    "bm25": bm25,
                    "bm25_rank": float(lex_rank.get(cid, 0)),
                    "vector_rank": float(vec_rank.get(cid, 0)),
                    "fused": fused[cid],
                }
                cands.append((cid, features(bm25, q_cov, c_cov, cosine), extra))
            out.append(cands)
        self._tick("fusion", t0)
        return out


def match_threads() -> int:
    """Threads one match uses by default: ``MATCH_THREADS``, at most the cores."""
    return max(1, min(MATCH_THREADS, os.cpu_count() or 1))


def _in_halves(pool: ThreadPoolExecutor, fn: Callable[[Any], Any], items: Any) -> tuple[Any, Any]:
    """``fn`` of the first half of ``items`` in ``pool`` while this thread does the second half."""
    half = (len(items) + 1) // 2
    first = pool.submit(fn, items[:half])
    rest = fn(items[half:])
    return first.result(), rest


def _in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    """``fn(*args, **kwargs)`` in a thread of its own, its result (or exception) as a future."""
    done: Future[Any] = Future()

    def work() -> None:
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever waits on the future
            done.set_exception(exc)

    threading.Thread(target=work, name="match-bm25", daemon=True).start()
    return done


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _match_pool(threads: int) -> ThreadPoolExecutor:
    """The process's pool for matches on ``threads`` threads: it takes one half of a match's
    encoding and of its search (BM25 has a thread of its own). Keyed by process id too, since a
    forked process inherits the parent's pool object but none of its threads."""
    key = (os.getpid(), threads)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="match")
        return pool


def sentences_of(text: str) -> list[Sentence]:
    """The sentences a document is matched on (its first ``MAX_SENTENCES``)."""
    return split_sentences(text)[:MAX_SENTENCES]


def _claim_vectors(
    encoder: Encoder, pairs: Sequence[tuple[str, str]], known: dict[str, NDArray[np.float32]]
) -> NDArray[np.float32]:
    missing = [i for i, (cid, _) in enumerate(pairs) if cid not in known]
    fresh = encoder.encode([pairs[i][1] for i in missing]) if missing else None
    dim = fresh.shape[1] if fresh is not None else len(next(iter(known.values())))
    out = np.empty((len(pairs), dim), dtype=np.float32)
    for i, (cid, _) in enumerate(pairs):
        if cid in known:
            out[i] = known[cid]
    if fresh is not None:
        out[missing] = fresh
    return out


_CACHE: dict[str, tuple[ClaimSet, ClaimMatcher]] = {}
_CACHE_LOCK = threading.Lock()


def claim_pair_text(text: str, title: str | None) -> str:
    """What a claim is indexed and encoded as: ``title. text`` unless the title repeats it."""
    return f"{title}. {text}" if title and title != text else text


def matcher_for(
    store: Store,
    conn: Connection | None = None,
    *,
    encoder: Encoder | None = None,
    lexical_only: bool = False,
    index_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    ann_backend: str | None = None,
) -> tuple[ClaimSet, ClaimMatcher]:
    """The process-wide matcher for this store, rebuilt when the claim set or the ``encoder``
    changed. ``lexical_only`` (claim search) needs only the BM25 index: it never encodes claims,
    and takes the full matcher if one is already built.

    With an encoder, claim vectors come from the store (``store.vectors``, keyed by the model's
    ``name@version``): claims without one are encoded and stored first (``progress(done,
    total)``), unless ``conn`` is given, i.e. inside a write transaction, where they are
    encoded in memory only and stored by the next run. With ``index_dir`` the vectors are
    searched through the ANN index persisted there and caught up with the stored rows, so a
    restart loads the index instead of encoding or rebuilding; without it, exact search.
    ``ann_backend`` names the index's library (default: faiss when installed, else usearch)."""
    current = claim_set(store, conn)
    encoder = None if lexical_only else encoder
    key = repr(store.engine.url)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == current and (lexical_only or cached[1].encoder is encoder) and (
            ann_backend is None or cached[1].ann is None or cached[1].ann.backend == ann_backend
        ):
            return cached
        if lexical_only:
            key += "#lexical"
            cached = _CACHE.get(key)
            if cached is not None and cached[0] == current:
                return cached
        known = cached[1].vector_map() if cached is not None and cached[1].encoder is encoder else {}
        # Inside a caller's transaction (a stage batch) the index is not saved: on SQLite a
        # second writer in the same process would wait for that transaction.
        index, origin = _lexical_index(store, current, save=conn is None)
        pairs = list(_claim_pairs(store, until_pk=current.max_pk)) if encoder is not None else []
        if encoder is None or not pairs:
            matcher = ClaimMatcher(pairs, encoder=encoder, index=index)
        else:
            vecs, ann, ann_ids = _stored_vectors(store, conn, encoder, pairs, known, index_dir, progress, ann_backend)
            matcher = ClaimMatcher(pairs, encoder=encoder, index=index, claim_vectors=vecs, ann=ann, ann_ids=ann_ids)
        matcher.origin = origin
        matcher.set_claim_languages(claim_languages(store, conn))
        built = (current, matcher)
        _CACHE[key] = built
        return built


def _claim_pairs(store: Store, *, after_pk: int = 0, until_pk: int) -> Iterator[tuple[str, str]]:
    for cid, text, title in iter_claim_texts(store, after_pk=after_pk, until_pk=until_pk):
        yield cid, claim_pair_text(text, title)


INDEX_FORMAT = "1"  # bump when what is indexed per claim changes (claim_pair_text, the fields)


def index_name() -> str:
    """Under which name the store keeps the lexical index: the analyzer and BM25 parameters,
    so an index made with other settings is never loaded."""
    return f"bm25/{INDEX_FORMAT}/{TUNED_ANALYZER!r}/k1={TUNED_K1}/b={TUNED_B}"


def _lexical_index(store: Store, current: ClaimSet, *, save: bool = True) -> tuple[BM25Index, str]:
    """The BM25 index of the claims up to ``current``: loaded from the store when it holds
    exactly those, updated with the claims added since it was saved, built otherwise; saved
    back whenever it changed. (Claims are never deleted, so the pks past the saved maximum
    are exactly the new ones; a count that does not add up means a rebuild.)"""
    name = index_name()
    saved = load_claim_index(store, name)
    index: BM25Index | None = None
    origin = "built"
    if saved is not None and saved.claims.max_pk <= current.max_pk:
        index = BM25Index.from_bytes(saved.data, TUNED_ANALYZER)
        if saved.claims == current and len(index) == current.count:
            return index, "loaded"
        added = index.add(_claim_pairs(store, after_pk=saved.claims.max_pk, until_pk=current.max_pk))
        origin = f"updated +{added}"
        if len(index) != current.count:
            index = None
    if index is None:
        origin = "built"
        index = BM25Index.build(_claim_pairs(store, until_pk=current.max_pk), TUNED_ANALYZER, k1=TUNED_K1, b=TUNED_B)
    if save:
        save_claim_index(store, name, ClaimSet(count=len(index), max_pk=current.max_pk), index.to_bytes())
    return index, origin


def _stored_vectors(
    store: Store,
    conn: Connection | None,
    encoder: Encoder,
    pairs: Sequence[tuple[str, str]],
    known: dict[str, NDArray[np.float32]],
    index_dir: Path | None,
    progress: Callable[[int, int], None] | None,
    ann_backend: str | None = None,
) -> tuple[NDArray[np.float32], AnnIndex | None, dict[int, str] | None]:
    """The claims' vectors in ``pairs`` order, and the ANN index over them with its labels."""
    model = model_key(encoder)
    if conn is None:
        vector_store.encode_missing(store, "claim", model, pairs, encoder.encode, progress=progress)
    by_id: dict[str, tuple[int, NDArray[np.float32]]] = {}
    with store.connect(conn) as c:
        for rows in vector_store.iter_vectors(c, "claim", model):
            for i, (pk, cid) in enumerate(zip(rows.pks, rows.ids, strict=True)):
                by_id[cid] = (int(pk), rows.matrix[i])
    missing = [(cid, text) for cid, text in pairs if cid not in by_id and cid not in known]
    fresh: dict[str, NDArray[np.float32]] = {}
    if missing:
        fresh = dict(zip((cid for cid, _ in missing), encoder.encode([t for _, t in missing]), strict=True))
    dim = next(iter(by_id.values()))[1].shape[0] if by_id else len(next(iter({**known, **fresh}.values())))
    vecs = np.empty((len(pairs), dim), dtype=np.float32)
    for i, (cid, _) in enumerate(pairs):
        vecs[i] = by_id[cid][1] if cid in by_id else known[cid] if cid in known else fresh[cid]
    if index_dir is None or missing:
        return vecs, None, None  # exact search; the index waits for every claim to be stored
    path = vector_store.index_path(store.engine.url, index_dir, "claims", model)
    assert path is not None  # a folder was given
    with store.connect(conn) as c:
        got = vector_store.caught_up_index(c, "claim", model, path, dim=dim, backend=ann_backend)
    return vecs, got.ann, got.labels


def claim_signal(document_id: str | None, match: Match, claim: Any, encoder: str | None = None) -> Signal:
    """The ``claim_match`` signal of one match in one stored document (``claim``: its
    ``ClaimRecord``); the stage and ``fimiscope import batch`` write the same."""
    c = claim.claim
    sentence_text = " ".join(s.text for s in match.sentences)
    label = c.title or (c.text[:100] + ("…" if len(c.text) > 100 else ""))
    return Signal(
        type="claim_match",
        title=f"Repeats a debunked claim: {label}",
        summary=f"{sentence_text[:300]!r} matches claim {c.id} (p={match.probability:.2f})",
        score=round(match.probability, 4),
        detector=ClaimStage.name,
        detector_version=VERSION,
        parameters={
            "threshold": THRESHOLD,
            "candidates": CANDIDATES,
            **(
                {"encoder": encoder, "fusion": "reciprocal rank fusion, k=60",
                 "calibration": encoder_calibration_provenance(encoder),
                 "cross_language": CROSS_LANGUAGE_PROVENANCE}
                if encoder
                else {"calibration": CALIBRATION_PROVENANCE}
            ),
        },
        key=f"claim:{document_id}:{c.id}",
        evidence=[
            Evidence(
                document_id=document_id,
                role="sentence",
                span_start=s.start,
                span_end=s.end,
                score=round(match.probability, 4),
                details={"text": s.text},
            )
            for s in match.sentences
        ],
        details={
            "claim_id": c.id,
            "claim_text": c.text,
            "claim_title": c.title,
            "verdict": c.verdict,
            "debunk": (c.debunk or "")[:2000] or None,
            "debunk_url": c.debunk_url,
            "sentence": sentence_text,
            "span_start": match.start,
            "span_end": match.end,
            "components": {k: round(v, 4) for k, v in match.components.items()},
        },
    )


@register
class ClaimStage(DocumentStage):
    name = "detect.claims"
    order = 60
    description = "Match document sentences against the database of debunked claims."
    parallel = True  # each document against the claims: batches may run in several workers at once

    def __init__(
        self, encoder: Encoder | None = None, index_dir: Path | None = None, ann_backend: str | None = None
    ) -> None:
        self.encoder = encoder  # None: lexical matching only
        self.index_dir = index_dir  # where the claims' ANN index is kept; None: exact vector search
        self.ann_backend = ann_backend  # faiss or usearch; None: index.ann.default_backend()

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimStage:
        encoder = encoder_from_settings(settings)
        backend = None if settings.ann_backend == "auto" else settings.ann_backend
        return cls(encoder=encoder, index_dir=settings.data_dir / "vectors" if encoder is not None else None,
                   ann_backend=backend)

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        current = claim_set(store)
        with store.transaction() as conn:
            seen = watermark_store.watermark(conn, _CLAIM_STATE)
            if current.max_pk != seen:
                # New claims: every document must be matched again (signals are keyed, so idempotent).
                watermark_store.set_watermark(conn, self.name, 0)
                watermark_store.set_watermark(conn, _CLAIM_STATE, current.max_pk)
        # Load, update or build the index outside the write transactions. Claims not yet stored
        # with this model's vectors (all of them after a model change) are encoded now, and the
        # stage's progress bar counts them before it counts the documents.
        encoded = [0]

        def encoding(done: int, total: int) -> None:
            encoded[0] = total
            if total:
                progress(done, total)

        _set, matcher = matcher_for(store, encoder=self.encoder, index_dir=self.index_dir, progress=encoding,
                                    ann_backend=self.ann_backend)
        report = super().run(store, batch_size=batch_size, progress=progress)
        report.details["claims"] = current.count
        report.details["claim_index"] = matcher.origin
        if self.encoder is not None:
            report.details["claims_encoded"] = encoded[0]
        return report

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        current, matcher = matcher_for(store, conn, encoder=self.encoder, index_dir=self.index_dir,
                                       ann_backend=self.ann_backend)
        if not current.count:
            return 0
        # one thread per match when other workers use the other cores (the matcher is shared by
        # every run in this process, so set either way)
        matcher.threads = 1 if self.workers > 1 else match_threads()
        stored = self._sentence_vectors(conn, docs) if matcher.searches_vectors else {}
        found: list[tuple[Document, Match]] = []
        for doc in docs:
            vecs = stored.get(doc.id) if doc.id else None
            found.extend((doc, m) for m in matcher.match_text(doc.text, language=doc.language, sentence_vectors=vecs))
        if not found:
            return 0
        claims = get_claims(store, [m.claim_id for _, m in found])
        encoder = matcher.encoder.name if matcher.encoder is not None else None
        sigs = [claim_signal(doc.id, m, claims[m.claim_id], encoder) for doc, m in found if m.claim_id in claims]
        new, _updated = signal_store.upsert_signals(conn, sigs)
        return new


    def _sentence_vectors(self, conn: Connection, docs: Sequence[Document]) -> dict[str, NDArray[np.float32]]:
        """Each document's sentence vectors: stored ones when the text is the same, else encoded
        now and stored in the batch's transaction. New claims send every document through the
        stage again; this makes that a load instead of a second encoding."""
        assert self.encoder is not None
        model = model_key(self.encoder)
        ids = [d.id for d in docs if d.id]
        stored = vector_store.get_matrices(conn, "sentences", model, ids)
        out: dict[str, NDArray[np.float32]] = {}
        fresh: list[tuple[str, str, NDArray[np.float32]]] = []
        for doc in docs:
            if not doc.id:
                continue
            sentences = sentences_of(doc.text)
            digest = vector_store.text_digest(doc.text)
            got = stored.get(doc.id)
            if got is not None and got[0] == digest and got[1].shape[0] == len(sentences):
                out[doc.id] = got[1]
            elif sentences:
                out[doc.id] = self.encoder.encode([s.text for s in sentences])
                fresh.append((doc.id, digest, out[doc.id]))
        vector_store.put_vectors(conn, "sentences", model, fresh)
        return out


# -- analyst verdicts ----------------------------------------------------------------------------


def verdict_report(
    pairs: Sequence[dict[str, Any]], *, threshold: float = THRESHOLD, target_precision: float = 0.9
) -> dict[str, Any]:
    """How the detector does on analyst-judged matches (``fimiscope claims pairs`` rows).

    Precision at ``threshold`` is the share of confirmed pairs among the judged ones scored at
    or above it. Only matches the detector flagged get judged, so the verdicts can say where
    to raise the threshold, never how much a lower one would find: the suggestion is the
    lowest judged score from which precision reaches ``target_precision``.
    """
    judged = sorted(
        ((float(p["score"]), p["verdict"] == "confirmed") for p in pairs
         if p.get("verdict") in ("confirmed", "dismissed") and isinstance(p.get("score"), int | float)),
        reverse=True,
    )
    confirmed = sum(ok for _, ok in judged)

    def at(t: float) -> dict[str, Any]:
        kept = [ok for s, ok in judged if s >= t - 1e-12]
        good = sum(kept)
        return {
            "threshold": round(t, 4),
            "pairs": len(kept),
            "confirmed": good,
            "precision": round(good / len(kept), 4) if kept else None,
            "confirmed_kept": round(good / confirmed, 4) if confirmed else None,
        }

    suggested = None
    for score in sorted({s for s, _ in judged}):
        row = at(score)
        if row["precision"] is not None and row["precision"] >= target_precision:
            suggested = round(score, 4)
            break
    steps = sorted({round(threshold + 0.05 * i, 2) for i in range(int((1 - threshold) / 0.05) + 1)})
    return {
        "judged": len(judged),
        "confirmed": confirmed,
        "dismissed": len(judged) - confirmed,
        "target_precision": target_precision,
        "at_threshold": at(threshold),
        "suggested_threshold": suggested,
        "at_suggested": at(suggested) if suggested is not None else None,
        "curve": [at(t) for t in steps if t <= 1.0],
    }
