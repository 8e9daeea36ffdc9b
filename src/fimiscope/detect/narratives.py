"""Narratives over time: which stories the manipulation pushes, where they start, when they surge.

Two stages:

``detect.narratives`` (per batch of new documents, ``index/narratives.py`` does the maths):

1. **Known narratives.** Every document is scored against the active known narratives (name,
   description, keywords, examples); each narrative it clears is an assignment with its score
   and the sentences that carry it. Model-free by default (hashed tf-idf of the BM25 analyzer's
   terms, Cyrillic transliterated, plus name anchors); with the encoder plug-in
   (``FIMISCOPE_ENCODER_PATH``) the encoder's cosines are mixed in. When the known set changes
   (an analyst adds, imports or promotes one) every stored document is scored again.
2. **Emerging narratives.** A document that fits no known narrative joins the emerging
   narrative of its nearest earlier document (cosine >= ``join``) or founds one named after
   itself. Ids never change when data is added; merges and splits are written as lineage.
   Each emerging narrative with ``min_size`` documents gets a label per language (its most
   distinctive words, c-TF-IDF style) and its representative documents.

``detect.narrative_signals`` (the whole store, after the first):

* ``narrative_surge``: Kleinberg's two-state burst detection over the narrative's daily share
  of all documents; a burst that reaches the newest day is a surge.
* ``narrative_reach``: a narrative first seen at a state-affiliated source (official state,
  state-controlled, state-linked, state-aligned) now carried by independent sources.
* ``narrative_new_language``: a narrative marked debunked resurfacing in a language it had not
  been seen in.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import zstandard
from scipy import sparse
from sqlalchemy.engine import Connection

from fimiscope.config import Settings as AppSettings
from fimiscope.core.model import Affiliation, Document, Evidence, Signal
from fimiscope.index.bm25 import _STOPWORDS
from fimiscope.index.encoders import Encoder, encoder_from_settings
from fimiscope.index.narratives import (
    BURST_GAMMA,
    BURST_METHOD,
    BURST_S,
    AssignParams,
    ClusterParams,
    EmergingClusters,
    LinearNarratives,
    NarrativeAssigner,
    NarrativeDefinition,
    TermVectors,
    bursts,
    embed_documents,
    learned_fingerprint,
)
from fimiscope.index.sentences import split_sentences
from fimiscope.pipeline import DocumentStage, Stage, StageReport, register
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import narratives as db
from fimiscope.store import signals as signal_store
from fimiscope.store import watermarks as watermark_store

VERSION = "1"
MAX_SENTENCES = 300
_DF_KEY = "term-frequencies"
_KNOWN_KEY = "known-fingerprint"
_LEARNED_KEY = "learned-model"  # the fitted learned part, with the fingerprint of its input
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_URL = re.compile(r"\S+://\S+|www\.\S+")

# Emerging narratives join at a cosine that depends on the vector space: hashed tf-idf of whole
# documents runs lower than sentence-encoder cosines. Chosen on the EUvsDisinfo stability run
# (eval/narratives_stability.py) and the demo; see docs/narratives.md.
LEXICAL_CLUSTERS = ClusterParams(join=0.3, merge=0.6, split=0.15)
ENCODER_CLUSTERS = ClusterParams(join=0.7, merge=0.85, split=0.5)


@dataclass(slots=True)
class Settings:
    assign: AssignParams
    lexical_clusters: ClusterParams
    encoder_clusters: ClusterParams

    @classmethod
    def default(cls) -> Settings:
        return cls(AssignParams(), LEXICAL_CLUSTERS, ENCODER_CLUSTERS)


# -- state ---------------------------------------------------------------------------------------


def _pack_df(tv: TermVectors) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.concatenate([[tv.n_docs], tv.df]).astype(np.int64), allow_pickle=False)
    packed = bytes(zstandard.ZstdCompressor(level=3).compress(buf.getvalue()))
    return packed


def _unpack_df(data: bytes | None) -> TermVectors:
    if not data:
        return TermVectors()
    arr = np.load(io.BytesIO(zstandard.ZstdDecompressor().decompress(data)), allow_pickle=False)
    return TermVectors(arr[1:].astype(np.int32), int(arr[0]))


def _pack_row(row: Any) -> bytes:
    if sparse.issparse(row):
        r = row.tocsr()
        body: bytes = r.indices.astype(np.int32).tobytes() + r.data.astype(np.float16).tobytes()
        return b"S" + body
    return b"D" + np.asarray(row, dtype=np.float16).ravel().tobytes()


def _unpack_rows(blobs: Sequence[bytes], dense: bool, n_features: int) -> Any:
    if dense:
        return np.vstack([np.frombuffer(b[1:], dtype=np.float16).astype(np.float32) for b in blobs])
    indptr = [0]
    idx, val = [], []
    for b in blobs:
        body = b[1:]
        n = len(body) // 6
        idx.append(np.frombuffer(body[: 4 * n], dtype=np.int32))
        val.append(np.frombuffer(body[4 * n :], dtype=np.float16).astype(np.float32))
        indptr.append(indptr[-1] + n)
    return sparse.csr_matrix(
        (np.concatenate(val) if val else np.zeros(0, np.float32), np.concatenate(idx) if idx else np.zeros(0, np.int32),
         np.asarray(indptr)),
        shape=(len(blobs), n_features),
    )


def document_text(doc: Document) -> str:
    return f"{doc.title}\n\n{doc.text}" if doc.title and doc.title not in doc.text[:500] else doc.text


def label_words(texts: Sequence[str], tv: TermVectors, *, top: int = 6) -> list[str]:
    """Distinctive surface words of a group of texts: frequency in the group times the
    corpus idf of the word's analyzer term (c-TF-IDF in spirit, with the corpus as the other
    class), stopwords dropped."""
    from fimiscope.index.narratives import ANALYZER, _column

    counts: Counter[str] = Counter()
    for t in texts:
        seen = set()
        for w in _WORD.findall(_URL.sub(" ", unicodedata.normalize("NFKC", t))):
            lw = w.casefold()
            if lw in _STOPWORDS or lw in seen:
                continue
            seen.add(lw)
            counts[lw] += 1
    scored = []
    for w, n in counts.items():
        if n < max(2, len(texts) // 5):
            continue
        terms = ANALYZER.terms(w)
        if not terms:
            continue
        col = np.asarray([_column(terms[0])])
        scored.append((n / len(texts) * float(tv.idf(col)[0]), w))
    scored.sort(key=lambda x: (-x[0], x[1]))
    out: list[str] = []
    for _, w in scored:
        if not any(w.startswith(o[:5]) or o.startswith(w[:5]) for o in out):
            out.append(w)
        if len(out) >= top:
            break
    return out


# -- the stage -----------------------------------------------------------------------------------


class _Run:
    """What one run of the stage holds in memory: term frequencies, the assigner, the clusters."""

    def __init__(self, store: Store, settings: Settings, encoder: Encoder | None) -> None:
        self.settings = settings
        self.encoder = encoder
        self.embed: Callable[[Sequence[str]], Any] | None = (
            (lambda texts: embed_documents(encoder.encode, texts)) if encoder is not None else None
        )
        self.space = f"encoder:{encoder.name}" if encoder is not None else "lexical"
        params = settings.encoder_clusters if encoder is not None else settings.lexical_clusters
        with store.connect() as conn:
            self.tv = _unpack_df(db.get_state(conn, _DF_KEY))
            self.known = db.known(conn)
            pool = db.recent_vectors(conn, self.space, params.window)
            owners = {r["narrative_id"] for r in pool}
            mem = db.members(conn, owners)
        defs = [NarrativeDefinition(id=k["id"], name=k["name"], description=k["description"],
                                    keywords=k["keywords"], examples=k["examples"]) for k in self.known]
        # The learned part is fit once per set of known narratives and examples and kept in
        # narrative_state: a run with the same known set loads it instead of refitting.
        key = learned_fingerprint(defs, settings.assign)
        cached = None
        if settings.assign.learned_weight > 0 and defs:
            with store.connect() as conn:
                cached = LinearNarratives.from_bytes(db.get_state(conn, _LEARNED_KEY), key)
        self.assigner = NarrativeAssigner(defs, self.tv, params=settings.assign, embed=self.embed, learned=cached)
        fitted = self.assigner.learned_fitted
        self.learned = "none" if self.assigner.learned is None else "fitted" if fitted else "cached"
        if self.assigner.learned_fitted and self.assigner.learned is not None:
            with store.transaction() as conn:
                db.set_state(conn, _LEARNED_KEY, self.assigner.learned.to_bytes(key))
        self.clusters = EmergingClusters(params, dense=encoder is not None)
        if pool:
            from fimiscope.index.narratives import N_FEATURES

            rows = _unpack_rows([r["data"] for r in pool], encoder is not None, N_FEATURES)
            in_pool = {r["document_id"] for r in pool}
            # members outside the window still count for sizes; load them first, in order
            for nar, docs in mem.items():
                self.clusters.members[nar] = [d for d in docs if d not in in_pool]
                self.clusters.founded.setdefault(nar, len(self.clusters.founded))
            self.clusters.remember([r["document_id"] for r in pool], rows, [r["narrative_id"] for r in pool])


@register
class NarrativeStage(DocumentStage):
    name: ClassVar[str] = "detect.narratives"
    order: ClassVar[int] = 65
    description: ClassVar[str] = "Assign documents to known narratives; cluster the rest into emerging narratives."

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None) -> None:
        self.settings = settings or Settings.default()
        self.encoder = encoder  # None: model-free (the default); set by from_settings when configured
        self._run: _Run | None = None

    @classmethod
    def from_settings(cls, settings: AppSettings) -> NarrativeStage:
        return cls(encoder=encoder_from_settings(settings))

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        self._run = _Run(store, self.settings, self.encoder)
        with store.connect() as conn:
            fingerprint = db.known_fingerprint(conn)
            seen = db.get_state(conn, _KNOWN_KEY)
            upto = watermark_store.watermark(conn, self.name)
        reassigned = 0
        if seen is not None and seen.decode() != fingerprint:
            reassigned = self._reassign(store, batch_size, upto)
        with store.transaction() as conn:
            db.set_state(conn, _KNOWN_KEY, fingerprint.encode())
        report = super().run(store, batch_size=batch_size, progress=progress)
        report.details.update(
            {"known_narratives": len(self._run.known), "reassigned": reassigned, "space": self._run.space,
             "learned": self._run.learned,
             "emerging": len(self._run.clusters.visible())}
        )
        return report

    def _reassign(self, store: Store, batch_size: int, upto: int) -> int:
        """The known set changed: score every document already seen against it again."""
        run = self._run
        assert run is not None
        done, seq = 0, 0
        while seq < upto:
            with store.transaction() as conn:
                docs = [d for d in document_store.documents_after(conn, seq, batch_size)
                        if int(d.metadata["_seq"]) <= upto]
                if not docs:
                    break
                seq = int(docs[-1].metadata["_seq"])
                docs = [d for d in docs if d.id and d.text and d.text.strip()]
                texts = [document_text(d) for d in docs]
                self._assign_known(conn, docs, texts, run.tv.vectors(texts))
                db.refresh_stats(conn, [k["id"] for k in run.known])
                done += len(docs)
        return done

    def _assign_known(self, conn: Connection, docs: Sequence[Document], texts: list[str], rows: Any) -> set[str]:
        run = self._run
        assert run is not None
        ids = [d.id for d in docs if d.id]
        if not len(run.assigner):
            db.replace_assignments(conn, "known", ids, [])
            return set()
        sentences = [
            [(s.start + (len(t) - len(d.text)), s.end + (len(t) - len(d.text)), s.text)
             for s in split_sentences(d.text)[:MAX_SENTENCES]]
            for d, t in zip(docs, texts, strict=True)
        ]
        found = run.assigner.assign(texts, sentences, rows=rows)
        out = []
        hit: set[str] = set()
        for d, t, assignments in zip(docs, texts, found, strict=True):
            shift = len(t) - len(d.text)  # spans point into the document's text, not the title
            for a in assignments:
                hit.add(d.id or "")
                out.append(
                    {"narrative_id": a.narrative_id, "document_id": d.id, "score": a.score,
                     "sentences": [[s - shift, e - shift, sc] for s, e, sc in a.sentences if s >= shift],
                     "components": a.components}
                )
        db.replace_assignments(conn, "known", ids, out)
        return hit

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        run = self._run
        if run is None:  # process() called directly (tests): set up as run() would
            run = self._run = _Run(store, self.settings, self.encoder)
        docs = [d for d in docs if d.id and d.text and d.text.strip()]
        if not docs:
            return 0
        texts = [document_text(d) for d in docs]
        rows = run.tv.vectors(texts, learn=True)
        fits = self._assign_known(conn, docs, texts, rows)
        rest = [i for i, d in enumerate(docs) if d.id not in fits]
        ids = [docs[i].id or "" for i in rest]
        db.forget_vectors(conn, [d.id or "" for d in docs])
        # a new version that now fits a known narrative leaves its emerging one
        db.replace_assignments(conn, "emerging", [d.id or "" for d in docs if d.id in fits], [])
        touched: set[str] = set()
        if rest:
            if run.encoder is not None and run.embed is not None:
                cluster_rows: Any = run.embed([texts[i] for i in rest])
            else:
                cluster_rows = rows[rest]
            joined = run.clusters.add(ids, cluster_rows)
            touched = {j.narrative_id for j in joined}
            lineage = run.clusters.maintain(sorted(n for n in touched if n in run.clusters.members))
            db.save_vectors(
                conn,
                [
                    {"document_id": j.document_id, "seq": int(docs[i].metadata["_seq"]),
                     "narrative_id": run.clusters.narrative_of[j.document_id], "space": run.space,
                     "data": _pack_row(cluster_rows[k])}
                    for k, (i, j) in enumerate(zip(rest, joined, strict=True))
                ],
            )
            db.replace_assignments(
                conn, "emerging", ids,
                [{"narrative_id": run.clusters.narrative_of[j.document_id], "document_id": j.document_id,
                  "score": j.similarity, "sentences": [], "components": {"nearest": j.nearest} if j.nearest else {}}
                 for j in joined],
            )
            for x in lineage:
                if x.kind == "merged":
                    db.move_assignments(conn, [], x.parent, x.child)
                    db.upsert_candidate(conn, x.parent, {"name": x.parent, "labels": {}, "representatives": []})
                    db.update(conn, x.parent, status="merged")
                    db.mark_merged(conn, x.parent, x.child)
                    touched.discard(x.parent)
                    touched.add(x.child)
                else:
                    moved = run.clusters.members.get(x.child, [])
                    db.move_assignments(conn, moved, x.parent, x.child)
                    touched.update({x.parent, x.child})
                db.add_lineage(conn, x.kind, x.parent, x.child, documents=x.documents, similarity=x.similarity)
            self._describe(conn, sorted(n for n in touched if n in run.clusters.members))
        db.refresh_stats(conn, sorted(touched | {a for a in self._known_hits(conn, fits)}))
        db.set_state(conn, _DF_KEY, _pack_df(run.tv))
        return 0

    @staticmethod
    def _known_hits(conn: Connection, doc_ids: set[str]) -> set[str]:
        return {a["narrative_id"] for v in db.narratives_of_documents(conn, doc_ids).values() for a in v
                if a["method"] == "known"}

    def _describe(self, conn: Connection, narrative_ids: Sequence[str]) -> None:
        """Labels per language and representative documents of emerging narratives that are
        big enough to be shown."""
        run = self._run
        assert run is not None
        c = run.clusters
        visible = [n for n in narrative_ids if len(c.members.get(n, ())) >= c.params.min_size]
        if not visible:
            return
        names, cents = c.centroids(visible)
        for k, nid in enumerate(names):
            members = [d for d in c.members[nid] if d in c._rows]
            if not members:
                continue
            m = np.vstack([c._dense_row(c._rows[d]) for d in members])
            sims = m @ cents[k]
            order = np.argsort(-sims, kind="stable")
            reps = [members[i] for i in order[:5]]
            sample = [members[i] for i in order[:60]]
            texts = _texts(conn, sample)
            by_lang: dict[str, list[str]] = {}
            for d in sample:
                if d in texts:
                    lang, text = texts[d]
                    by_lang.setdefault(lang or "und", []).append(text)
            labels = {lang: label_words(ts, run.tv) for lang, ts in by_lang.items() if len(ts) >= 2}
            main = max(by_lang, key=lambda lang: len(by_lang[lang])) if by_lang else "und"
            words = labels.get(main) or []
            name = " · ".join(words[:4]) if words else nid
            db.upsert_candidate(conn, nid, {"name": name, "labels": labels, "representatives": reps})


def _texts(conn: Connection, doc_ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
    import sqlalchemy as sa

    from fimiscope.store.tables import documents

    out: dict[str, tuple[str | None, str]] = {}
    q = sa.select(documents.c.id, documents.c.language, documents.c.title, documents.c.text).where(
        documents.c.id.in_(list(doc_ids))
    )
    for r in conn.execute(q):
        out[r[0]] = (r[1], f"{r[2] or ''}\n{r[3] or ''}")
    return out


# -- signals -------------------------------------------------------------------------------------

MIN_SURGE_DOCUMENTS = 5
SURGE_RECENT_DAYS = 1  # a burst ending this many days before the newest day still counts as ongoing


@register
class NarrativeSignalStage(Stage):
    name: ClassVar[str] = "detect.narrative_signals"
    order: ClassVar[int] = 66
    description: ClassVar[str] = (
        "Surging narratives, state-origin narratives reaching independents, debunked ones in a new language."
    )

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        report = StageReport(stage=self.name)
        with store.connect() as conn:
            rows = db.list_narratives(conn, limit=100_000)
            rows = [r for r in rows if r["size"] >= 2]
            sigs = self._surges(conn, rows) + self._reach(conn, rows) + self._new_language(conn, rows)
        if sigs:
            with store.transaction() as conn:
                signal_store.upsert_signals(conn, sigs)
        report.processed = len(rows)
        report.signals = len(sigs)
        progress(len(rows), len(rows))
        return report

    def _evidence(self, docs: Sequence[dict[str, Any]], role: str) -> list[Evidence]:
        out = []
        for d in docs:
            base = {k: d.get(k) for k in ("source", "affiliation", "language", "published_at", "title")}
            out.append(Evidence(document_id=d["document_id"], role=role, score=d["score"],
                                details={**base, "method": d["method"]}))
            for s in d["sentences"]:
                out.append(Evidence(document_id=d["document_id"], role="carrying_sentence", span_start=s["start"],
                                    span_end=s["end"], score=s["score"], details={"text": s["text"]}))
        return out

    def _surges(self, conn: Connection, rows: list[dict[str, Any]]) -> list[Signal]:
        axis, counts, totals = db.daily_counts(conn, [r["id"] for r in rows])
        out = []
        for r in rows:
            series = counts.get(r["id"], [])
            if sum(series) < MIN_SURGE_DOCUMENTS:
                continue
            found = bursts(series, totals, s=BURST_S, gamma=BURST_GAMMA)
            if not found:
                continue
            b = found[-1]
            if b.end < len(axis) - 1 - SURGE_RECENT_DAYS:
                continue
            in_burst = sum(series[b.start : b.end + 1])
            if in_burst < MIN_SURGE_DOCUMENTS:
                continue
            docs = [d for d in db.assigned_documents(conn, r["id"], limit=200)
                    if d["published_at"] and axis[b.start] <= d["published_at"][:10] <= axis[b.end]][:10]
            ratio = b.share / b.baseline if b.baseline else None
            out.append(
                Signal(
                    type="narrative_surge",
                    title=f"Narrative surging: {r['name']}",
                    summary=(f"{in_burst} documents {axis[b.start]} to {axis[b.end]}, {b.share:.1%} of all documents "
                             f"against {b.baseline:.1%} over the series"
                             + (f" ({ratio:.1f}x)" if ratio else "")),
                    score=round(min(1.0, 0.5 + b.weight / 100.0), 4),
                    detector=self.name,
                    detector_version=VERSION,
                    parameters={"method": BURST_METHOD, "s": BURST_S,
                                "gamma": BURST_GAMMA, "min_documents": MIN_SURGE_DOCUMENTS},
                    key=f"narrative_surge:{r['id']}:{axis[b.start]}",
                    evidence=self._evidence(docs, "surge_document"),
                    details={"narrative_id": r["id"], "narrative": r["name"], "kind": r["kind"],
                             "burst": {"start": axis[b.start], "end": axis[b.end], "documents": in_burst,
                                       "share": b.share, "baseline": b.baseline, "weight": b.weight},
                             "days": axis[max(0, b.start - 14) :], "counts": series[max(0, b.start - 14) :]},
                )
            )
        return out

    def _reach(self, conn: Connection, rows: list[dict[str, Any]]) -> list[Signal]:
        out = []
        for r in rows:
            first = db.assigned_documents(conn, r["id"], limit=1, order="first")
            if not first or not Affiliation.parse(first[0]["affiliation"]).flagged:
                continue
            docs = db.assigned_documents(conn, r["id"], limit=2000, order="first")
            independent = [d for d in docs if d["affiliation"] == Affiliation.INDEPENDENT.value][:5]
            if not independent:
                continue
            o = first[0]
            n_ind = sum(1 for d in docs if d["affiliation"] == Affiliation.INDEPENDENT.value)
            out.append(
                Signal(
                    type="narrative_reach",
                    title=f"State-origin narrative reached independent outlets: {r['name']}",
                    summary=(f"first seen at {o['source']} ({o['affiliation']}) on {(o['published_at'] or '?')[:10]}; "
                             f"{n_ind} documents at independent sources, first {independent[0]['source']} on "
                             f"{(independent[0]['published_at'] or '?')[:10]}"),
                    score=round(min(1.0, 0.5 + 0.1 * n_ind), 4),
                    detector=self.name,
                    detector_version=VERSION,
                    parameters={"flagged_tiers": sorted(a.value for a in Affiliation if a.flagged)},
                    key=f"narrative_reach:{r['id']}",
                    evidence=self._evidence([o], "origin") + self._evidence(independent, "independent"),
                    details={"narrative_id": r["id"], "narrative": r["name"], "kind": r["kind"],
                             "origin_document_id": o["document_id"], "independent_documents": n_ind},
                )
            )
        return out

    def _new_language(self, conn: Connection, rows: list[dict[str, Any]]) -> list[Signal]:
        out = []
        for r in rows:
            if not r["debunked"]:
                continue
            docs = db.assigned_documents(conn, r["id"], limit=5000, order="first")
            first_by_lang: dict[str, dict[str, Any]] = {}
            for d in docs:
                if d["language"] and d["language"] not in first_by_lang:
                    first_by_lang[d["language"]] = d
            langs = list(first_by_lang)
            for lang in langs[1:]:
                d = first_by_lang[lang]
                earlier = [first_by_lang[x] for x in langs[: langs.index(lang)]]
                out.append(
                    Signal(
                        type="narrative_new_language",
                        title=f"Debunked narrative resurfaced in {lang}: {r['name']}",
                        summary=(f"first {lang} document at {d['source']} on {(d['published_at'] or '?')[:10]}; "
                                 f"seen before in {', '.join(x['language'] for x in earlier)}"),
                        score=round(min(1.0, 0.6 + 0.4 * d["score"]), 4),
                        detector=self.name,
                        detector_version=VERSION,
                        parameters={},
                        key=f"narrative_new_language:{r['id']}:{lang}",
                        evidence=self._evidence([d], "new_language") + self._evidence(earlier, "earlier_language"),
                        details={"narrative_id": r["id"], "narrative": r["name"], "language": lang,
                                 "earlier_languages": [x["language"] for x in earlier]},
                    )
                )
        return out
