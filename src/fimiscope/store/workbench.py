"""Read queries for the workbench (API and web UI): filtered, paginated, with totals.

Kept apart from ``Store`` so the HTTP face can ask richer questions (signals by the source or
language of their evidence, volumes by day) without growing the core store.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document, Signal, SignalStatus, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import search as search_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store.persuasion import documents_with_technique
from fimiscope.store.tables import documents, evidence, signals, sources

SIGNAL_SORTS = {
    "score": (signals.c.score.desc(), signals.c.id),
    "-score": (signals.c.score.asc(), signals.c.id),
    "newest": (signals.c.created_at.desc(), signals.c.id.desc()),
    "oldest": (signals.c.created_at.asc(), signals.c.id),
}


@dataclass(slots=True)
class Page:
    """One page of a list: the shape every list endpoint returns."""

    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + len(self.items) < self.total else None


@dataclass(slots=True)
class SignalFilter:
    type: str | None = None
    status: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    source: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: list[str] = field(default_factory=list)
    technique: str | None = None  # signals citing documents with this persuasion technique


def _signal_where(f: SignalFilter) -> list[Any]:
    where: list[Any] = []
    if f.type:
        where.append(signals.c.type == f.type)
    if f.status:
        where.append(signals.c.status == SignalStatus.parse(f.status).value)
    if f.min_score is not None:
        where.append(signals.c.score >= f.min_score)
    if f.max_score is not None:
        where.append(signals.c.score <= f.max_score)
    if f.since:
        where.append(signals.c.created_at >= to_utc(f.since))
    if f.until:
        where.append(signals.c.created_at < to_utc(f.until))
    if f.ids:
        where.append(signals.c.id.in_(f.ids))
    if f.technique:
        where.append(signals.c.id.in_(
            sa.select(evidence.c.signal_id).where(evidence.c.document_id.in_(documents_with_technique(f.technique)))))
    facet = _facet_signals(f)
    if facet is not None:
        where.append(signals.c.id.in_(facet))
    return where


def _facet_signals(f: SignalFilter) -> Any:
    """Ids of the signals whose evidence cites documents of the filter's source or language, or
    None. Evidence rows carry both (copied from the document), so this is one index range."""
    if not (f.source or f.language):
        return None
    sub = sa.select(evidence.c.signal_id)
    if f.source:
        src_id = sa.select(sources.c.id).where(sources.c.name == f.source).scalar_subquery()
        sub = sub.where(evidence.c.source_id == src_id)
    if f.language:
        sub = sub.where(evidence.c.language == f.language)
    return sub


def _count_signals(f: SignalFilter) -> Any:
    facet = _facet_signals(f)
    if facet is None:
        return sa.select(sa.func.count()).select_from(signals).where(*_signal_where(f))
    # Counting "status = new AND id IN (facet)" makes SQLite walk every new signal and probe the
    # set (130 ms at 50k signals); joining from the facet's distinct ids counts only those.
    plain = dataclasses.replace(f, source=None, language=None)
    ids = facet.distinct().subquery()
    return (
        sa.select(sa.func.count())
        .select_from(ids.join(signals, signals.c.id == ids.c.signal_id))
        .where(*_signal_where(plain))
    )


COUNT_TTL_S = 30.0
_cache: weakref.WeakKeyDictionary[Store, dict[str, tuple[float, Any]]] = weakref.WeakKeyDictionary()
_refreshing: set[tuple[int, str]] = set()
_cache_lock = threading.Lock()


def cached(store: Store, key: str, compute: Callable[[], Any], ttl: float = COUNT_TTL_S) -> Any:
    """Whole-table counts and volumes are a full index scan at a million rows; a figure a few
    seconds old serves a page header or a list total as well. Kept ``ttl`` seconds per store;
    when it goes stale one caller recomputes while the others keep getting the old value, so
    a busy server never runs the same scan N times at once."""
    now = time.monotonic()
    with _cache_lock:
        mine = _cache.setdefault(store, {})
        hit = mine.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        flight = (id(store), key)
        if hit is not None and flight in _refreshing:
            return hit[1]
        _refreshing.add(flight)
    try:
        value = compute()
        with _cache_lock:
            mine[key] = (time.monotonic(), value)
        return value
    finally:
        with _cache_lock:
            _refreshing.discard(flight)


def list_signals(store: Store, f: SignalFilter, *, sort: str = "score", limit: int = 50, offset: int = 0) -> Page:
    if sort not in SIGNAL_SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; use one of: {', '.join(SIGNAL_SORTS)}")
    where = _signal_where(f)
    q = sa.select(signals).where(*where).order_by(*SIGNAL_SORTS[sort]).limit(limit).offset(offset)
    cq = _count_signals(f)
    with store.connect() as c:
        rows = [signal_store.signal_from(r) for r in c.execute(q).mappings()]
        total = int(c.execute(cq).scalar_one())
    return Page(items=rows, total=total, limit=limit, offset=offset)


def signal_types(store: Store) -> list[str]:
    with store.connect() as c:
        return [r[0] for r in c.execute(sa.select(signals.c.type).distinct().order_by(signals.c.type))]


def languages(store: Store) -> list[str]:
    with store.connect() as c:
        q = sa.select(documents.c.language).where(documents.c.language.is_not(None)).distinct()
        return sorted(r[0] for r in c.execute(q))


def source_names(store: Store) -> list[str]:
    with store.connect() as c:
        return [r[0] for r in c.execute(sa.select(sources.c.name).order_by(sources.c.name))]


def documents_titles(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Title, source and language of each document id (for evidence lists)."""
    if not ids:
        return {}
    q = (
        sa.select(documents.c.id, documents.c.title, documents.c.language, documents.c.url, sources.c.name)
        .select_from(documents.outerjoin(sources, sources.c.id == documents.c.source_id))
        .where(documents.c.id.in_(list(set(ids))))
    )
    with store.connect() as c:
        return {
            r[0]: {"title": r[1], "language": r[2], "url": r[3], "source": r[4]} for r in c.execute(q)
        }


