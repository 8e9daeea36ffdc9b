"""RFC 9457 problem details: the one shape of every error the HTTP face returns.

A leaf module: routes, the auth middleware and the application root import it; it imports
nothing of the HTTP face. A browser navigating to a page gets the same facts as an HTML page
(``error.html``) instead of JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fimiscope.core.errors import FimiscopeError

log = logging.getLogger("fimiscope.api")

PROBLEM = "application/problem+json"
STATUS_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response: ``type``, ``title``, ``status``, ``detail`` (+ ``instance``, extras)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or STATUS_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/taxii"):
        return False
    return "text/html" in request.headers.get("accept", "") and "HX-Request" not in request.headers


def error_response(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None, *, title: str | None = None
) -> Response:
    """problem+json; a browser navigating to a page gets the same facts as an HTML page."""
    title = title or STATUS_TITLES.get(status, "Error")
    templates = getattr(request.app.state, "templates", None)
    if wants_html(request) and templates is not None:
        resp: Response = templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "title": title, "detail": detail},
            status_code=status,
            headers=headers,
        )
        return resp
    return problem(status, detail, title=title, instance=request.url.path, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """The one place where errors become responses: problem+json, or the HTML error page.

    A ``FimiscopeError`` carries its status (``http_status``); anything else is a bug and
    answers 500 without details. There is deliberately no ``ValueError`` handler: parse user
    input where it arrives and raise ``InvalidInput``.
    """

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else STATUS_TITLES.get(exc.status_code, "Error")
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(FimiscopeError)
    async def _ours(request: Request, exc: FimiscopeError) -> Response:
        # The class knows its status (fimiscope.core.errors); a server-side failure is logged.
        if exc.http_status >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc, exc_info=exc.__cause__)
        return error_response(request, exc.http_status, str(exc), title=exc.title)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # Not one of ours: a bug. Its traceback goes to the log, never to the client.
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "the server failed; the log has the details")
