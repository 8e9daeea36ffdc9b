"""Laundering cluster pages: ``/clusters`` (the list) and ``/clusters/{id}`` (the chain as a
timeline and a graph, its members, edges and signals), and the cluster report
(``/reports/clusters/{id}.html`` and ``.pdf``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from fimiscope.api.auth import require
from fimiscope.api.clusters import cluster_detail, list_page
from fimiscope.config import Settings
from fimiscope.core.clock import lag_text
from fimiscope.detect.laundering import alignment
from fimiscope.store import Store
from fimiscope.store import laundering as laundering_store
from fimiscope.store import workbench as wb
from fimiscope.store.users import User
from fimiscope.web.evidence import cut_words
from fimiscope.web.nav import add_nav
from fimiscope.web.reports import pdf_response, render_report

CACHE_TTL_S = 30.0
ORIGIN_COLOR = "#c8372d"
STRIPPED_COLOR = "#e0752f"
CREDITED_COLOR = "#2f5bd3"


def fmt_lag(seconds: float | None) -> str:
    return lag_text(seconds)


def _edge_short(e: dict[str, Any]) -> str:
    """The graph's edge label: lag, method, stripped; the rest in the edge table."""
    method = {"near_duplicate": "copy", "translation": "transl.", "partial": "quote"}.get(e["method"], e["method"])
    return f"{fmt_lag(e['lag_s'])} · {method}{' · stripped' if e['attribution_stripped'] else ''}"


def edge_label(e: dict[str, Any]) -> str:
    parts = [fmt_lag(e["lag_s"]), e["method"].replace("_", " ")]
    if e["language_change"]:
        parts.append(f"{e['copied_language']}→{e['copier_language']}")
    parts.append("attribution stripped" if e["attribution_stripped"] else "credited")
    return " · ".join(parts)


def _attribution(data: dict[str, Any]) -> dict[str, str]:
    """Per copy: stripped when none of its edges credits what it copied."""
    out: dict[str, str] = {}
    for e in data["edges"]:
        doc = e["copier_document_id"]
        if e["attribution_stripped"]:
            out.setdefault(doc, "stripped")
        else:
            out[doc] = "credited"
    return out


def chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What static/cluster.js draws: timeline points and Cytoscape elements (origin → copies)."""
    attribution = _attribution(data)
    points = []
    for m in data["members"]:
        points.append(
            {
                "id": m["document_id"],
                "title": m["title"] or m["document_id"],
                "lane": f"{m['source'] or 'no source'} · {m['language'] or '?'}",
                "at": m["published_at"],
                "role": m["role"],
                "attribution": attribution.get(m["document_id"]) if m["role"] == "copy" else None,
                "lag": fmt_lag(m["lag_s"]) if m["role"] == "copy" else "origin",
                "href": f"/documents/{m['document_id']}",
            }
        )
    # Laid out by time (left to right, one column per member in publication order, so 30
    # members stay apart) and grouped by language (one row each): read like the timeline.
    by_time = sorted(data["members"], key=lambda m: (m["published_at"] is None, m["published_at"] or "",
                                                     m["role"] != "origin", m["document_id"]))
    lanes = sorted({m["language"] or "?" for m in data["members"]}, key=lambda x: (x != (
        (data.get("origin") or {}).get("language") or "?"), x))
    nodes = [
        {
            "id": m["document_id"],
            "label": _short(m["source"] or m["document_id"], 18),
            "title": m["title"] or m["document_id"],
            "language": m["language"] or "?",
            "kind": m["role"],
            "attribution": attribution.get(m["document_id"], ""),
            "href": f"/documents/{m['document_id']}",
            "x": 40 + 150 * rank,
            "y": 50 + 110 * lanes.index(m["language"] or "?") + (28 if rank % 2 else 0),
        }
        for rank, m in enumerate(by_time)
    ]
    known = {n["id"] for n in nodes}
    edges = [
        {
            "id": f"e{i}",
            # drawn from what was copied to who copied it, so the origin is the root
            "source": e["copied_document_id"],
            "target": e["copier_document_id"],
            "label": _edge_short(e),
            "full": edge_label(e),
            "stripped": "yes" if e["attribution_stripped"] else "no",
            "translation": "yes" if e["language_change"] or e["method"] == "translation" else "no",
        }
        for i, e in enumerate(data["edges"])
        if e["copied_document_id"] in known and e["copier_document_id"] in known
    ]
    return {"timeline": points, "graph": {"nodes": nodes, "edges": edges, "root": data["origin_document_id"],
                                          "lanes": lanes}}


def _short(text: str, n: int) -> str:
    """Cut at a word (or dot) boundary, with an ellipsis."""
    if len(text) <= n:
        return text
    cut = text[:n]
    for sep in (" ", "."):
        if sep in cut[n // 2 :]:
            cut = cut[: cut.rindex(sep)]
            break
    return cut.rstrip(" .") + "…"


def timeline_svg(
    members: list[dict[str, Any]], attribution: dict[str, str] | None = None, *, width: int = 760
) -> Markup:
    """The chain's timeline as inline SVG for the report: one lane per source and language,
    members placed by publication time, the origin a red diamond, copies orange when their
    attribution was stripped and blue when they credit what they copied. Members without a date are listed
    under the chart by the template, not placed on it."""
    dated = [(m, datetime.fromisoformat(m["published_at"])) for m in members if m["published_at"]]
    if not dated:
        return Markup("")
    lanes: list[str] = []
    for m, _ in dated:
        lane = f"{m['source'] or 'no source'} · {m['language'] or '?'}"
        if lane not in lanes:
            lanes.append(lane)
    t0 = min(t for _, t in dated)
    t1 = max(t for _, t in dated)
    span = max((t1 - t0).total_seconds(), 1.0)
    label_w, right, lane_h, top = 210, 30, 30, 10
    plot_w = width - label_w - right
    height = top + lane_h * len(lanes) + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="cluster timeline" font-family="system-ui, sans-serif" font-size="12">'
    ]
    for i, lane in enumerate(lanes):
        y = top + i * lane_h + lane_h / 2
        parts.append(f'<text x="0" y="{y + 4:.0f}" fill="#333">{escape(cut_words(lane, 32))}</text>')
        parts.append(
            f'<line x1="{label_w}" y1="{y:.0f}" x2="{width - right}" y2="{y:.0f}" stroke="#e1e4ea"/>'
        )
    axis_y = top + lane_h * len(lanes) + 6
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#8a93a3"/>')
    for frac, anchor in ((0.0, "start"), (1.0, "end")):
        t = t0 if frac == 0 else t1
        x = label_w + plot_w * frac
        parts.append(
            f'<text x="{x:.0f}" y="{axis_y + 16}" fill="#6a7282" text-anchor="{anchor}">'
            f'{t.strftime("%Y-%m-%d %H:%M")}</text>'
        )
    for m, t in dated:
        lane = f"{m['source'] or 'no source'} · {m['language'] or '?'}"
        x = label_w + plot_w * (t - t0).total_seconds() / span
        y = top + lanes.index(lane) * lane_h + lane_h / 2
        title = escape(f"{m['role']}: {m['title'] or m['document_id']} ({t.strftime('%Y-%m-%d %H:%M')})")
        if m["role"] == "origin":
            parts.append(
                f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="{ORIGIN_COLOR}" '
                f'transform="rotate(45 {x:.1f} {y:.1f})"><title>{title}</title></rect>'
            )
        else:
            color = STRIPPED_COLOR if (attribution or {}).get(m["document_id"]) == "stripped" else CREDITED_COLOR
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color}"><title>{title}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


ALIGN_LABELS = {
    "shared": "shared",
    "edited": "edited",
    "added": "added by the copy",
    "dropped": "dropped by the copy",
    "aligned": "aligned by anchors",
    "unaligned": "not aligned",
}


def _marked(text: str, span: list[int] | None, marks: list[tuple[int, int, str]]) -> Markup:
    """The span's text, escaped, with the anchors in it marked (their Latin form on hover)."""
    if span is None:
        return Markup("")
    start, end = span
    out: list[str] = []
    pos = start
    for a, b, latin in sorted(m for m in marks if start <= m[0] and m[1] <= end):
        if a < pos:
            continue
        out.append(str(escape(text[pos:a])))
        out.append(f'<mark class="anchor" title="{escape(latin)}">{escape(text[a:b])}</mark>')
        pos = b
    out.append(str(escape(text[pos:end])))
    return Markup("".join(out))


