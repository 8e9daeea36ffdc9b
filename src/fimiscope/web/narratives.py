"""Narrative pages: ``/narratives`` (active this week, by surge), ``/narratives/{id}`` (timelines
by affiliation tier and language, origin, top documents with the carrying sentences highlighted,
lineage, related clusters, signals) and the known-narrative editor (``/narratives/new``,
``/narratives/{id}/edit``; promote, merge and dismiss buttons)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError

from fimiscope.api.auth import require
from fimiscope.api.narratives import (
    NarrativeChange,
    NarrativeNew,
    change_narrative,
    create_narrative,
    list_page,
    narrative_detail,
)
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.store import Store
from fimiscope.store import narratives as db
from fimiscope.store.users import User
from fimiscope.web.nav import add_nav
from fimiscope.web.persuasion import profile_chart

PAGE_SIZE = 50


def carrying(text: str, sentences: list[dict[str, Any]]) -> Markup:
    """The excerpt's carrying sentences as escaped text in ``<mark>``, joined by ellipses."""
    if not sentences:
        return Markup(escape(text[:300]) + ("…" if len(text) > 300 else ""))
    return Markup(" … ".join(f'<mark class="carrying" title="score {s["score"]:.2f}">{escape(s["text"])}</mark>'
                             for s in sentences))


def link_incident(store: Store, incident_id: str, name: str, who: str) -> None:
    """Add the narrative (by name, as incidents name narratives) to an incident; audited."""
    from fimiscope.api.incidents import update_incident
    from fimiscope.store.cases import IncidentStore

    current = IncidentStore(store).get(incident_id)
    if name not in current.narratives:
        update_incident(store, incident_id, {"narratives": [*current.narratives, name]}, who)


def incidents_to_link(store: Store) -> list[Any]:
    from fimiscope.store.cases import IncidentStore

    return [i for i in IncidentStore(store).list(limit=100) if i.status not in ("closed", "dismissed")]


