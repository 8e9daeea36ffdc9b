"""Claim matching: which sentences of a document repeat a claim that was already debunked.

Each document is split into sentences; every sentence (and every pair of neighbouring
sentences, since a claim often spans two) retrieves its best claims from a BM25 index over
all stored claims; each candidate gets a calibrated probability from its score components
(``fimiscope.index.bm25.calibrated``); the best unit per claim above the threshold becomes a
``claim_match`` signal naming the sentence span(s), the claim and the debunk.

Incremental: the stage reads documents past its watermark. When the claim set changes
(a claim was added), the watermark goes back to 0 so older documents are matched against the
new claims too; signals are keyed ``claim:<document>:<claim>``, so nothing is written twice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.index.bm25 import (
    CALIBRATION_PROVENANCE,
    TUNED_ANALYZER,
    TUNED_B,
    TUNED_K1,
    Analyzer,
    BM25Index,
    calibrated,
    features,
)
from fimiscope.pipeline import DocumentStage, StageReport, register
from fimiscope.store import Store
from fimiscope.store.claims import ClaimSet, claim_set, get_claims, iter_claim_texts

__all__ = ["ClaimMatcher", "ClaimStage", "Match", "split_sentences"]

VERSION = "1"
THRESHOLD = 0.5  # calibrated probability; see docs/evaluation.md "## claims"
CANDIDATES = 5  # claims retrieved per sentence
MAX_SENTENCES = 400  # per document: a book-length page is matched on its first 400 sentences
MIN_TERMS = 3  # a sentence with fewer index terms cannot carry a claim
_CLAIM_STATE = "detect.claims:claim-set"  # watermark row holding the max claim pk last matched

# -- sentences -----------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k no nos fig jan feb mar apr jun jul aug sep sept
    oct nov dec gen col lt sgt gov sen rep inc ltd co corp dept est approx
    např tzv atd mj resp str č mld mil tj ing mgr doc sv tel kč p pí ul nám odst písm
    т.е т.д т.п т.к г гг им ул млн млрд тыс руб др см проф стр с пос обл кв
    """.split()
)
# End of a sentence: terminal punctuation, closing quotes/brackets, whitespace, then something
# that can start one. Paragraph breaks always end a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+(?=[\"'«„“(\[]?[0-9A-ZÀ-ÞĀ-ŽА-ЯЁЄІЇҐ])|\n\s*\n|\n(?=\s*[-•*])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their character spans in ``text``. Handles abbreviations (Dr., např.,
    т.е.) and initials (A. Babiš) in English, Czech and Russian; not a full segmenter."""
    out: list[Sentence] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        head = text[start : m.start() + 1]
        if text[m.start()] == ".":
            before = _WORD_BEFORE.search(head)
            if before:
                word = before.group(1).casefold()
                if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
        _add_sentence(out, text, start, m.end())
        start = m.end()
    _add_sentence(out, text, start, len(text))
    return out


def _add_sentence(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    s = start + (len(piece) - len(piece.lstrip()))
    out.append(Sentence(s, s + len(stripped), stripped))


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
    """A BM25 index over claims (text + title) and the scoring of sentences against it."""

    def __init__(self, pairs: Sequence[tuple[str, str]], analyzer: Analyzer | None = None) -> None:
        self.index = BM25Index.build(pairs, analyzer or TUNED_ANALYZER, k1=TUNED_K1, b=TUNED_B)
        self.analyzer = self.index.analyzer

    def match_text(
        self, text: str, *, threshold: float = THRESHOLD, k: int = CANDIDATES
    ) -> list[Match]:
        if not len(self.index):
            return []
        sentences = split_sentences(text)[:MAX_SENTENCES]
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
        hits_per_unit = self.index.candidates_terms([unit_terms[i] for i in keep], k)
        best: dict[str, Match] = {}
        for unit, hits in zip(units, hits_per_unit, strict=True):
            for claim_id, bm25, q_cov, c_cov in hits:
                feats = features(bm25, q_cov, c_cov)
                p = calibrated(feats)
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
                        components={"bm25": bm25, **feats, "calibrated": p},
                    )
        return sorted(best.values(), key=lambda m: (-m.probability, m.start, m.claim_id))


_CACHE: dict[str, tuple[ClaimSet, ClaimMatcher]] = {}
_CACHE_LOCK = threading.Lock()


def matcher_for(store: Store, conn: Connection | None = None) -> tuple[ClaimSet, ClaimMatcher]:
    """The process-wide matcher for this store, rebuilt when the claim set changed."""
    current = claim_set(store, conn)
    key = repr(store.engine.url)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == current:
            return cached
        pairs = [(cid, f"{title}. {text}" if title and title != text else text) for cid, text, title in
                 iter_claim_texts(store)]
        built = (current, ClaimMatcher(pairs))
        _CACHE[key] = built
        return built


def _signal(doc: Document, match: Match, claim: Any) -> Signal:
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
        parameters={"threshold": THRESHOLD, "candidates": CANDIDATES, "calibration": CALIBRATION_PROVENANCE},
        key=f"claim:{doc.id}:{c.id}",
        evidence=[
            Evidence(
                document_id=doc.id,
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

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        current = claim_set(store)
        with store.transaction() as conn:
            seen = store.watermark(_CLAIM_STATE, conn)
            if current.max_pk != seen:
                # New claims: every document must be matched again (signals are keyed, so idempotent).
                store.set_watermark(self.name, 0, conn)
                store.set_watermark(_CLAIM_STATE, current.max_pk, conn)
        matcher_for(store)  # build (or reuse) the index outside the write transactions
        report = super().run(store, batch_size=batch_size, progress=progress)
        report.details["claims"] = current.count
        return report

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        current, matcher = matcher_for(store, conn)
        if not current.count:
            return 0
        found: list[tuple[Document, Match]] = []
        for doc in docs:
            found.extend((doc, m) for m in matcher.match_text(doc.text))
        if not found:
            return 0
        claims = get_claims(store, [m.claim_id for _, m in found])
        sigs = [_signal(doc, m, claims[m.claim_id]) for doc, m in found if m.claim_id in claims]
        new, _updated = store.upsert_signals(sigs, conn)
        return new
