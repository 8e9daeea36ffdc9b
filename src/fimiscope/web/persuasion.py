"""Persuasion pages: ``/persuasion`` (the techniques, their DISARM techniques and how many
documents carry each, with links to search and triage filtered by technique), the paragraphs
panel of the document page (``/documents/{id}/persuasion``, loaded into the page: each paragraph
with techniques, its words highlighted) and a source's technique rates per week
(``/persuasion/sources/{name}``, a chart)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from fimiscope.api.auth import require
from fimiscope.api.persuasion import techniques_json
from fimiscope.config import Settings
from fimiscope.index.persuasion import GROUP_OF, technique_label
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import persuasion as db
from fimiscope.store import sources as source_store
from fimiscope.store.users import User
from fimiscope.web.nav import MORE, add_nav

CHART_TECHNIQUES = 6


def group_slug(technique: str) -> str:
    return re.sub(r"[^a-z]+", "-", GROUP_OF.get(technique, "other").lower()).strip("-")


def highlight_paragraph(text: str, start: int, spans: list[dict[str, Any]]) -> Markup:
    """One paragraph, HTML-escaped, each trigger span (document characters) in a ``<mark>``
    titled with its techniques; overlapping spans split into segments that carry all of them."""
    n = len(text)
    cuts = {0, n}
    good = []
    for sp in spans:
        s, e = max(0, int(sp["start"]) - start), min(n, int(sp["end"]) - start)
        if e > s:
            good.append((s, e, sp))
            cuts.update((s, e))
    out: list[str] = []
    for a, b in itertools.pairwise(sorted(cuts)):
        seg = str(escape(text[a:b]))
        covering = [sp for s, e, sp in good if s <= a and b <= e]
        if not covering:
            out.append(seg)
            continue
        names = sorted({sp["technique"] for sp in covering})
        title = "; ".join(technique_label(t) for t in names)
        out.append(f'<mark class="pt pt-{group_slug(names[0])}" data-techniques="{escape(" ".join(names))}" '
                   f'title="{escape(title)}">{seg}</mark>')
    return Markup("".join(out))


def profile_chart(prof: dict[str, Any]) -> dict[str, Any]:
    """What the rates chart and table need from a profile (``store.persuasion._profile``): the
    weeks, a line per technique for the most frequent ``CHART_TECHNIQUES``, and a row per
    technique (name, label, group, paragraphs, rate)."""
    top = list(prof["totals"])[:CHART_TECHNIQUES]
    return {"weeks": [w["week"] for w in prof["weeks"]],
            "series": {technique_label(t): [w["rates"].get(t, 0.0) for w in prof["weeks"]] for t in top},
            "rows": [(t, technique_label(t), GROUP_OF.get(t, ""), n, prof["rates"].get(t, 0.0))
                     for t, n in prof["totals"].items()]}


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    viewer = require("viewer")
    # The top bar is full at 1280 px: the room is under its "More" drop-down, and reached from
    # Sources, the document page's panel, the narrative page and the technique filters.
    add_nav(app, "Persuasion techniques", "/persuasion", order=40, menu=MORE)

    def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        resp: Response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
        return resp

    @app.get("/persuasion", response_class=HTMLResponse, include_in_schema=False)
    def persuasion_page(request: Request, _u: User = viewer) -> Response:
        with store.connect() as conn:
            totals = db.technique_totals(conn)
            classified = db.classified_count(conn)
            srcs = source_store.list_sources(conn, limit=1000)
        return render(request, "persuasion.html", techniques=techniques_json(), totals=totals,
                      classified=classified, sources=srcs)

    @app.get("/documents/{doc_id}/persuasion", response_class=HTMLResponse, include_in_schema=False)
    def document_panel(request: Request, doc_id: str, _u: User = viewer) -> Response:
        doc = store.read(document_store.get_document, doc_id)
        stored = store.read(db.document_paragraphs, doc_id)
        paragraphs = []
        for p in (stored or {}).get("paragraphs", []):
            paragraphs.append({**p, "html": highlight_paragraph(doc.text[p["start"]:p["end"]], p["start"], p["spans"]),
                               "chips": [(t, technique_label(t), group_slug(t), p["scores"].get(t, 0.0))
                                         for t in p["techniques"]]})
        return render(request, "_persuasion_document.html", doc=doc, stored=stored, paragraphs=paragraphs)

    @app.get("/persuasion/sources/{name}", response_class=HTMLResponse, include_in_schema=False)
    def source_page(request: Request, name: str, weeks: int = Query(26, ge=1, le=520),
                    _u: User = viewer) -> Response:
        with store.connect() as conn:
            src = source_store.get_source(conn, name)
            assert src.id
            prof = db.source_profile(conn, src.id, weeks=weeks)
        chart = profile_chart(prof)
        return render(request, "persuasion_source.html", src=src, prof=prof, chart=chart, rows=chart["rows"],
                      weeks=weeks)

