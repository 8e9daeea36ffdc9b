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
   (``index/encoders.py``) adds candidates when the user configures a local model.
3. **Clusters and chains.** Verified pairs join documents into clusters (union of existing
   clusters; the oldest cluster id survives a merge). The origin is the earliest publication;
   every verified pair is a chain edge copier -> copied with its lag and whether the copier
   credits the copied outlet (its domain, URL or name) or strips it.
4. **Signals.** A copy at a source that is not flagged, in a cluster whose origin is at a
   flagged source (official state / state-controlled / state-linked / state-aligned).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.index import anchors as anchor_kernel
from fimiscope.index.encoders import encoder_from_settings
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

VERSION = "1"
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
    anchor_max_df: float = 0.02  # anchors in more than this share of documents are not rare
    anchor_candidates: int = 30
    length_ratio: float = 5.0
    window_days: float = 14.0
    sentence_windows: bool = True  # also index 2-sentence windows: excerpts that cut across paragraphs
    encoder_threshold: float = 0.5  # cosine; chosen on dev with all-MiniLM-L6-v2 (model-specific)
    # A unit is verified against at most this many members of one LSH bucket, the oldest first.
    # Clusters join transitively, so linking to the oldest members (the origin among them) is
    # enough; without the cap, widely repeated boilerplate makes verification quadratic.
    bucket_sample: int = 30

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(slots=True)
class Match:
    a: str
    b: str
    method: str
    similarity: float
    paragraphs: list[dict[str, Any]] = field(default_factory=list)
    shared_anchors: list[str] = field(default_factory=list)


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


