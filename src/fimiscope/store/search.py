"""Full-text search over documents' title and text: FTS5 on SQLite, tsvector on PostgreSQL,
one function over a ``Connection``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document
from fimiscope.store.documents import doc_select, document_from
from fimiscope.store.persuasion import documents_with_technique
from fimiscope.store.tables import documents, sources


def search_terms(query: str) -> list[str]:
    """The words of a query, as the backends index them."""
    return re.findall(r"\w+", query, flags=re.UNICODE)


def search(
    conn: Connection,
    query: str,
    *,
    language: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    technique: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[tuple[Document, float]]:
    """Full-text search over title and text, best first, with the backend's relevance score."""
    terms = search_terms(query)
    if not terms:
        raise InvalidInput("the search query has no words")
    q = doc_select()
    if conn.dialect.name == "sqlite":
        fts = sa.table("documents_fts", sa.column("rowid"))
        match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rank: sa.ColumnElement[float] = sa.literal_column("bm25(documents_fts)")
        q = (
            q.add_columns((-rank).label("score"))
            .join(fts, fts.c.rowid == documents.c.pk)
            .where(sa.text("documents_fts MATCH :match").bindparams(match=match))
            .order_by(rank)
        )
    else:
        tsq = sa.func.plainto_tsquery("simple", " ".join(terms))
        vec: sa.ColumnElement[Any] = sa.literal_column("documents.search_vector")
        score = sa.func.ts_rank(vec, tsq)
        q = q.add_columns(score.label("score")).where(vec.op("@@")(tsq)).order_by(score.desc())
    if language:
        q = q.where(documents.c.language == language)
    if source:
        q = q.where(sources.c.name == source)
    if since:
        q = q.where(documents.c.published_at >= to_utc(since))
    if until:
        q = q.where(documents.c.published_at < to_utc(until))
    if technique:
        q = q.where(documents.c.id.in_(documents_with_technique(technique)))
    q = q.limit(limit).offset(offset)
    return [(document_from(r), float(r["score"])) for r in conn.execute(q).mappings()]
