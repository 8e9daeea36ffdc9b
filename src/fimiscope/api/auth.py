"""Who is asking: browser sessions (cookie + CSRF token), bearer API tokens, login, roles.

Every path needs an authenticated user except the login page, static assets and the paths
that authenticate their own callers (TAXII under ``/taxii2/``: partners, not users; the
composition root names them). A browser
without a session is sent to ``/login``; an API client gets 401 problem+json. Requests that
change something over a cookie session must carry the session's CSRF token (``X-CSRF-Token``
header, which htmx sends, or a ``csrf_token`` form field); bearer-token requests need none,
since a browser never attaches a bearer token on its own.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fimiscope.api.problems import problem
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store
from fimiscope.store.users import User

SESSION_COOKIE = "fimiscope_session"
LOGIN_CSRF_COOKIE = "fimiscope_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
PUBLIC_PATHS = {"/login", "/favicon.ico"}
PUBLIC_PREFIXES = ("/static/",)
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_MAX_FORM = 2 * 1024 * 1024


class LoginLimiter:
    """At most ``attempts`` failed logins per (user name, client address) in ``window`` seconds."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, name: str, ip: str) -> int:
        """Seconds to wait before another try is allowed; 0 when allowed now."""
        now = time.monotonic()
        with self._lock:
            q = self._recent((name.lower(), ip), now)
            if len(q) < self.attempts:
                return 0
            return max(1, int(q[0] + self.window - now) + 1)

    def failed(self, name: str, ip: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent((name.lower(), ip), now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of names
                self._failures.clear()

    def succeeded(self, name: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((name.lower(), ip), None)


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def cookie_secure(request: Request) -> bool:
    mode = request.app.state.settings.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


class AuthMiddleware:
    """Pure ASGI so that reading a form for its CSRF field can replay the body downstream."""

    def __init__(self, app: ASGIApp, store: Store, own_auth: tuple[str, ...] = ()) -> None:
        self.app = app
        self.store = store
        # Prefixes whose routes check their own credentials (partner tokens): a web session or a
        # user's API token means nothing there, and a partner token means nothing here.
        self.own_auth = own_auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or _under(path, self.own_auth):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state = scope.setdefault("state", {})
        authz = request.headers.get("authorization", "")
        creds = _token_from(authz)
        if creds is not None:
            user = await run_in_threadpool(user_store.user_for_token, self.store, creds[1])
            if user is not None and creds[0] is not None and creds[0] != user.name:
                user = None
            if user is None:
                await self._deny(scope, receive, send, "the bearer token is not valid (create one with "
                                 "`fimiscope users token NAME`)")
                return
            state["user"], state["session"], state["via"] = user, None, "token"
            await self.app(scope, receive, send)
            return
        secret = request.cookies.get(SESSION_COOKIE)
        session = await run_in_threadpool(user_store.session_for, self.store, secret) if secret else None
        if session is None:
            await self._deny(scope, receive, send, "log in first, or send a bearer token")
            return
        state["user"], state["session"], state["via"] = session.user, session, "session"
        if scope["method"] in _UNSAFE:
            token = request.headers.get(CSRF_HEADER)
            if token is None:
                body, receive = await _buffer(receive)
                ctype = request.headers.get("content-type", "")
                if ctype.startswith("application/x-www-form-urlencoded") and body is not None:
                    values = parse_qs(body.decode("latin-1")).get(CSRF_FIELD)
                    token = values[0] if values else None
            if not token or not secrets.compare_digest(token, session.csrf):
                resp = _problem(403, "missing or wrong CSRF token: reload the page and try again", path)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _deny(self, scope: Scope, receive: Receive, send: Send, detail: str) -> None:
        path: str = scope["path"]
        request = Request(scope)
        wants_page = not path.startswith("/api/") and "text/html" in request.headers.get("accept", "")
        if wants_page and scope["method"] == "GET":
            target = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
            resp: Response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        elif "hx-request" in request.headers:
            resp = Response(status_code=401, headers={"HX-Redirect": "/login"})
        else:
            resp = _problem(401, detail, path, headers={"WWW-Authenticate": 'Bearer realm="fimiscope"'})
            resp.headers.append("WWW-Authenticate", 'Basic realm="fimiscope"')
        await resp(scope, receive, send)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _token_from(authz: str) -> tuple[str | None, str] | None:
    """(user name or None, token) from ``Bearer TOKEN`` or ``Basic base64(NAME:TOKEN)``.

    Basic is accepted for clients that only speak it (many TAXII clients); its password must
    be an API token, never the account password, so it cannot be used to guess passwords.
    """
    scheme, _, value = authz.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return None, value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            name, _, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, ""
        return name, secret
    return None


def _problem(status: int, detail: str, path: str, headers: dict[str, str] | None = None) -> Response:
    return problem(status, detail, instance=path, headers=headers)


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """Read the request body (up to a cap) and return a ``receive`` that replays it."""
    chunks: list[bytes] = []
    size = 0
    too_big = False
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        too_big = too_big or size > _MAX_FORM
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return (None if too_big else body), replay


# -- dependencies ------------------------------------------------------------------------------


def current_user(request: Request) -> User:
    user: User | None = getattr(request.state, "user", None)
    if user is None:  # only reachable if a route was added under a public path
        raise HTTPException(401, "log in first, or send a bearer token")
    return user


def require(role: str) -> Any:
    """Dependency: the current user, who must have at least ``role``."""

    def check(user: User = Depends(current_user)) -> User:
        if not user.may(role):
            raise HTTPException(403, f"this needs the {role} role; you are {user.role}")
        return user

    return Depends(check)


def csrf_token(request: Request) -> str:
    session = getattr(request.state, "session", None)
    return session.csrf if session is not None else ""


# -- login / logout ----------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def install(app: FastAPI, store: Store, settings: Settings, own_auth: tuple[str, ...] = ()) -> None:
    """The login layer. ``own_auth``: path prefixes (e.g. ``/taxii2``) whose routes authenticate
    their callers themselves; the layer lets them through untouched."""
    limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    app.state.login_limiter = limiter
    app.add_middleware(AuthMiddleware, store=store, own_auth=tuple(p.rstrip("/") for p in own_auth))
    lifetime = timedelta(hours=settings.session_hours)

    def login_page(request: Request, next_: str, error: str | None = None, status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        resp: Response = request.app.state.templates.TemplateResponse(
            request,
            "login.html",
            {"login_csrf": token, "next": _safe_next(next_), "error": error},
            status_code=status,
        )
        resp.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/login"
        )
        return resp

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        return login_page(request, next)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        name: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            return login_page(request, next, "Your login form expired. Please try again.", 403)
        ip = _client_ip(request.scope)
        wait = limiter.retry_after(name, ip)
        if wait:
            resp = login_page(request, next, f"Too many failed attempts. Try again in {wait} seconds.", 429)
            resp.headers["Retry-After"] = str(wait)
            return resp
        user = user_store.authenticate(store, name, password)
        if user is None:
            limiter.failed(name, ip)
            return login_page(request, next, "Wrong user name or password.", 401)
        limiter.succeeded(name, ip)
        secret, _session = user_store.open_session(store, user, lifetime)
        resp = RedirectResponse(_safe_next(next), status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
            path="/",
        )
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return resp

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            user_store.close_session(store, secret)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.get("/api/me", tags=["auth"], summary="The authenticated user")
    def me(user: User = Depends(current_user)) -> dict[str, Any]:
        return {"name": user.name, "role": user.role}


CurrentUser = Callable[..., User]
