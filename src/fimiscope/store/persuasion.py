"""Store access for persuasion techniques: paragraphs with their techniques, scores and spans,
per-document counts, and technique profiles over time per source and per narrative."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.core.model import Affiliation
from fimiscope.store.sql import chunks
from fimiscope.store.tables import documents, sources
from fimiscope.store.tables_narratives import narrative_assignments
from fimiscope.store.tables_persuasion import persuasion_doc_techniques, persuasion_documents, persuasion_paragraphs

_CHUNK = 500


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


@dataclass(slots=True)
class DocSource:
    document_id: str
    source_id: str | None
    source: str | None
    affiliation: Affiliation
    published_at: datetime | None


def doc_sources(conn: Connection, doc_ids: Iterable[str]) -> dict[str, DocSource]:
    out: dict[str, DocSource] = {}
    cols = (documents.c.id, documents.c.source_id, documents.c.published_at, sources.c.name, sources.c.affiliation)
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = (sa.select(*cols).select_from(documents.outerjoin(sources, documents.c.source_id == sources.c.id))
             .where(documents.c.id.in_(part)))
        for r in conn.execute(q).mappings():
            out[r["id"]] = DocSource(r["id"], r["source_id"], r["name"], Affiliation.parse(r["affiliation"]),
                                     _aware(r["published_at"]))
    return out


def forget_documents(conn: Connection, doc_ids: Sequence[str]) -> None:
    """Drop what was stored for documents about to be classified again."""
    for part in chunks(doc_ids, _CHUNK):
        for table in (persuasion_paragraphs, persuasion_documents, persuasion_doc_techniques):
            conn.execute(table.delete().where(table.c.document_id.in_(part)))


def save_document(conn: Connection, *, document_id: str, source_id: str | None, language: str | None,
                  published_at: datetime | None, n_paragraphs: int, paragraphs: Sequence[dict[str, Any]],
                  model_version: str) -> None:
    """One classified document: its paragraphs with techniques, its counts, its index rows."""
    counts: dict[str, int] = defaultdict(int)
    for p in paragraphs:
        for t in p["techniques"]:
            counts[t] += 1
    if paragraphs:
        conn.execute(persuasion_paragraphs.insert(), [{"document_id": document_id, **p} for p in paragraphs])
    conn.execute(persuasion_documents.insert().values(
        document_id=document_id, source_id=source_id, language=language, published_at=published_at,
        n_paragraphs=n_paragraphs, n_flagged=len(paragraphs), counts=dict(counts), model_version=model_version,
        created_at=utcnow()))
    if counts:
        conn.execute(persuasion_doc_techniques.insert(), [
            {"document_id": document_id, "technique": t, "paragraphs": n, "source_id": source_id,
             "published_at": published_at} for t, n in counts.items()])


def document_paragraphs(conn: Connection, document_id: str) -> dict[str, Any] | None:
    """What the detector stored for a document: None when it was never classified."""
    head = conn.execute(sa.select(persuasion_documents).where(persuasion_documents.c.document_id == document_id)
                        ).mappings().first()
    if head is None:
        return None
    rows = conn.execute(sa.select(persuasion_paragraphs).where(persuasion_paragraphs.c.document_id == document_id)
                        .order_by(persuasion_paragraphs.c.para_index)).mappings().all()
    return {
        "document_id": document_id,
        "model_version": head["model_version"],
        "n_paragraphs": int(head["n_paragraphs"]),
        "n_with_techniques": int(head["n_flagged"]),
        "counts": dict(head["counts"] or {}),
        "paragraphs": [
            {"index": int(r["para_index"]), "start": int(r["span_start"]), "end": int(r["span_end"]),
             "techniques": list(r["techniques"]), "scores": dict(r["scores"]), "spans": list(r["spans"])}
            for r in rows
        ],
    }


def documents_with_technique(technique: str) -> Any:
    """A subquery of document ids with ``technique`` in at least one paragraph (for filters)."""
    return sa.select(persuasion_doc_techniques.c.document_id).where(persuasion_doc_techniques.c.technique == technique)


def technique_totals(conn: Connection) -> dict[str, int]:
    q = sa.select(persuasion_doc_techniques.c.technique, sa.func.count()).group_by(
        persuasion_doc_techniques.c.technique)
    return {t: int(n) for t, n in conn.execute(q)}


def classified_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(persuasion_documents)).scalar_one())


def _week(value: datetime) -> str:
    monday = value.date() - timedelta(days=value.weekday())
    return monday.isoformat()


def _profile(conn: Connection, base: Any, weeks: int, now: datetime | None) -> dict[str, Any]:
    """Weekly rates: per technique, the share of classified paragraphs carrying it."""
    end = now or utcnow()
    since = end - timedelta(weeks=weeks)
    docs_q = (sa.select(persuasion_documents.c.document_id, persuasion_documents.c.published_at,
                        persuasion_documents.c.created_at, persuasion_documents.c.n_paragraphs,
                        persuasion_documents.c.counts)
              .where(persuasion_documents.c.document_id.in_(base)))
    per_week: dict[str, dict[str, Any]] = {}
    totals: dict[str, int] = defaultdict(int)
    n_docs = 0
    n_paras = 0
    for r in conn.execute(docs_q).mappings():
        when = _aware(r["published_at"]) or _aware(r["created_at"])
        if when is None or when < since:
            continue
        wk = per_week.setdefault(_week(when), {"documents": 0, "paragraphs": 0, "counts": defaultdict(int)})
        wk["documents"] += 1
        wk["paragraphs"] += int(r["n_paragraphs"])
        n_docs += 1
        n_paras += int(r["n_paragraphs"])
        for t, n in (r["counts"] or {}).items():
            wk["counts"][t] += int(n)
            totals[t] += int(n)
    weeks_out = []
    for week in sorted(per_week):
        wk = per_week[week]
        paras = max(wk["paragraphs"], 1)
        weeks_out.append({"week": week, "documents": wk["documents"], "paragraphs": wk["paragraphs"],
                          "counts": dict(wk["counts"]),
                          "rates": {t: round(n / paras, 4) for t, n in sorted(wk["counts"].items())}})
    return {"weeks": weeks_out, "documents": n_docs, "paragraphs": n_paras,
            "totals": dict(sorted(totals.items(), key=lambda kv: -kv[1])),
            "rates": {t: round(n / max(n_paras, 1), 4) for t, n in sorted(totals.items(), key=lambda kv: -kv[1])}}


def source_profile(conn: Connection, source_id: str, *, weeks: int = 26, now: datetime | None = None
                   ) -> dict[str, Any]:
    base = sa.select(persuasion_documents.c.document_id).where(persuasion_documents.c.source_id == source_id)
    return {"source_id": source_id, **_profile(conn, base, weeks, now)}


def narrative_profile(conn: Connection, narrative_id: str, *, weeks: int = 26, now: datetime | None = None
                      ) -> dict[str, Any]:
    """Weekly technique rates of the documents assigned to a narrative (a join of the
    persuasion results with the narrative detector's assignments). Like the narratives list's
    ``recent``, the window ends at the narrative's newest assigned document when that is older
    than ``now``: a narrative that went quiet still shows its last weeks."""
    base = sa.select(narrative_assignments.c.document_id).where(narrative_assignments.c.narrative_id == narrative_id)
    newest = _aware(conn.execute(
        sa.select(sa.func.max(narrative_assignments.c.published_at))
        .where(narrative_assignments.c.narrative_id == narrative_id)).scalar())
    end = now or utcnow()
    if newest is not None and newest < end:
        end = newest + timedelta(seconds=1)
    return {"narrative_id": narrative_id, "until": end.isoformat(), **_profile(conn, base, weeks, end)}


def source_id_for(conn: Connection, name_or_id: str) -> str:
    row = conn.execute(sa.select(sources.c.id).where(
        sa.or_(sources.c.id == name_or_id, sources.c.name == name_or_id, sources.c.domain == name_or_id))).first()
    if row is None:
        raise NotFound(f"no source {name_or_id!r} (see `fimiscope sources list`)")
    return str(row[0])
