"""REST API of the claim database: ``/api/claims`` (newest first, or ranked by ``q``) and
``/api/claims/{id}`` (the claim, its debunk and the claim_match signals raised on it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query

from fimiscope.api.auth import require
from fimiscope.api.clusters import signal_brief
from fimiscope.api.rest import page_json
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import claims as claim_store
from fimiscope.store import workbench as wb
from fimiscope.store.users import User

# With a language filter the ranked list is filtered after ranking; ask the index for this
# many candidates so a page still fills when most of the best matches are in other languages.
FILTERED_CANDIDATES = 1000


def search_page(store: Store, q: str, *, language: str | None, limit: int, offset: int) -> wb.Page:
    """Claims ranked by BM25 against ``q`` (the detector's own index), each with its score.
    ``total`` is a lower bound, as for document search: counting every match costs a scan."""
    from fimiscope.detect.claims import matcher_for

    _, matcher = matcher_for(store, lexical_only=True)  # a search must never wait for claims to be encoded
    want = offset + limit + 1
    hits = matcher.index.query(q, max(want, FILTERED_CANDIDATES) if language else want)
    found = claim_store.get_claims(store, [cid for cid, _ in hits])
    ranked = [(found[cid], score) for cid, score in hits if cid in found]
    if language:
        ranked = [(r, s) for r, s in ranked if r.claim.language == language]
    items = ranked[offset : offset + limit]
    total = offset + len(items) + (1 if len(ranked) > offset + limit else 0)
    return wb.Page(items, total, limit, offset)


def list_page(store: Store, *, language: str | None, limit: int, offset: int) -> wb.Page:
    rows = claim_store.list_claims(store, language=language, limit=limit, offset=offset)
    return wb.Page(rows, claim_store.count_claims(store, language=language), limit, offset)


def claim_detail(store: Store, claim_id: str) -> dict[str, Any]:
    data = claim_store.get_claim(store, claim_id).as_dict()
    data["signals"] = signal_brief(store, claim_store.claim_signal_ids(store, claim_id))
    return data


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api", tags=["claims"])
    viewer = require("viewer")

    @router.get("/claims", summary="Debunked claims: newest first, or ranked by q")
    def claims_list(
        q: str | None = Query(None, description="Words or a whole sentence; ranked by BM25, each item with score."),
        lang: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        if q and q.strip():
            page = search_page(store, q, language=lang or None, limit=limit, offset=offset)
            return page_json(page, [{**r.as_dict(), "score": round(s, 4)} for r, s in page.items])
        page = list_page(store, language=lang or None, limit=limit, offset=offset)
        return page_json(page, [r.as_dict() for r in page.items])

    @router.get("/claims/{claim_id}", summary="One claim with its debunk and the signals matching it")
    def claims_show(claim_id: str, _u: User = viewer) -> dict[str, Any]:
        return claim_detail(store, claim_id)

    app.include_router(router)
