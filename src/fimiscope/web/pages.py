"""The analyst's pages: overview, triage queue, signal, document, sources, search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from fimiscope.api.auth import require
from fimiscope.api.clusters import trends as cluster_trends
from fimiscope.api.narratives import trends as narrative_trends
from fimiscope.api.rest import document_json, signal_json, source_json
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import RELIABILITY_LABELS, SignalStatus
from fimiscope.index.persuasion import TECHNIQUES, normalise_label
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import workbench as wb
from fimiscope.store.collect import statuses as collect_statuses
from fimiscope.store.users import User
from fimiscope.web.clusters import signal_aligned
from fimiscope.web.nav import add_nav
from fimiscope.web.render import highlight, snippet

# The volume charts and the filter choices (languages, types, sources) scan whole tables; a
# few seconds stale is fine for them and keeps every page fast on a million documents.
CACHE_TTL_S = 30.0


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def _float(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number") from None


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    viewer = require("viewer")
    analyst = require("analyst")
    add_nav(app, "Overview", "/", order=10)
    add_nav(app, "Triage", "/triage", order=20)
    add_nav(app, "Search", "/search", order=80)
    add_nav(app, "Sources", "/sources", order=90)
    def cached(key: str, compute: Any) -> Any:
        return wb.cached(store, f"pages:{key}", compute, CACHE_TTL_S)

    def overview_data() -> dict[str, Any]:
        return cached("overview", lambda: wb.overview(store))  # type: ignore[no-any-return]

    def choices() -> dict[str, list[str]]:
        return {
            "types": cached("types", lambda: wb.signal_types(store)),
            "languages": cached("languages", lambda: wb.languages(store)),
            "sources": cached("sources", lambda: wb.source_names(store)),
            "techniques": list(TECHNIQUES),
        }


    def render(request: Request, name: str, ctx: dict[str, Any] | None = None, **kw: Any) -> Response:
        resp: Response = templates.TemplateResponse(request, name, {**(ctx or {}), **kw})
        return resp

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request, _u: User = viewer) -> Response:
        data = overview_data()
        newest = wb.list_signals(store, wb.SignalFilter(), sort="newest", limit=8).items
        strongest = wb.list_signals(store, wb.SignalFilter(status="new"), sort="score", limit=8).items
        return render(request, "overview.html", data=data, newest=newest, strongest=strongest,
                      cluster_trends=cluster_trends(store), narrative_trends=narrative_trends(store))

    def triage_filter(params: dict[str, str]) -> wb.SignalFilter:
        status = params.get("status", "new")
        return wb.SignalFilter(
            type=params.get("type") or None,
            status=None if status == "all" else status or None,
            min_score=_float(params.get("min_score")),
            source=params.get("source") or None,
            language=params.get("lang") or None,
            technique=normalise_label(params.get("technique") or "") if params.get("technique") else None,
            since=_parse_date(params.get("since")),
            until=_parse_date(params.get("until")),
        )

    @app.get("/triage", response_class=HTMLResponse, include_in_schema=False)
    def triage(
        request: Request,
        sort: str = "score",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> Response:
        params = dict(request.query_params)
        params.setdefault("status", "new")
        page = wb.list_signals(store, triage_filter(params), sort=sort, limit=limit, offset=offset)
        docs = wb.first_documents(store, [s.id for s in page.items if s.id])
        ctx = {
            "page": page,
            "params": params,
            "sort": sort,
            "docs": docs,
            **choices(),
            "statuses": [s.value for s in SignalStatus],
        }
        name = "_triage_rows.html" if request.headers.get("hx-target") == "queue" else "triage.html"
        return render(request, name, ctx)

    @app.post("/triage/status", include_in_schema=False)
    def triage_status(ids: list[str] = Form(...), status: str = Form(...), _u: User = analyst) -> dict[str, Any]:
        value = SignalStatus.parse(status).value
        changed = store.write(signal_store.set_signal_status, ids, value)
        return {"status": value, "changed": changed, "ids": ids}

    @app.get("/signals/{signal_id}", response_class=HTMLResponse, include_in_schema=False)
    def signal_page(request: Request, signal_id: str, _u: User = viewer) -> Response:
        sig = store.read(signal_store.get_signal, signal_id)
        docs = wb.signal_documents(store, sig)
        evidence = []
        for i, ev in enumerate(sig.evidence):
            doc = docs.get(ev.document_id or "")
            evidence.append(
                {
                    "n": i + 1,
                    "ev": ev,
                    "doc": doc,
                    "snippet": snippet(doc.text, ev.span_start, ev.span_end) if doc else None,
                }
            )
        return render(request, "signal.html", sig=sig, data=signal_json(sig), evidence=evidence,
                      graph=_evidence_graph(sig, docs), aligned=signal_aligned(store, sig))

    @app.get("/documents/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str, _u: User = viewer) -> Response:
        doc = store.read(document_store.get_document, doc_id)
        spans = wb.evidence_for_document(store, doc_id)
        citing: dict[str, dict[str, Any]] = {}
        for sp in spans:
            entry = citing.setdefault(
                sp["signal_id"],
                {"id": sp["signal_id"], "type": sp["type"], "title": sp["title"], "score": sp["signal_score"],
                 "status": sp["status"], "spans": []},
            )
            if sp["span_start"] is not None:
                entry["spans"].append(f"ev-{sp['id']}-{sp['span_start']}")
        src = None
        if doc.source:
            try:
                src = store.read(source_store.get_source, doc.source)
            except Exception:
                src = None
        return render(
            request,
            "document.html",
            doc=doc,
            data=document_json(doc),
            body=highlight(doc.text, spans),
            citing=list(citing.values()),
            source=src,
        )

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources_page(
        request: Request, limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0), _u: User = viewer
    ) -> Response:
        page = wb.list_sources(store, limit=limit, offset=offset)
        rows = [source_json(s, n) for s, n in page.items]
        health = cached("collect-health", lambda: {h.name: h for h in collect_statuses(store)})
        return render(request, "sources.html", page=page, rows=rows, reliability=RELIABILITY_LABELS, health=health)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        q: str = "",
        lang: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        technique: str = "",
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> Response:
        kw = {
            "technique": normalise_label(technique) if technique else None,
            "language": lang or None,
            "source": source or None,
            "since": _parse_date(since),
            "until": _parse_date(until),
            "limit": 20,
            "offset": offset,
        }
        error = None
        if q.strip():
            try:
                page = wb.search_documents(store, q, **kw)  # type: ignore[arg-type]
                hits = [(d, s) for d, s in page.items]
            except InvalidInput as exc:
                error, page, hits = str(exc), wb.Page([], 0, 20, 0), []
        else:
            page = wb.list_documents(store, **kw)  # type: ignore[arg-type]
            hits = [(d, None) for d in page.items]
        ctx = {
            "q": q,
            "params": {"lang": lang, "source": source, "since": since, "until": until, "technique": technique},
            "page": page,
            "hits": hits,
            "error": error,
            **choices(),
        }
        name = "_search_results.html" if request.headers.get("hx-target") == "results" else "search.html"
        return render(request, name, ctx)


def _evidence_graph(sig: Any, docs: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Cytoscape elements: the signal, the documents its evidence cites, and their sources."""
    nodes: dict[str, dict[str, Any]] = {sig.id: {"id": sig.id, "label": sig.type, "kind": "signal"}}
    edges: list[dict[str, Any]] = []
    for i, ev in enumerate(sig.evidence):
        doc = docs.get(ev.document_id or "")
        if doc is None or doc.id is None:
            continue
        nodes.setdefault(doc.id, {"id": doc.id, "label": (doc.title or doc.id)[:40], "kind": "document",
                                  "href": f"/documents/{doc.id}"})
        edges.append({"id": f"e{i}", "source": sig.id, "target": doc.id, "label": ev.role})
        if doc.source:
            sid = f"src:{doc.source}"
            nodes.setdefault(sid, {"id": sid, "label": doc.source, "kind": "source", "href": f"/sources#{doc.source}"})
            edges.append({"id": f"s{i}", "source": doc.id, "target": sid, "label": "published by"})
    return {"nodes": list(nodes.values()), "edges": edges}