@register
class LaunderingStage(DocumentStage):
    name: ClassVar[str] = "detect.laundering"
    order: ClassVar[int] = 60
    description: ClassVar[str] = "Near-duplicate, partial and translated republication; clusters, chains, signals."

    def __init__(self, params: Params | None = None, encoder: Any = None) -> None:
        self.params = params or Params()
        self.hasher = MinHasher(self.params.num_perm, self.params.seed, scheme=self.params.scheme)
        self.bands, self.rows = optimal_bands(self.params.lsh_threshold, self.params.num_perm)
        self.encoder = encoder  # None: no translation matching (the lexical paths still run)
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LaunderingStage:
        return cls(encoder=encoder_from_settings(settings))

    def record_matches(self, conn: Connection, matches: dict[tuple[str, str], Match]) -> int:
        """Write verified pairs found elsewhere (the Spark job's, through ``fimiscope import
        batch``) as ``process`` writes its own: edges, clusters, signals. Returns new signals."""
        if not matches:
            return 0
        self._write_edges(matches, conn)
        cluster_ids = self._recluster({x for k in matches for x in k}, conn)
        sigs = self._signals(cluster_ids, conn)
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
            a = anchor_kernel.anchors(doc.text, doc.links, images)
            per_doc[doc.id] = a
            db.insert_anchors(conn, doc.id, a)
        n_docs = max(db.anchored_documents(conn), 1)
        df = db.anchor_df(conn, {a for s in per_doc.values() for a in s})
        max_df = max(2, int(p.anchor_max_df * n_docs))
        matches: dict[tuple[str, str], Match] = {}
        mine = {d.id: d for d in docs}
        for doc_id, mine_anchors in per_doc.items():
            rare = {a for a in mine_anchors if df.get(a, 0) <= max_df}
            if len(rare) < p.anchor_min_shared:
                continue
            hits = db.documents_with_anchors(conn, rare)
            hits.pop(doc_id, None)
            ranked = sorted(
                (
                    (sum(anchor_kernel.anchor_weight(x, df, n_docs) for x in s), d)
                    for d, s in hits.items()
                    if len(s) >= p.anchor_min_shared
                ),
                reverse=True,
            )[: p.anchor_candidates]
            if not ranked:
                continue
            others = db.anchors_of(conn, [d for _, d in ranked])
            df.update(db.anchor_df(conn, {a for s in others.values() for a in s} - set(df)))
            info = db.doc_info(conn, [doc_id, *others])
            me = info[doc_id]
            for other_id, their in others.items():
                o = info.get(other_id)
                if o is None or not self._plausible_translation(me, o):
                    continue
                score, shared = anchor_kernel.anchor_similarity(mine_anchors, their, df, n_docs)
                if score >= p.anchor_threshold:
                    key = (min(doc_id, other_id), max(doc_id, other_id))
                    m = matches.get(key)
                    if m is None or m.similarity < score:
                        matches[key] = Match(key[0], key[1], "translation", round(score, 4), shared_anchors=shared[:40])
        del mine
        return matches

    def _plausible_translation(self, a: db.DocInfo, b: db.DocInfo) -> bool:
        p = self.params
        if not a.language or not b.language or a.language.split("-")[0] == b.language.split("-")[0]:
            return False
        la, lb = max(len(a.text), 1), max(len(b.text), 1)
        if max(la, lb) / min(la, lb) > p.length_ratio:
            return False
        return not (
            a.published_at
            and b.published_at
            and abs((a.published_at - b.published_at).total_seconds()) > p.window_days * 86400
        )

    def _encoder_matches(self, docs: Sequence[Document], conn: Connection) -> dict[tuple[str, str], Match]:
        if self.encoder is None:
            return {}
        from fimiscope.index.encoders import VectorIndex

        texts = [f"{d.title or ''}\n{d.text}"[:2000] for d in docs]
        vecs = self.encoder.encode(texts)
        index = VectorIndex(vecs.shape[1])
        stored_ids = list(self._vectors)
        if stored_ids:
            index.add(stored_ids, np.stack([self._vectors[i] for i in stored_ids]))
        batch_ids = [d.id for d in docs if d.id]
        index.add(batch_ids, vecs)
        for i, v in zip(batch_ids, vecs, strict=True):
            self._vectors[i] = v
        info = db.doc_info(conn, batch_ids)
        out: dict[tuple[str, str], Match] = {}
        for doc_id, hits in zip(batch_ids, index.search(vecs, 10), strict=True):
            for other, score in hits:
                if other == doc_id or score < self.params.encoder_threshold:
                    continue
                if other not in info:
                    info.update(db.doc_info(conn, [other]))
                if not self._plausible_translation(info[doc_id], info[other]):
                    continue
                key = (min(doc_id, other), max(doc_id, other))
                if key not in out or out[key].similarity < score:
                    out[key] = Match(key[0], key[1], "translation", round(float(score), 4))
        return out

    # -- clusters and chains --------------------------------------------------------------------

    def _write_edges(self, matches: dict[tuple[str, str], Match], conn: Connection) -> dict[str, db.DocInfo]:
        info = db.doc_info(conn, {x for k in matches for x in k})
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
            db.delete_edge(conn, older.id, newer.id)  # direction may flip when a date arrives
            db.upsert_edge(
                conn,
                {
                    "copier_document_id": newer.id,
                    "copied_document_id": older.id,
                    "method": m.method,
                    "similarity": m.similarity,
                    "lag_s": lag,
                    "attribution": "credited" if credited else "stripped",
                    "details": {
                        "paragraphs": paras,
                        "shared_anchors": m.shared_anchors,
                        "credit": credited,
                        "direction": "publication time"
                        if by_date
                        else "collection order (publication time missing or equal)",
                    },
                },
            )
        return info

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

    def _recluster(self, touched: set[str], conn: Connection) -> list[str]:
        """Rebuild the clusters around ``touched`` documents; returns the cluster ids written."""
        existing = db.clusters_of(conn, touched)
        old_clusters = set(existing.values())
        members = set(touched)
        for ms in db.members_of(conn, old_clusters).values():
            members.update(ms)
        # connected components over every edge among these documents (grow until closed)
        edges = db.edges_touching(conn, members)
        grow = {e["copier_document_id"] for e in edges} | {e["copied_document_id"] for e in edges}
        while grow - members:
            members |= grow
            edges = db.edges_touching(conn, members)
            grow = {e["copier_document_id"] for e in edges} | {e["copied_document_id"] for e in edges}
        existing = db.clusters_of(conn, members)
        old_rows = db.cluster_rows(conn, set(existing.values()))
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
        written = []
        for comp in comps.values():
            if len(comp) < 2:
                continue
            prior = sorted(
                {existing[m] for m in comp if m in existing},
                key=lambda c: (old_rows[c]["created_at"], c) if c in old_rows else (datetime.max, c),
            )
            docs = sorted((info[m] for m in comp if m in info), key=_order_key)
            if not docs:
                continue
            cluster_id = prior[0] if prior else "clu_" + min(docs, key=lambda d: d.seq).id.split("_")[-1]
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
                        "similarity": best.get(d.id, (None, None))[0],
                        "method": best.get(d.id, (None, None))[1],
                    }
                    for d in docs
                ],
                absorbed=prior[1:],
            )
            written.append(cluster_id)
        return written

    # -- signals -------------------------------------------------------------------------------

    def _signals(self, cluster_ids: list[str], conn: Connection) -> list[Signal]:
        out: list[Signal] = []
        for cid in cluster_ids:
            cluster = db.get_cluster(conn, cid)
            by_id = {m["document_id"]: m for m in cluster["members"]}
            origin = by_id[cluster["origin_document_id"]]
            info = db.doc_info(conn, by_id)
            o = info[origin["document_id"]]
            if not o.flagged:
                continue
            for m in cluster["members"]:
                d = info.get(m["document_id"])
                if d is None or m["role"] != "copy" or d.flagged or d.source == o.source:
                    continue
                mine = [e for e in cluster["edges"] if e["copier_document_id"] == d.id]
                stripped = all(e["attribution"] == "stripped" for e in mine) if mine else True
                similarity = max((e["similarity"] for e in mine), default=m["similarity"] or 0.0)
                lag = None
                if d.published_at and o.published_at:
                    lag = (d.published_at - o.published_at).total_seconds()
                evidence = [
                    Evidence(
                        document_id=o.id,
                        role="origin",
                        score=1.0,
                        details={
                            "source": o.source,
                            "affiliation": o.affiliation.value,
                            "language": o.language,
                            "published_at": origin["published_at"],
                        },
                    ),
                    Evidence(
                        document_id=d.id,
                        role="copy",
                        score=similarity,
                        details={
                            "source": d.source,
                            "affiliation": d.affiliation.value,
                            "language": d.language,
                            "published_at": m["published_at"],
                            "lag_s": lag,
                            "attribution_stripped": stripped,
                        },
                    ),
                ]
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
                chain = [
                    {
                        "copier": e["copier_document_id"],
                        "copied": e["copied_document_id"],
                        "method": e["method"],
                        "similarity": e["similarity"],
                        "lag_s": e["lag_s"],
                        "attribution": e["attribution"],
                    }
                    for e in cluster["edges"]
                ]
                langs = sorted({x for x in (o.language, d.language) if x})
                out.append(
                    Signal(
                        type="laundering",
                        title=f"{d.source or d.id} republished content from {o.source} ({o.affiliation.value})",
                        summary=(
                            f"{'attribution stripped' if stripped else 'credits its source'}; "
                            f"{', '.join(sorted({e['method'] for e in mine})) or 'clustered'}; "
                            f"lag {lag / 3600:.1f} h"
                            if lag is not None
                            else f"{'attribution stripped' if stripped else 'credits its source'}; lag unknown"
                        ),
                        score=round(min(1.0, similarity) * (1.0 if stripped else 0.8), 4),
                        detector=self.name,
                        detector_version=VERSION,
                        parameters=self.params.as_dict(),
                        evidence=evidence,
                        key=f"laundering:{d.id}",
                        details={
                            "cluster_id": cid,
                            "origin_document_id": o.id,
                            "origin_reason": cluster["origin_reason"],
                            "languages": langs,
                            "cluster_languages": cluster["languages"],
                            "attribution_stripped": stripped,
                            "lag_s": lag,
                            "chain": chain,
                            "members": [
                                {k: x[k] for k in ("document_id", "role", "source", "language", "published_at")}
                                for x in cluster["members"]
                            ],
                        },
                    )
                )
        return out

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
            if key not in matches or (matches[key].method == "translation" and matches[key].similarity < m.similarity):
                matches[key] = m
        if not matches:
            return 0
        self._write_edges(matches, conn)
        touched = {x for k in matches for x in k}
        cluster_ids = self._recluster(touched, conn)
        sigs = self._signals(cluster_ids, conn)
        if sigs:
            signal_store.upsert_signals(conn, sigs)
        return len(sigs)
