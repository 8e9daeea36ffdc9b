"""REST API under ``/api``: sources, documents, signals, stats. Lists share one page shape:
``{"items": [...], "total": n, "limit": l, "offset": o, "next_offset": o+l | null}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field

from fimiscope.api.auth import require
from fimiscope.config import Settings
from fimiscope.core.model import Document, Signal, SignalStatus, Source
from fimiscope.core.serialize import plain
from fimiscope.index.persuasion import parse_technique
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import stats as stats_store
from fimiscope.store import workbench as wb
from fimiscope.store.users import User


def source_json(src: Source, documents: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = plain(src)
    data["flagged"] = src.affiliation.flagged
    if documents is not None:
        data["documents"] = documents
    return data


def document_json(doc: Document, *, text: bool = True, snippet: int = 280) -> dict[str, Any]:
    data: dict[str, Any] = plain(doc)
    data.pop("raw", None)
    meta = data.get("metadata") or {}
    data["version"] = meta.pop("_version", None)
    meta.pop("_seq", None)
    if not text:
        data["snippet"] = " ".join(doc.text[:snippet].split()) + ("…" if len(doc.text) > snippet else "")
        data.pop("text", None)
    return data


def signal_json(sig: Signal, *, evidence: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = plain(sig)
    data["created_at"] = sig.details.get("created_at")
    data["updated_at"] = sig.details.get("updated_at")
    if not evidence:
        data.pop("evidence", None)
    return data


def page_json(page: wb.Page, items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


class StatusChange(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=10_000, description="Signal ids to change.")
    status: SignalStatus


class OneStatus(BaseModel):
    status: SignalStatus


Sort = Literal["score", "-score", "newest", "oldest"]


# Whole-store counts scan every document; at a million documents that is too slow to do on
# every request, and a count a few seconds old is as useful.
STATS_TTL_S = 30.0


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api")

    def cached(key: str, compute: Any) -> Any:
        return wb.cached(store, f"api:{key}", compute, STATS_TTL_S)

    viewer = require("viewer")
    analyst = require("analyst")

    @router.get("/sources", tags=["sources"], summary="The source registry")
    def sources_list(
        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0), _u: User = viewer
    ) -> dict[str, Any]:
        page = wb.list_sources(store, limit=limit, offset=offset)
        return page_json(page, [source_json(s, n) for s, n in page.items])

    @router.get("/sources/{name_or_id}", tags=["sources"], summary="One source")
    def sources_show(name_or_id: str, _u: User = viewer) -> dict[str, Any]:
        src = store.read(source_store.get_source, name_or_id)
        return source_json(src, wb.source_document_count(store, src))

    @router.get("/documents", tags=["documents"], summary="Search (q) or browse documents, newest first")
    def documents_list(
        q: str | None = Query(None, description="Full-text query; without it, newest first."),
        lang: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        technique: str | None = Query(None, description="Only documents with this persuasion technique."),
        limit: int = Query(20, ge=1, le=500),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        tech = parse_technique(technique) if technique else None
        if q and q.strip():
            page = wb.search_documents(
                store, q, language=lang, source=source, since=since, until=until, technique=tech, limit=limit,
                offset=offset,
            )
            items = [{**document_json(d, text=False), "score": round(s, 4)} for d, s in page.items]
        else:
            page = wb.list_documents(
                store, language=lang, source=source, since=since, until=until, technique=tech, limit=limit,
                offset=offset,
            )
            items = [document_json(d, text=False) for d in page.items]
        return page_json(page, items)

    @router.get("/documents/{doc_id}", tags=["documents"], summary="One document with the evidence citing it")
    def documents_show(doc_id: str, _u: User = viewer) -> dict[str, Any]:
        doc = store.read(document_store.get_document, doc_id)
        data = document_json(doc)
        data["evidence"] = [plain(e) for e in wb.evidence_for_document(store, doc_id)]
        return data

    @router.get("/signals", tags=["signals"], summary="Signals: filter, sort, paginate")
    def signals_list(
        type: str | None = None,
        status: SignalStatus | None = None,
        min_score: float | None = None,
        max_score: float | None = None,
        source: str | None = Query(None, description="Signals whose evidence cites this source's documents."),
        lang: str | None = Query(None, description="Signals whose evidence cites documents in this language."),
        technique: str | None = Query(None, description="Signals citing documents with this persuasion technique."),
        since: datetime | None = None,
        until: datetime | None = None,
        sort: Sort = "score",
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        f = wb.SignalFilter(
            type=type,
            status=status.value if status else None,
            min_score=min_score,
            max_score=max_score,
            source=source,
            language=lang,
            since=since,
            until=until,
            technique=parse_technique(technique) if technique else None,
        )
        page = wb.list_signals(store, f, sort=sort, limit=limit, offset=offset)
        return page_json(page, [signal_json(s) for s in page.items])

    @router.get("/signals/{signal_id}", tags=["signals"], summary="One signal with its evidence")
    def signals_show(signal_id: str, _u: User = viewer) -> dict[str, Any]:
        sig = store.read(signal_store.get_signal, signal_id)
        data = signal_json(sig, evidence=True)
        docs = wb.documents_titles(store, [e.document_id for e in sig.evidence if e.document_id])
        for ev in data["evidence"]:
            ev["document"] = docs.get(ev["document_id"] or "")
        return data

    @router.post("/signals/status", tags=["signals"], summary="Change the status of many signals (analyst)")
    def signals_status(body: StatusChange, _u: User = analyst) -> dict[str, Any]:
        changed = store.write(signal_store.set_signal_status, body.ids, body.status.value)
        return {"status": body.status.value, "changed": changed}

    @router.post("/signals/{signal_id}/status", tags=["signals"], summary="Change one signal's status (analyst)")
    def signal_status(signal_id: str, body: OneStatus, _u: User = analyst) -> dict[str, Any]:
        store.read(signal_store.get_signal, signal_id)  # 404 when unknown
        store.write(signal_store.set_signal_status, [signal_id], body.status.value)
        return signal_json(store.read(signal_store.get_signal, signal_id))

    @router.get("/stats", tags=["stats"], summary="Counts of what the store holds (refreshed every 30 s)")
    def stats(_u: User = viewer) -> dict[str, Any]:
        stats: dict[str, Any] = cached("stats", lambda: plain(store.read(stats_store.stats)))
        return stats

    @router.get("/overview", tags=["stats"], summary="Volumes by affiliation, language and day")
    def overview(days: int = Query(30, ge=1, le=366), _u: User = viewer) -> dict[str, Any]:
        data: dict[str, Any] = cached(f"overview-{days}", lambda: wb.overview(store, days=days))
        return data

    app.include_router(router)
