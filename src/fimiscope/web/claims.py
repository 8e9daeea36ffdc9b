"""Claim pages: ``/claims`` (the claim database, newest first or ranked by a search) and
``/claims/{id}`` (one claim, its debunk and the documents matched to it). The claim-match
view itself is a section of the signal page (``_claim_match.html``)."""

from __future__ import annotations

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from fimiscope.api.auth import require
from fimiscope.api.claims import claim_detail, list_page, search_page
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store.users import User
from fimiscope.web.nav import add_nav
from fimiscope.web.render import snippet


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    # The claim-match section on the signal page quotes the matched sentence in its document.
    templates.env.globals.setdefault("snippet", snippet)
    viewer = require("viewer")
    add_nav(app, "Claims", "/claims", order=40)

    @app.get("/claims", response_class=HTMLResponse, include_in_schema=False)
    def claims_page(
        request: Request,
        q: str = "",
        lang: str = "",
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> Response:
        if q.strip():
            page = search_page(store, q, language=lang or None, limit=limit, offset=offset)
            rows = [(r, s) for r, s in page.items]
        else:
            page = list_page(store, language=lang or None, limit=limit, offset=offset)
            rows = [(r, None) for r in page.items]
        resp: Response = templates.TemplateResponse(
            request, "claims.html", {"q": q, "lang": lang, "page": page, "rows": rows}
        )
        return resp

    @app.get("/claims/{claim_id}", response_class=HTMLResponse, include_in_schema=False)
    def claim_page(request: Request, claim_id: str, _u: User = viewer) -> Response:
        resp: Response = templates.TemplateResponse(request, "claim.html", {"c": claim_detail(store, claim_id)})
        return resp