def aligned_view(store: Store, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The cluster's alignments as rows of two escaped, marked-up texts for the templates."""
    alignments = data.get("alignments") or []
    ids = {x for a in alignments for x in (a["copier_document_id"], a["copied_document_id"])}
    with store.connect() as conn:
        info = laundering_store.doc_info(conn, ids)
    out = []
    for a in alignments:
        copier, copied = info.get(a["copier_document_id"]), info.get(a["copied_document_id"])
        if copier is None or copied is None:
            continue
        rows = []
        for r in a["rows"]:
            anchors = r.get("anchors") or []
            o_marks = [(s[0], s[1], x["latin"]) for x in anchors for s in x["origin"]]
            c_marks = [(s[0], s[1], x["latin"]) for x in anchors for s in x["copy"]]
            rows.append(
                {
                    "kind": r["kind"],
                    "label": ALIGN_LABELS.get(r["kind"], r["kind"]),
                    "origin_html": _marked(copied.text, r["origin"], o_marks),
                    "copy_html": _marked(copier.text, r["copy"], c_marks),
                    "anchors": [f"{x['origin_text']} = {x['copy_text']} ({x['latin']})" for x in anchors],
                }
            )
        out.append(
            {
                "copier": laundering_store.display_title(copier),
                "copier_source": copier.source,
                "copier_url": copier.url,
                "copier_language": copier.language,
                "copied": laundering_store.display_title(copied),
                "copied_source": copied.source,
                "copied_url": copied.url,
                "copied_language": copied.language,
                "mode": a["mode"],
                "link": a.get("link"),
                "counts": a["counts"],
                "rows": rows,
            }
        )
    return out


def signal_aligned(store: Store, sig: Any) -> list[dict[str, Any]]:
    """For a laundering signal: the copy aligned against what it copied (the document its
    chain edge points at, the quoted one, or the origin)."""
    if sig.type != "laundering":
        return []
    details = sig.details or {}
    copy = next((e.document_id for e in sig.evidence if e.role == "copy" and e.document_id), None)
    if copy is None:
        return []
    chain = details.get("chain") or []
    copied = (
        details.get("quoted_document_id")
        or next((e["copied"] for e in chain if e.get("copier") == copy), None)
        or details.get("origin_document_id")
    )
    if not copied:
        return []
    with store.connect() as conn:
        info = laundering_store.doc_info(conn, [copy, copied])
    if copy not in info or copied not in info:
        return []
    link = details.get("link") or laundering_store.LINK_COPY
    return aligned_view(store, {"alignments": [{**alignment(info[copy], info[copied]), "link": link}]})


def signal_evidence(store: Store, sig: Any, excerpts: int = 3) -> dict[str, Any] | None:
    """What a partner needs to check a laundering signal in a report: the origin and the copy
    (source, URL, publication time) and a few aligned excerpts with the shared passage marked."""
    pairs = signal_aligned(store, sig)
    if not pairs:
        return None
    pair = pairs[0]
    details = sig.details or {}
    with store.connect() as conn:
        info = laundering_store.doc_info(
            conn, [x for x in (details.get("origin_document_id"),) if x]
        )
    origin = info.get(details.get("origin_document_id") or "")
    keep = [r for r in pair["rows"] if r["kind"] in ("shared", "edited", "aligned")][:excerpts]
    keep += [r for r in pair["rows"] if r["kind"] in ("added", "dropped")][:2]
    return {
        **pair,
        "rows": keep,
        "origin_source": origin.source if origin else pair["copied_source"],
        "origin_url": origin.url if origin else pair["copied_url"],
        "origin_published": origin.published_at if origin else None,
        "link": details.get("link") or "copy",
    }


def cluster_report_html(request: Request, store: Store, cluster_id: str) -> str:
    data = cluster_detail(store, cluster_id)
    attribution = _attribution(data)
    return render_report(request, "report_cluster.html", c=data, chart=timeline_svg(data["members"], attribution),
                         attribution=attribution, aligned=aligned_view(store, data))


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    templates.env.filters["lag"] = fmt_lag
    templates.env.filters["edge_label"] = edge_label
    viewer = require("viewer")
    add_nav(app, "Clusters", "/clusters", order=30)

    def cached(key: str, compute: Any) -> Any:
        return wb.cached(store, f"clusters-pages:{key}", compute, CACHE_TTL_S)

    @app.get("/clusters", response_class=HTMLResponse, include_in_schema=False)
    def clusters_page(
        request: Request,
        min_size: int = Query(2, ge=2),
        lang: str = "",
        origin_source: str = "",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        sort: str = "affiliation",
        affiliation: str = "",
        stripped: bool = False,
        _u: User = viewer,
    ) -> Response:
        page = list_page(
            store, min_size=min_size, language=lang or None, origin_source=origin_source or None,
            limit=limit, offset=offset, sort=sort, affiliation=affiliation or None, stripped=stripped,
        )
        params = {"min_size": min_size, "lang": lang, "origin_source": origin_source, "sort": sort,
                  "affiliation": affiliation, "stripped": stripped}
        filtered = bool(lang or origin_source or min_size > 2 or affiliation or stripped)
        resp: Response = templates.TemplateResponse(
            request,
            "clusters.html",
            {
                "page": page,
                "params": params,
                "filtered": filtered,
                "languages": cached("languages", lambda: wb.languages(store)),
                "sources": cached("sources", lambda: wb.source_names(store)),
            },
        )
        return resp

    @app.get("/clusters/{cluster_id}", response_class=HTMLResponse, include_in_schema=False)
    def cluster_page(request: Request, cluster_id: str, _u: User = viewer) -> Response:
        data = cluster_detail(store, cluster_id)
        resp: Response = templates.TemplateResponse(
            request, "cluster.html", {"c": data, "charts": chart_data(data), "attribution": _attribution(data),
                                      "aligned": aligned_view(store, data)}
        )
        return resp

    @app.get("/reports/clusters/{cluster_id}.html", tags=["reports"], response_class=HTMLResponse,
             summary="Self-contained HTML report of a laundering cluster")
    def cluster_report(request: Request, cluster_id: str, download: bool = False, _u: User = viewer) -> Response:
        html = cluster_report_html(request, store, cluster_id)
        headers = {"Content-Disposition": f'attachment; filename="cluster-{cluster_id}.html"'} if download else {}
        return HTMLResponse(html, headers=headers)

    @app.get("/reports/clusters/{cluster_id}.pdf", tags=["reports"], summary="PDF report of a cluster (needs Chromium)")
    def cluster_report_pdf(request: Request, cluster_id: str, _u: User = viewer) -> Response:
        return pdf_response(request, cluster_report_html(request, store, cluster_id), f"cluster-{cluster_id}.pdf")
