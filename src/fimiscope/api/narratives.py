"""REST API of narratives: ``/api/narratives`` (list by surge, define), ``/api/narratives/{id}``
(volumes by day, language and tier, origin, top documents with carrying sentences, lineage,
related clusters, signals) and the analyst's actions (edit, promote, merge, dismiss)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from fimiscope.api.auth import require
from fimiscope.api.clusters import signal_brief
from fimiscope.api.rest import page_json
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import narratives as db
from fimiscope.store import persuasion as persuasion_store
from fimiscope.store import workbench as wb
from fimiscope.store.tables import signals
from fimiscope.store.users import User

SIGNAL_TYPES = ("narrative_surge", "narrative_reach", "narrative_new_language")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NarrativeNew(_Strict):
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    keywords: list[str] = Field(default_factory=list, max_length=100)
    examples: list[str] = Field(default_factory=list, max_length=200)
    parent_id: str | None = None
    debunked: bool = False


class NarrativeChange(_Strict):
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=10_000)
    keywords: list[str] | None = Field(None, max_length=100)
    debunked: bool | None = None
    add_examples: list[str] = Field(default_factory=list, max_length=200)


class Promotion(_Strict):
    name: str | None = Field(None, min_length=1, max_length=300)


class Merge(_Strict):
    into: str = Field(min_length=1, max_length=48)


def list_page(store: Store, *, kind: str | None, status: str | None, days: int, limit: int, offset: int) -> wb.Page:
    with store.connect() as conn:
        every = db.list_narratives(conn, kind=kind, status=status, days=days, limit=100_000)
    return wb.Page(every[offset : offset + limit], len(every), limit, offset)


TRENDS_TTL_S = 30.0


def trends(store: Store, days: int = 30, top: int = 6) -> dict[str, Any]:
    """The narratives with the most documents in the last ``days`` days, per day (cached briefly:
    the overview asks for it on every load)."""

    def compute() -> dict[str, Any]:
        with store.connect() as conn:
            return {"window": days, **db.trends(conn, days=days, top=top)}

    data: dict[str, Any] = wb.cached(store, f"narratives:trends-{days}-{top}", compute, TRENDS_TTL_S)
    return data


def narrative_signal_ids(store: Store, narrative_id: str) -> list[str]:
    with store.connect() as conn:
        q = sa.select(signals.c.id, signals.c.details).where(signals.c.type.in_(SIGNAL_TYPES))
        return [str(i) for i, d in conn.execute(q) if (d or {}).get("narrative_id") == narrative_id]


def narrative_detail(store: Store, narrative_id: str, *, documents: int = 20) -> dict[str, Any]:
    with store.connect() as conn:
        data = db.get(conn, db.resolve(conn, narrative_id), documents_limit=documents)
        if data["parent_id"]:
            parent = db.get_row(conn, data["parent_id"])
            data["parent"] = {"id": parent["id"], "name": parent["name"]}
    data["signals"] = signal_brief(store, narrative_signal_ids(store, data["id"]))
    # the persuasion techniques of its documents, per week (met in the store: detectors do not
    # import each other)
    data["techniques"] = store.read(persuasion_store.narrative_profile, data["id"])
    return data


def create_narrative(store: Store, body: NarrativeNew, who: str) -> str:
    from fimiscope.core.errors import InvalidInput

    with store.transaction() as conn:
        if db.find_by_name(conn, body.name) is not None:
            raise InvalidInput(f"a narrative named {body.name!r} exists already")
        nid = db.create(conn, name=body.name, description=body.description, keywords=body.keywords,
                        examples=body.examples, parent_id=body.parent_id or None, debunked=body.debunked,
                        origin=f"analyst:{who}")
    return nid


def change_narrative(store: Store, narrative_id: str, body: NarrativeChange, who: str) -> None:
    fields = body.model_dump(exclude_unset=True)
    examples = fields.pop("add_examples", [])
    with store.transaction() as conn:
        old = db.get_row(conn, narrative_id)
        if fields:
            db.update(conn, narrative_id, **fields)
        db.add_examples(conn, narrative_id, examples)
        if "name" in fields and fields["name"] != old["name"]:
            db.add_lineage(conn, "renamed", narrative_id, narrative_id, by=who)


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api", tags=["narratives"])
    viewer = require("viewer")
    analyst = require("analyst")

    @router.get("/narratives", summary="Narratives, active in the last days first, by surge")
    def narratives_list(
        kind: str | None = Query(None, description="known or candidate"),
        status: str | None = Query("active", description="active, dismissed or merged"),
        days: int = Query(7, ge=1, le=365, description="What 'recent' means, in days."),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        page = list_page(store, kind=kind or None, status=status or None, days=days, limit=limit, offset=offset)
        return page_json(page, page.items)

    @router.get("/narratives/trends", summary="The narratives with the most recent documents, per day")
    def narratives_trends(
        days: int = Query(30, ge=1, le=365), top: int = Query(6, ge=1, le=20), _u: User = viewer
    ) -> dict[str, Any]:
        return trends(store, days, top)

    @router.post("/narratives", status_code=201, summary="Define a known narrative (analyst)")
    def narratives_create(body: NarrativeNew, user: User = analyst) -> dict[str, Any]:
        return narrative_detail(store, create_narrative(store, body, user.name))

    @router.get("/narratives/{narrative_id}", summary="One narrative: volumes, origin, documents, lineage, signals")
    def narratives_show(
        narrative_id: str, documents: int = Query(20, ge=0, le=500), _u: User = viewer
    ) -> dict[str, Any]:
        return narrative_detail(store, narrative_id, documents=documents)

    @router.patch("/narratives/{narrative_id}", summary="Rename, describe, add examples (analyst)")
    def narratives_change(narrative_id: str, body: NarrativeChange, user: User = analyst) -> dict[str, Any]:
        change_narrative(store, narrative_id, body, user.name)
        return narrative_detail(store, narrative_id)

    @router.post("/narratives/{narrative_id}/promote", summary="Make an emerging narrative a known one (analyst)")
    def narratives_promote(narrative_id: str, body: Promotion, user: User = analyst) -> dict[str, Any]:
        with store.transaction() as conn:
            db.promote(conn, narrative_id, name=body.name, by=user.name)
        return narrative_detail(store, narrative_id)

    @router.post("/narratives/{narrative_id}/merge", summary="Fold this narrative into another (analyst)")
    def narratives_merge(narrative_id: str, body: Merge, user: User = analyst) -> dict[str, Any]:
        with store.transaction() as conn:
            moved = db.merge(conn, narrative_id, body.into, by=user.name)
        return {"merged": narrative_id, "into": body.into, "documents_moved": moved}

    @router.post("/narratives/{narrative_id}/dismiss", summary="Mark a narrative as noise (analyst)")
    def narratives_dismiss(narrative_id: str, user: User = analyst) -> dict[str, Any]:
        with store.transaction() as conn:
            db.dismiss(conn, narrative_id, by=user.name)
        return {"id": narrative_id, "status": "dismissed"}

    app.include_router(router)
