"""REST API of laundering clusters: ``/api/clusters`` (list, filters, pages) and
``/api/clusters/{id}`` (the chain: origin, members, edges, the signals raised on it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Query

from fimiscope.api.auth import require
from fimiscope.api.rest import page_json
from fimiscope.config import Settings
from fimiscope.detect import laundering
from fimiscope.store import Store
from fimiscope.store import laundering as db
from fimiscope.store import workbench as wb
from fimiscope.store.users import User

# The overview's trend and the list totals scan the cluster tables; a figure 30 s old will do.
TRENDS_TTL_S = 30.0


def signal_brief(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """id, type, title, score, status of these signals, strongest first (none when ``ids`` is empty)."""
    if not ids:
        return []
    page = wb.list_signals(store, wb.SignalFilter(ids=ids), sort="score", limit=len(ids))
    return [
        {"id": s.id, "type": s.type, "title": s.title, "score": s.score, "status": s.status.value}
        for s in page.items
    ]


def list_page(
    store: Store,
    *,
    min_size: int = 2,
    language: str | None = None,
    origin_source: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: str = "affiliation",
    affiliation: str | None = None,
    stripped: bool = False,
) -> wb.Page:
    kw: dict[str, Any] = {"min_size": min_size, "language": language, "origin_source": origin_source,
                          "affiliation": affiliation, "stripped": stripped}
    with store.connect() as conn:
        items = db.list_clusters(conn, limit=limit, offset=offset, sort=sort, **kw)
        total = db.count_clusters(conn, **kw)
    return wb.Page(items, total, limit, offset)


def cluster_detail(store: Store, cluster_id: str) -> dict[str, Any]:
    """The cluster as ``get_cluster`` gives it, with what an analyst reads off a chain spelled
    out: each member's lag behind the origin, each edge's stripped-attribution and
    language-change flags and the credit line found, and the signals raised on the copies."""
    with store.connect() as conn:
        data = db.get_cluster(conn, cluster_id)
        signal_ids = db.cluster_signal_ids(conn, data)
        data["alignments"] = laundering.cluster_alignments(conn, data)
    by_id = {m["document_id"]: m for m in data["members"]}
    origin = by_id.get(data["origin_document_id"])
    origin_at = _time(origin["published_at"]) if origin else None
    for m in data["members"]:
        at = _time(m["published_at"])
        m["lag_s"] = (at - origin_at).total_seconds() if at and origin_at else None
    for e in data["edges"]:
        copier, copied = by_id.get(e["copier_document_id"]), by_id.get(e["copied_document_id"])
        e["attribution_stripped"] = e["attribution"] == "stripped"
        e["copier_language"] = copier["language"] if copier else None
        e["copied_language"] = copied["language"] if copied else None
        e["language_change"] = bool(
            e["copier_language"] and e["copied_language"] and e["copier_language"] != e["copied_language"]
        )
        e["credit"] = (e["details"] or {}).get("credit")
    data["origin"] = origin
    data["signals"] = signal_brief(store, signal_ids)
    return data


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def trends(store: Store, days: int = 30) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        with store.connect() as conn:
            return {"days": days, **db.cluster_trends(conn, days=days)}

    data: dict[str, Any] = wb.cached(store, f"clusters:trends-{days}", compute, TRENDS_TTL_S)
    return data


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api", tags=["clusters"])
    viewer = require("viewer")

    @router.get("/clusters", summary="Laundering clusters, state-affiliated origins first")
    def clusters_list(
        min_size: int = Query(2, ge=2, description="Only clusters with at least this many documents."),
        lang: str | None = Query(None, description="Clusters with a member in this language."),
        origin_source: str | None = Query(None, description="Clusters whose origin was published by this source."),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        sort: str = Query("affiliation", description="affiliation (state origins first), size, time or updated."),
        affiliation: str | None = Query(None, description="Origin affiliation; flagged = any state affiliation."),
        stripped: bool = Query(False, description="Only clusters with a copy that strips the attribution."),
        _u: User = viewer,
    ) -> dict[str, Any]:
        page = list_page(
            store, min_size=min_size, language=lang or None, origin_source=origin_source or None,
            limit=limit, offset=offset, sort=sort, affiliation=affiliation or None, stripped=stripped,
        )
        return page_json(page, page.items)

    @router.get("/clusters/trends", summary="New clusters and clustered documents per publication day")
    def clusters_trends(days: int = Query(30, ge=1, le=366), _u: User = viewer) -> dict[str, Any]:
        return trends(store, days)

    @router.get("/clusters/{cluster_id}", summary="One cluster: origin, members, chain edges, signals")
    def clusters_show(cluster_id: str, _u: User = viewer) -> dict[str, Any]:
        return cluster_detail(store, cluster_id)

    app.include_router(router)
