"""Full-text search over documents' title and text: FTS5 on SQLite, tsvector on PostgreSQL,
one function over a ``Connection``.

Words match in any inflected form: the query's words and the stored text are both reduced to
lemmas (``index/lemmas.py``), so ``obilí`` finds ``obilím``. A "quoted phrase" matches those
exact words in that order, as typed (case and, on SQLite, diacritics aside).
"""

from __future__ import annotations

import re
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document
from fimiscope.index.lemmas import query_lemmas
from fimiscope.store.documents import doc_select, document_from
from fimiscope.store.persuasion import documents_with_technique
from fimiscope.store.tables import documents, sources

_PHRASE = re.compile(r'"([^"]*)"')
_LANGUAGES_TTL_S = 60.0
_languages_seen: weakref.WeakKeyDictionary[Any, tuple[float, list[str]]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: words to match in any form, and phrases to match exactly."""

    words: list[str]
    phrases: list[list[str]]


def parse_query(query: str) -> Query:
    """Split ``query`` into free words and "quoted phrases" (an unclosed quote quotes the rest)."""
    if query.count('"') % 2:
        query += '"'
    phrases = [words for p in _PHRASE.findall(query) if (words := search_terms(p))]
    return Query(words=search_terms(_PHRASE.sub(" ", query)), phrases=phrases)


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
    """Full-text search over title and text, best first, with the backend's relevance score.

    Every free word must occur in some inflected form (its lemma in ``language``, or in any
    language the store holds when none is given); every quoted phrase must occur as typed.
    """
    parsed = parse_query(query)
    if not parsed.words and not parsed.phrases:
        raise InvalidInput("the search query has no words")
    langs = [language] if language else stored_languages(conn)
    alternatives = [query_lemmas(w, langs) for w in parsed.words]
    q = doc_select()
    if conn.dialect.name == "sqlite":
        fts = sa.table("documents_fts", sa.column("rowid"))
        clauses = ["lemmas : (" + " OR ".join(_fts_quote(a) for a in alts) + ")" for alts in alternatives]
        clauses += ["{title text} : " + _fts_quote(" ".join(p)) for p in parsed.phrases]
        rank: sa.ColumnElement[float] = sa.literal_column("bm25(documents_fts)")
        q = (
            q.add_columns((-rank).label("score"))
            .join(fts, fts.c.rowid == documents.c.pk)
            .where(sa.text("documents_fts MATCH :match").bindparams(match=" AND ".join(clauses)))
            .order_by(rank)
        )
    else:
        score: sa.ColumnElement[float] = sa.literal(0.0)
        if alternatives:
            lemma_q = sa.func.to_tsquery(
                "simple", " & ".join("(" + " | ".join(_ts_quote(a) for a in alts) + ")" for alts in alternatives)
            )
            lemma_vec: sa.ColumnElement[Any] = sa.literal_column("documents.lemma_vector")
            q = q.where(lemma_vec.op("@@")(lemma_q))
            score = score + sa.func.ts_rank(lemma_vec, lemma_q)
        for phrase in parsed.phrases:
            phrase_q = sa.func.phraseto_tsquery("simple", " ".join(phrase))
            vec: sa.ColumnElement[Any] = sa.literal_column("documents.search_vector")
            q = q.where(vec.op("@@")(phrase_q))
            score = score + sa.func.ts_rank(vec, phrase_q)
        q = q.add_columns(score.label("score")).order_by(score.desc())
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


def _fts_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _ts_quote(word: str) -> str:
    return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'"


def stored_languages(conn: Connection) -> list[str]:
    """The languages of the stored documents (cached for a minute per engine): a query's words
    are read as words of each of them."""
    key = conn.engine
    now = time.monotonic()
    hit = _languages_seen.get(key)
    if hit and now - hit[0] < _LANGUAGES_TTL_S:
        return hit[1]
    rows = conn.execute(sa.select(documents.c.language).where(documents.c.language.is_not(None)).distinct())
    langs = sorted(str(r[0]) for r in rows)
    _languages_seen[key] = (now, langs)
    return langs
