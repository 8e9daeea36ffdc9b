"""TAXII 2.1 routes under ``/taxii2/``, authenticated with partner credentials (not web users).

Discovered by the web app: it calls ``mount(app, store, settings)`` for every module of
``fimiscope.api`` that defines one. The logic lives in ``fimiscope.share.taxii_server``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fimiscope.config import Settings
from fimiscope.share.taxii_server import (
    MAX_CONTENT_LENGTH,
    TAXII_MEDIA,
    Page,
    TaxiiError,
    TaxiiService,
    accepts_taxii,
    content_is_taxii,
    timestamp,
)
from fimiscope.store import Store

PREFIX = "/taxii2"


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII_MEDIA, headers=headers)


def _error(exc: TaxiiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="taxii", Basic realm="taxii"'} if exc.status == 401 else None
    return _json(exc.body(), exc.status, headers)


def _page(page: Page) -> JSONResponse:
    headers = {}
    if page.first is not None and page.last is not None:
        headers["X-TAXII-Date-Added-First"] = timestamp(page.first)
        headers["X-TAXII-Date-Added-Last"] = timestamp(page.last)
    return _json(page.body, headers=headers)


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    service = TaxiiService(store)

    async def handle(request: Request, work: Callable[[Any], Any], *, page: bool = False) -> Response:
        try:
            if not accepts_taxii(request.headers.get("accept")):
                raise TaxiiError(406, "Not acceptable", f"this server speaks {TAXII_MEDIA}")
            partner = await run_in_threadpool(service.authenticate, request.headers.get("authorization"))
            result = await run_in_threadpool(work, partner)
        except TaxiiError as exc:
            return _error(exc)
        return _page(result) if page else _json(result)

    @app.get(PREFIX + "/", include_in_schema=False)
    async def discovery(request: Request) -> Response:
        base = str(request.base_url)
        return await handle(request, lambda p: service.discovery(base))

    @app.get(PREFIX + "/{root}/", include_in_schema=False)
    async def api_root(request: Request, root: str) -> Response:
        return await handle(request, lambda p: service.api_root(root))

    @app.get(PREFIX + "/{root}/collections/", include_in_schema=False)
    async def collections(request: Request, root: str) -> Response:
        return await handle(request, lambda p: service.collections(root, p))

    @app.get(PREFIX + "/{root}/collections/{cid}/", include_in_schema=False)
    async def collection(request: Request, root: str, cid: str) -> Response:
        return await handle(request, lambda p: service.collection(root, cid, p))

    @app.get(PREFIX + "/{root}/collections/{cid}/objects/", include_in_schema=False)
    async def get_objects(request: Request, root: str, cid: str) -> Response:
        params = _params(request)
        return await handle(request, lambda p: service.objects(root, cid, p, params), page=True)

    @app.post(PREFIX + "/{root}/collections/{cid}/objects/", include_in_schema=False)
    async def add_objects(request: Request, root: str, cid: str) -> Response:
        try:
            if not accepts_taxii(request.headers.get("accept")):
                raise TaxiiError(406, "Not acceptable", f"this server speaks {TAXII_MEDIA}")
            partner = await run_in_threadpool(service.authenticate, request.headers.get("authorization"))
            if not content_is_taxii(request.headers.get("content-type")):
                raise TaxiiError(415, "Unsupported media type", f"send the envelope as {TAXII_MEDIA}")
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
                raise TaxiiError(413, "Too large", f"the limit is {MAX_CONTENT_LENGTH} bytes")
            body = bytearray()
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > MAX_CONTENT_LENGTH:
                    raise TaxiiError(413, "Too large", f"the limit is {MAX_CONTENT_LENGTH} bytes")
            status = await run_in_threadpool(service.add_objects, root, cid, partner, bytes(body))
        except TaxiiError as exc:
            return _error(exc)
        return _json(status, 202)

    @app.get(PREFIX + "/{root}/collections/{cid}/objects/{oid}/", include_in_schema=False)
    async def get_object(request: Request, root: str, cid: str, oid: str) -> Response:
        params = _params(request)
        return await handle(request, lambda p: service.object(root, cid, oid, p, params), page=True)

    @app.get(PREFIX + "/{root}/collections/{cid}/objects/{oid}/versions/", include_in_schema=False)
    async def versions(request: Request, root: str, cid: str, oid: str) -> Response:
        params = _params(request)
        return await handle(request, lambda p: service.versions(root, cid, oid, p, params), page=True)

    @app.get(PREFIX + "/{root}/collections/{cid}/manifest/", include_in_schema=False)
    async def manifest(request: Request, root: str, cid: str) -> Response:
        params = _params(request)
        return await handle(request, lambda p: service.manifest(root, cid, p, params), page=True)

    @app.get(PREFIX + "/{root}/status/{sid}/", include_in_schema=False)
    async def status(request: Request, root: str, sid: str) -> Response:
        return await handle(request, lambda p: service.status(root, sid, p))
