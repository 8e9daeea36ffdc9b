"""What every request meets before the login layer: which proxy to believe, body limits, and the
security headers on every response.

- **Proxies.** ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed only from the addresses
  and networks in ``FIMISCOPE_TRUSTED_PROXIES`` (empty by default: the socket's peer is the
  client). Otherwise anyone on the host could name any address and start afresh at the login
  limiter, which counts failures per user and address.
- **Bodies.** A JSON body (``application/json``, any ``+json``) nested so deeply that Python's
  parser would give up is answered 400 here, before any route parses it; a body larger than
  ``MAX_BODY`` is answered 413. This layer sits inside the login layer (only an authenticated
  client's body is read) and leaves ``/taxii2/`` to the TAXII routes, which check their own.
- **Headers.** On every response, an unhandled error's 500 included: a Content-Security-Policy
  the pages satisfy (scripts and style sheets from our own origin only, no inline script, no
  eval, no framing), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, a
  Referrer-Policy that never sends our URLs to the sites an analyst opens from a page, and HSTS
  over https. Inline style *attributes* are allowed: the vendored ECharts writes its tooltips
  with them; style elements and scripts are not.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fimiscope.api.problems import problem
from fimiscope.config import Settings
from fimiscope.core.errors import ConfigError

MAX_BODY = 64 * 1024 * 1024  # above the largest body a route accepts (a 50 MB STIX bundle)
_DEPTH_CHECK_OVER = 512  # fewer brackets than this cannot nest deeper than the parser copes with
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Self-contained reports carry their style sheet inline (they are saved and mailed) and no script.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# FastAPI's interactive API docs load Swagger UI from its CDN and start it with one inline
# script, allowed by its hash (computed per response).
DOCS_PATH = "/api/docs"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
STATIC_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def trusted_proxies(settings: Settings) -> list[str]:
    """The addresses/networks of ``FIMISCOPE_TRUSTED_PROXIES``, checked: a typo must not
    silently trust nobody (or everybody)."""
    out: list[str] = []
    for raw in settings.trusted_proxies.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            raise ConfigError(
                f"FIMISCOPE_TRUSTED_PROXIES: {item!r} is not an IP address or network (e.g. 10.0.0.5 or "
                "10.0.0.0/24); list the reverse proxies in front of fimiscope"
            ) from None
        out.append(item)
    return out


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _too_deep(body: bytes) -> bool:
    try:
        json.loads(body)
    except RecursionError:
        return True
    except ValueError:  # malformed JSON: the route says what is wrong with it
        return False
    return False


def _error(status: int, detail: str, path: str) -> Response:
    return problem(status, detail, instance=path)


class BodyLimits:
    """Answers absurd JSON bodies (nested too deep, larger than ``MAX_BODY``) with 400/413, so
    no route meets a ``RecursionError`` or holds gigabytes. Other bodies pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _UNSAFE or scope["path"].startswith("/taxii2/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if not _is_json(headers.get("content-type", "")):
            await self.app(scope, receive, send)
            return
        if declared.isdigit() and int(declared) > MAX_BODY:
            await _error(413, f"the body is larger than {MAX_BODY} bytes", scope["path"])(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _error(413, f"the body is larger than {MAX_BODY} bytes", scope["path"])(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body.count(b"[") + body.count(b"{") > _DEPTH_CHECK_OVER and await run_in_threadpool(_too_deep, body):
            await _error(400, "the JSON body nests arrays/objects too deeply", scope["path"])(scope, receive, send)
            return
        await self.app(scope, _replay([body], None, receive), send)


def _replay(bodies: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if pending is not None:
                return pending
            return {"type": "http.request", "body": b"".join(bodies), "more_body": False}
        return await receive()

    return replay


class SecurityHeaders:
    """Adds the security headers to every response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"
        if path == DOCS_PATH:
            await self._docs(scope, receive, send, https)
            return
        policy = REPORT_POLICY if path.startswith("/reports/") else PAGE_POLICY

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add(MutableHeaders(scope=message), policy, https)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # An unhandled error would otherwise be answered by the server's outermost layer,
            # outside this one: a bare 500 without the headers. Answer it here (a problem
            # document that says nothing of the error), then let it propagate to be logged.
            if not started:
                await _internal_error(scope, receive, send_with_headers)
            raise

    async def _docs(self, scope: Scope, receive: Receive, send: Send, https: bool) -> None:
        start: Message | None = None
        parts: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    body = b"".join(parts)
                    hashes = " ".join(
                        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
                        for m in _INLINE_SCRIPT.finditer(body)
                    )
                    _add(MutableHeaders(scope=start), DOCS_POLICY.format(hashes=hashes), https)
                    await send(start)
                    await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, collect)


async def _internal_error(scope: Scope, receive: Receive, send: Send) -> None:
    await _error(500, "internal error; the server log has the details", scope["path"])(scope, receive, send)


def _add(headers: MutableHeaders, policy: str, https: bool) -> None:
    if "content-security-policy" not in headers:
        headers["content-security-policy"] = policy
    for name, value in STATIC_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if https and "strict-transport-security" not in headers:
        headers["strict-transport-security"] = "max-age=31536000"


def limit_bodies(app: FastAPI) -> None:
    """Add the body limits; called before the login layer is added, so that they sit inside
    it and only an authenticated client's body is ever buffered. TAXII bodies are left to the
    TAXII routes, which read them only after the partner is authenticated."""
    app.add_middleware(BodyLimits)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the outer layers, after the login layer (outermost last): proxies resolve the client
    first, then every response (the login layer's 401s and redirects included) gets the headers."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    proxies = trusted_proxies(settings)
    app.add_middleware(SecurityHeaders)
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)


__all__ = ["MAX_BODY", "PAGE_POLICY", "BodyLimits", "SecurityHeaders", "install", "trusted_proxies"]