def _lines(value: str) -> list[str]:
    return [x.strip() for x in (value or "").splitlines() if x.strip()]


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    templates.env.filters["carrying"] = carrying
    viewer = require("viewer")
    analyst = require("analyst")
    add_nav(app, "Narratives", "/narratives", order=35)

    def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        resp: Response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
        return resp

    @app.get("/narratives", response_class=HTMLResponse, include_in_schema=False)
    def narratives_page(
        request: Request, kind: str = "", status: str = "active", days: int = Query(7, ge=1, le=365),
        offset: int = Query(0, ge=0), _u: User = viewer,
    ) -> Response:
        page = list_page(store, kind=kind or None, status=status or None, days=days, limit=PAGE_SIZE, offset=offset)
        return render(request, "narratives.html", page=page, params={"kind": kind, "status": status, "days": days})

    def form(request: Request, values: dict[str, Any], narrative: dict[str, Any] | None = None,
             error: str | None = None, status_code: int = 200) -> Response:
        return render(request, "narrative_form.html", status_code, values=values, n=narrative, error=error)

    @app.get("/narratives/new", response_class=HTMLResponse, include_in_schema=False)
    def narrative_new(request: Request, _u: User = analyst) -> Response:
        return form(request, {"name": "", "description": "", "keywords": "", "examples": "", "debunked": False})

    @app.post("/narratives", include_in_schema=False)
    async def narrative_create(request: Request, user: User = analyst) -> Response:
        f = await request.form()
        values: dict[str, Any] = {k: str(f.get(k) or "") for k in ("name", "description", "keywords", "examples")}
        values["debunked"] = bool(f.get("debunked"))
        try:
            body = NarrativeNew(name=values["name"].strip() or " ", description=values["description"],
                                keywords=[k.strip() for k in values["keywords"].split(",") if k.strip()],
                                examples=_lines(values["examples"]), debunked=values["debunked"])
            nid = create_narrative(store, body, user.name)
        except InvalidInput as exc:
            return form(request, values, None, str(exc), 422)
        except ValidationError as exc:  # the bounds on the fields
            return form(request, values, None, str(exc).splitlines()[0], 422)
        return RedirectResponse(f"/narratives/{nid}?saved=1", status_code=303)

    @app.get("/narratives/{narrative_id}", response_class=HTMLResponse, include_in_schema=False)
    def narrative_page(request: Request, narrative_id: str, _u: User = viewer) -> Response:
        data = narrative_detail(store, narrative_id)
        if data["id"] != narrative_id:  # merged: its documents live in the survivor
            return RedirectResponse(f"/narratives/{data['id']}", status_code=303)
        with store.connect() as conn:
            others = [r for r in db.list_narratives(conn, limit=500) if r["id"] != data["id"]]
        return render(request, "narrative.html", n=data, others=others, incidents=incidents_to_link(store),
                      saved=request.query_params.get("saved") == "1", techniques=profile_chart(data["techniques"]))

    @app.get("/narratives/{narrative_id}/edit", response_class=HTMLResponse, include_in_schema=False)
    def narrative_edit(request: Request, narrative_id: str, _u: User = analyst) -> Response:
        data = narrative_detail(store, narrative_id, documents=0)
        values = {"name": data["name"], "description": data["description"], "keywords": ", ".join(data["keywords"]),
                  "examples": "", "debunked": data["debunked"]}
        return form(request, values, data)

    @app.post("/narratives/{narrative_id}", include_in_schema=False)
    async def narrative_save(request: Request, narrative_id: str, user: User = analyst) -> Response:
        data = narrative_detail(store, narrative_id, documents=0)
        f = await request.form()
        values: dict[str, Any] = {k: str(f.get(k) or "") for k in ("name", "description", "keywords", "examples")}
        values["debunked"] = bool(f.get("debunked"))
        try:
            body = NarrativeChange(name=values["name"].strip() or None, description=values["description"],
                                   keywords=[k.strip() for k in values["keywords"].split(",") if k.strip()],
                                   debunked=values["debunked"], add_examples=_lines(values["examples"]))
            change_narrative(store, narrative_id, body, user.name)
        except InvalidInput as exc:
            return form(request, values, data, str(exc), 422)
        except ValidationError as exc:
            return form(request, values, data, str(exc).splitlines()[0], 422)
        return RedirectResponse(f"/narratives/{narrative_id}?saved=1", status_code=303)

    @app.post("/narratives/{narrative_id}/action", include_in_schema=False)
    async def narrative_action(request: Request, narrative_id: str, user: User = analyst) -> Response:
        f = await request.form()
        action = str(f.get("action") or "")
        target = narrative_id
        try:
            if action == "link":  # the incident's own transaction and audit, not ours
                incident = str(f.get("incident") or "").strip()
                if not incident:
                    raise InvalidInput("choose the incident to link this narrative to")
                with store.connect() as conn:
                    name = db.get_row(conn, narrative_id)["name"]
                link_incident(store, incident, name, user.name)
                return RedirectResponse(f"/narratives/{narrative_id}?saved=1", status_code=303)
            with store.transaction() as conn:
                if action == "promote":
                    db.promote(conn, narrative_id, name=str(f.get("name") or "").strip() or None, by=user.name)
                elif action == "merge":
                    target = str(f.get("into") or "").strip()
                    if not target:
                        raise InvalidInput("choose the narrative to merge into")
                    db.merge(conn, narrative_id, target, by=user.name)
                elif action == "dismiss":
                    db.dismiss(conn, narrative_id, by=user.name)
                else:
                    raise InvalidInput(f"unknown action {action!r}: promote, merge or dismiss")
        except InvalidInput as exc:
            data = narrative_detail(store, narrative_id)
            with store.connect() as conn:
                others = [r for r in db.list_narratives(conn, limit=500) if r["id"] != data["id"]]
            return render(request, "narrative.html", 422, n=data, others=others, error=str(exc), saved=False,
                          incidents=incidents_to_link(store), techniques=profile_chart(data["techniques"]))
        return RedirectResponse(f"/narratives/{target}?saved=1", status_code=303)
