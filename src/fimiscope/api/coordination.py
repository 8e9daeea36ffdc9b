"""REST API of coordinated groups: ``/api/coordination/groups`` (list with filters) and
``/api/coordination/groups/{id}`` (members, pair edges, shared items with each member's
delay, the signal), with the account network as GEXF or GraphML and the group as STIX."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import Response

from fimiscope.api.auth import require
from fimiscope.api.clusters import signal_brief
from fimiscope.api.rest import page_json
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.store import Store
from fimiscope.store import coordination as db
from fimiscope.store import workbench as wb
from fimiscope.store.users import User

KINDS = ("link", "share", "post", "hashtag")


def list_page(
    store: Store,
    *,
    min_size: int = 0,
    kind: str | None = None,
    platform: str | None = None,
    affiliation: str | None = None,
    status: str = "active",
    limit: int = 50,
    offset: int = 0,
) -> wb.Page:
    if kind and kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if status not in ("active", "dissolved"):
        raise InvalidInput("status is active or dissolved")
    with store.connect() as conn:
        rows = db.list_groups(
            conn, min_size=min_size, kind=kind, platform=platform, affiliation=affiliation, status=status, limit=100_000
        )
    return wb.Page(rows[offset : offset + limit], len(rows), limit, offset)


def group_detail(store: Store, group_id: str) -> dict[str, Any]:
    with store.connect() as conn:
        g = db.get_group(conn, group_id)
    g["signals"] = signal_brief(store, [g["signal_id"]] if g["signal_id"] else [])
    return g


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api/coordination", tags=["coordination"])
    viewer = require("viewer")

    @router.get("/groups", summary="Coordinated groups, strongest first")
    def groups_list(
        min_size: int = Query(0, ge=0, description="Only groups with at least this many members."),
        kind: str | None = Query(None, description="Groups tied by this kind: link, share, post or hashtag."),
        platform: str | None = Query(None, description="Groups with a member on this platform."),
        affiliation: str | None = Query(None, description="Groups with a member of this affiliation tier."),
        status: str = Query("active", description="active, or dissolved (found before, not by the last run)."),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        page = list_page(
            store,
            min_size=min_size,
            kind=kind or None,
            platform=platform or None,
            affiliation=affiliation or None,
            status=status,
            limit=limit,
            offset=offset,
        )
        return page_json(page, page.items)

    @router.get("/groups/{group_id}", summary="One group: members, edges, shared items with delays, signal")
    def groups_show(group_id: str, _u: User = viewer) -> dict[str, Any]:
        return group_detail(store, group_id)

    @router.get("/groups/{group_id}/network.gexf", summary="The group's account network as GEXF (Gephi)")
    def groups_gexf(group_id: str, _u: User = viewer) -> Response:
        from fimiscope.share.network import gexf

        body = gexf(group_detail(store, group_id))
        return Response(
            body,
            media_type="application/gexf+xml",
            headers={"Content-Disposition": f'attachment; filename="{group_id}.gexf"'},
        )

    @router.get("/groups/{group_id}/network.graphml", summary="The group's account network as GraphML")
    def groups_graphml(group_id: str, _u: User = viewer) -> Response:
        from fimiscope.share.network import graphml

        body = graphml(group_detail(store, group_id))
        return Response(
            body,
            media_type="application/graphml+xml",
            headers={"Content-Disposition": f'attachment; filename="{group_id}.graphml"'},
        )

    @router.get("/groups/{group_id}/stix", summary="The group as a STIX 2.1 bundle (intrusion-set, member channels)")
    def groups_stix(
        group_id: str,
        tlp: str = Query("amber", description="TLP marking: clear, green, amber, amber+strict or red."),
        _u: User = viewer,
    ) -> dict[str, Any]:
        from fimiscope.share.markings import TLP2_IDS
        from fimiscope.share.stix import group_bundle

        if tlp not in TLP2_IDS:
            raise InvalidInput(f"unknown TLP {tlp!r}; use one of {', '.join(TLP2_IDS)}")
        return group_bundle(group_detail(store, group_id), tlp)

    app.include_router(router)
