"""REST API of the infrastructure room: ``/api/infrastructure/groups`` (site groups),
``/api/infrastructure/groups/{id}`` (members, shared indicators, links; ``.gexf`` for Gephi)
and ``/api/infrastructure/sites/{site}`` (a site's fingerprints with where/when, the sites
sharing them, tiered, and its look-up history)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import Response

from fimiscope.api.auth import require
from fimiscope.api.rest import page_json
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db
from fimiscope.store import workbench as wb
from fimiscope.store.users import User


def groups_page(store: Store, *, site: str | None = None, limit: int = 50, offset: int = 0) -> wb.Page:
    with store.connect() as conn:
        items = infra_db.list_groups(conn, limit=limit, offset=offset, site=site or None)
        total = infra_db.count_groups(conn, site=site or None)
    return wb.Page(items, total, limit, offset)


def gexf_response(store: Store, group_id: str) -> Response:
    from fimiscope.share.gexf import group_gexf

    body = group_gexf(store.read(infra_db.get_group, group_id))
    return Response(body, media_type="application/gexf+xml",
                    headers={"Content-Disposition": f'attachment; filename="site-group-{group_id}.gexf"'})


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api/infrastructure", tags=["infrastructure"])
    viewer = require("viewer")

    @router.get("/groups", summary="Site groups (sites sharing infrastructure), largest first")
    def groups_list(
        site: str | None = Query(None, description="Only groups with this site."),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        page = groups_page(store, site=site, limit=limit, offset=offset)
        return page_json(page, page.items)

    @router.get("/groups/{group_id}.gexf", summary="A site group as GEXF (sites and shared indicators)",
                response_class=Response)
    def groups_gexf(group_id: str, _u: User = viewer) -> Response:
        return gexf_response(store, group_id)

    @router.get("/groups/{group_id}", summary="One site group: members, shared indicators, links")
    def groups_show(group_id: str, _u: User = viewer) -> dict[str, Any]:
        return store.read(infra_db.get_group, group_id)

    @router.get("/sites/{site}", summary="One site: fingerprints, the sites sharing them (tiered), look-ups")
    def sites_show(site: str, _u: User = viewer) -> dict[str, Any]:
        return store.read(infra_db.site_profile, site)

    app.include_router(router)