def first_documents(store: Store, signal_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For each signal, one document its evidence cites (id, title, source, language)."""
    if not signal_ids:
        return {}
    with store.connect() as c:
        rows = c.execute(
            sa.select(evidence.c.signal_id, sa.func.min(evidence.c.document_id))
            .where(evidence.c.signal_id.in_(list(signal_ids)), evidence.c.document_id.is_not(None))
            .group_by(evidence.c.signal_id)
        ).all()
    first = {r[0]: r[1] for r in rows}
    titles = documents_titles(store, list(first.values()))
    return {sid: {"id": did, **titles.get(did, {})} for sid, did in first.items()}


def evidence_for_document(store: Store, doc_id: str) -> list[dict[str, Any]]:
    """Every evidence row citing a document, with the signal it belongs to."""
    q = (
        sa.select(
            evidence.c.id,
            evidence.c.role,
            evidence.c.span_start,
            evidence.c.span_end,
            evidence.c.score,
            evidence.c.details,
            signals.c.id.label("signal_id"),
            signals.c.type,
            signals.c.title,
            signals.c.score.label("signal_score"),
            signals.c.status,
        )
        .select_from(evidence.join(signals, signals.c.id == evidence.c.signal_id))
        .where(evidence.c.document_id == doc_id)
        .order_by(evidence.c.span_start, evidence.c.id)
    )
    with store.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]


def list_documents(
    store: Store,
    *,
    language: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    technique: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Page:
    """Newest documents first (browse without a query)."""
    where: list[Any] = []
    if language:
        where.append(documents.c.language == language)
    if source:
        where.append(sources.c.name == source)
    if since:
        where.append(documents.c.published_at >= to_utc(since))
    if until:
        where.append(documents.c.published_at < to_utc(until))
    if technique:
        where.append(documents.c.id.in_(documents_with_technique(technique)))
    base = documents.outerjoin(sources, documents.c.source_id == sources.c.id)
    q = document_store.doc_select().where(*where).order_by(documents.c.seq.desc()).limit(limit).offset(offset)
    with store.connect() as c:
        items = [document_store.document_from(r) for r in c.execute(q).mappings()]
        if where:
            total = int(c.execute(sa.select(sa.func.count()).select_from(base).where(*where)).scalar_one())
        else:
            count_all = sa.select(sa.func.count()).select_from(documents)
            total = int(cached(store, "documents", lambda: c.execute(count_all).scalar_one()))
    return Page(items=items, total=total, limit=limit, offset=offset)


def search_documents(
    store: Store,
    query: str,
    *,
    language: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    technique: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Page:
    """Full-text search. The total is not counted (it would cost a full match); ``total`` is a
    lower bound that lets the client know whether a next page exists."""
    hits = store.read(
        search_store.search, query, language=language, source=source, since=since, until=until, technique=technique,
        limit=limit + 1,
        offset=offset,
    )
    more = len(hits) > limit
    hits = hits[:limit]
    return Page(items=hits, total=offset + len(hits) + (1 if more else 0), limit=limit, offset=offset)


def source_document_counts(store: Store) -> dict[str, int]:
    """Documents per source id (cached ``COUNT_TTL_S``)."""

    def compute() -> dict[str, int]:
        q = sa.select(documents.c.source_id, sa.func.count()).group_by(documents.c.source_id)
        with store.connect() as c:
            return {r[0]: int(r[1]) for r in c.execute(q) if r[0] is not None}

    counts: dict[str, int] = cached(store, "per-source", compute)
    return counts


def list_sources(store: Store, *, limit: int = 100, offset: int = 0) -> Page:
    q = sa.select(sources).order_by(sources.c.name).limit(limit).offset(offset)
    counts = source_document_counts(store)
    with store.connect() as c:
        items = [(source_store.source_from(r), counts.get(r["id"], 0)) for r in c.execute(q).mappings()]
        total = int(c.execute(sa.select(sa.func.count()).select_from(sources)).scalar_one())
    return Page(items=items, total=total, limit=limit, offset=offset)


def source_document_count(store: Store, src: Source) -> int:
    with store.connect() as c:
        q = sa.select(sa.func.count()).select_from(documents).where(documents.c.source_id == src.id)
        return int(c.execute(q).scalar_one())


def overview(store: Store, *, days: int = 30) -> dict[str, Any]:
    """Volumes for the overview page: by affiliation, language and publication day over the
    last ``days`` days of the data: ending today when something was published recently, else at
    the latest publication (a historical import is not "empty for 30 days"); ``until`` says
    where the window ends."""
    with store.connect() as c:
        latest = c.execute(sa.select(sa.func.max(documents.c.published_at))).scalar()
    now = utcnow()
    latest_at = to_utc(latest) if isinstance(latest, datetime) else None
    until = now if latest_at is None or latest_at >= now - timedelta(days=days) else latest_at
    since = (until - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = (
        sa.func.date(documents.c.published_at)
        if store.dialect == "sqlite"
        else sa.func.to_char(documents.c.published_at, "YYYY-MM-DD")
    )
    with store.connect() as c:
        by_aff = {
            (r[0] or "no source"): int(r[1])
            for r in c.execute(
                sa.select(sources.c.affiliation, sa.func.count())
                .select_from(documents.outerjoin(sources, sources.c.id == documents.c.source_id))
                .group_by(sources.c.affiliation)
            )
        }
        by_lang = {
            (r[0] or "unknown"): int(r[1])
            for r in c.execute(sa.select(documents.c.language, sa.func.count()).group_by(documents.c.language))
        }
        by_day = {
            str(r[0]): int(r[1])
            for r in c.execute(
                sa.select(day.label("day"), sa.func.count())
                .where(documents.c.published_at >= since, documents.c.published_at <= until + timedelta(seconds=1))
                .group_by(sa.literal_column("day"))
                .order_by(sa.literal_column("day"))
            )
            if r[0] is not None
        }
        by_status = {
            r[0]: int(r[1])
            for r in c.execute(sa.select(signals.c.status, sa.func.count()).group_by(signals.c.status))
        }
        n_docs = int(c.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one())
        n_sources = int(c.execute(sa.select(sa.func.count()).select_from(sources)).scalar_one())
    # Every day of the window, zeros included, so a quiet day shows as a dip, not a gap.
    first = since.date()
    days_axis = [(first + timedelta(days=i)).isoformat() for i in range(days + 1)]
    by_day = {d: by_day.get(d, 0) for d in days_axis} if by_day else {}
    return {
        "documents": n_docs,
        "sources": n_sources,
        "signals": sum(by_status.values()),
        "signals_by_status": by_status,
        "documents_by_affiliation": dict(sorted(by_aff.items(), key=lambda kv: -kv[1])),
        "documents_by_language": dict(sorted(by_lang.items(), key=lambda kv: -kv[1])),
        "documents_by_day": by_day,
        "days": days,
        "until": until.date().isoformat(),
        "recent": until is now,
    }


def signal_documents(store: Store, sig: Signal) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for ev in sig.evidence:
        if ev.document_id and ev.document_id not in out:
            try:
                out[ev.document_id] = store.read(document_store.get_document, ev.document_id)
            except Exception:
                continue
    return out
