"""Roles and login on every route, not a sample.

The routes are read from the app itself when the tests are collected: the write operations of
its OpenAPI document, and the web routes (forms and their POST targets) that the document does
not list. A viewer must be refused on each, with a session and with a bearer token, and leave
the store as it was; nobody unauthenticated reaches any of them. A new route is covered the day
it is added.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from tests.api.api_support import PASSWORD, ASGIClient, seed

from fimiscope.app import create_app
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
OWN_LOGIN = {"/login", "/logout"}  # the login layer itself (tested below)
TAXII = "/taxii2"  # partners, not users: tests/share/test_partner_visibility.py


def _role(route: APIRoute) -> str | None:
    """The role a route's ``require(role)`` dependency asks for (None: no role check)."""
    for dep in route.dependant.dependencies:
        call = dep.call
        if call is not None and getattr(call, "__qualname__", "") == "require.<locals>.check":
            cells = dict(zip(call.__code__.co_freevars, call.__closure__ or (), strict=True))
            return str(cells["role"].cell_contents)
    return None


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, routers included with ``include_router`` too (FastAPI wraps those)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            out += _routes(route.original_router.routes)
    return out


def _inventory() -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str, str | None]]]:
    """(API write operations from OpenAPI, web write routes, every route with its role)."""
    tmp = Path(tempfile.mkdtemp(prefix="fimiscope-routes-"))
    store = Store.open(None, tmp)
    try:
        app = create_app(Settings(data_dir=tmp), store=store, worker=False)
        api = sorted(
            (method.upper(), path)
            for path, ops in app.openapi()["paths"].items()
            for method in ops
            if method.upper() in UNSAFE
        )
        web: list[tuple[str, str]] = []
        every: list[tuple[str, str, str | None]] = []
        for route in _routes(app.routes):
            if route.path.startswith(TAXII):
                continue
            for method in sorted(route.methods):
                every.append((method, route.path, _role(route)))
                if method in UNSAFE and not route.include_in_schema and route.path not in OWN_LOGIN:
                    web.append((method, route.path))
        return api, sorted(web), every
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


# POSTs that compute an answer and store nothing: any role may call them; a viewer's call must
# still leave the store as it was (test_read_only_posts_change_nothing). Each says why.
READ_ONLY_POSTS = {
    ("POST", "/api/persuasion/classify"): "classifies the text it is sent, stores nothing",
}
_API, WEB_WRITES, EVERY_ROUTE = _inventory()
API_WRITES = [r for r in _API if r not in READ_ONLY_POSTS]
# Pages that exist to change something (a form): GETs that need more than the viewer role.
FORMS = sorted((m, p) for m, p, role in EVERY_ROUTE if m == "GET" and role not in (None, "viewer"))


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-not-there", path)


def _snapshot(store: Store) -> str:
    """A digest of every table's rows, login and token bookkeeping aside."""
    h = hashlib.sha256()
    with store.connect() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        for name in sorted(meta.tables):
            if any(word in name for word in ("session", "token", "user", "alembic")):
                continue
            rows = conn.execute(sa.select(meta.tables[name])).fetchall()
            h.update(name.encode() + repr(sorted(map(repr, rows))).encode())
    return h.hexdigest()


def _login_token(c: ASGIClient) -> str:
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return token.group(1)


class ViewerSession:
    """A browser logged in as the viewer: its cookie and the page's CSRF token."""

    def __init__(self, app: Any) -> None:
        self.http = ASGIClient(app)
        token = _login_token(self.http)
        resp = self.http.post("/login", data={"name": "vic", "password": PASSWORD, "csrf_token": token, "next": "/"})
        assert resp.status_code == 303
        found = re.search(r'data-csrf="([^"]*)"', self.http.get("/").text)
        assert found
        self.csrf = found.group(1)


class Site:
    """One seeded app for the whole module: nobody here may change it, so it is shared."""

    def __init__(self, root: Path) -> None:
        self.store = Store.open(None, root)
        for name, role in (("ana", "analyst"), ("vic", "viewer")):
            user_store.add_user(self.store, name, PASSWORD, role)
        seed(self.store)
        self.app = create_app(Settings(data_dir=root), store=self.store, worker=False)
        self.vic = ViewerSession(self.app)
        _id, self.vic_token = user_store.create_token(self.store, "vic")
        self.anonymous = ASGIClient(self.app)
        self.before = _snapshot(self.store)

    def close(self) -> None:
        self.vic.http.close()
        self.anonymous.close()
        self.store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("roles"))
    yield s
    s.close()


def test_the_inventory_is_not_empty() -> None:
    assert len(API_WRITES) >= 10 and len(WEB_WRITES) >= 6 and FORMS
    assert ("POST", "/api/incidents") in API_WRITES and ("POST", "/incidents") in WEB_WRITES
    assert ("GET", "/incidents/new") in FORMS


@pytest.mark.parametrize(
    ("method", "path"), API_WRITES + WEB_WRITES, ids=[f"{m} {p}" for m, p in API_WRITES + WEB_WRITES]
)
def test_every_write_route_needs_at_least_an_analyst(method: str, path: str) -> None:
    route = next(r for r in EVERY_ROUTE if r[:2] == (method, path))
    assert route[2] in ("analyst", "admin"), f"{method} {path} checks no role above viewer"


@pytest.mark.parametrize(
    ("method", "path"), API_WRITES + WEB_WRITES + FORMS, ids=[f"{m} {p}" for m, p in API_WRITES + WEB_WRITES + FORMS]
)
def test_a_viewer_is_refused(site: Site, method: str, path: str) -> None:
    url = _fill(path)
    is_form = not path.startswith("/api/")
    kw: dict[str, Any] = (
        {"data": {"csrf_token": site.vic.csrf, "title": "viewer wrote this", "status": "dismissed", "ids": "x"}}
        if is_form else {"json": {"title": "viewer wrote this", "status": "dismissed", "ids": ["x"]}}
    )
    session = site.vic.http.request(method, url, headers={"X-CSRF-Token": site.vic.csrf}, **kw)
    assert session.status_code == 403, (method, path, session.status_code, session.text[:300])
    bearer = site.anonymous.request(method, url, headers={"Authorization": f"Bearer {site.vic_token}"}, **kw)
    assert bearer.status_code == 403, (method, path, bearer.status_code, bearer.text[:300])
    assert "analyst" in bearer.text or "admin" in bearer.text  # says what it needs
    assert _snapshot(site.store) == site.before


def test_read_only_posts_change_nothing(site: Site) -> None:
    for method, path in READ_ONLY_POSTS:
        assert (method, path) in _API, f"{method} {path} is gone: drop it from READ_ONLY_POSTS"
        resp = site.vic.http.request(method, path, headers={"X-CSRF-Token": site.vic.csrf},
                                     json={"text": "They lie to you. Wake up!", "language": "en"})
        assert resp.status_code == 200, resp.text[:300]
    assert _snapshot(site.store) == site.before


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in EVERY_ROUTE if p != "/login"],
    ids=[f"{m} {p}" for m, p, _ in EVERY_ROUTE if p != "/login"],
)
def test_nobody_unauthenticated_gets_anywhere(site: Site, method: str, path: str) -> None:
    url = _fill(path)
    c = site.anonymous
    api = c.request(method, url, headers={"Accept": "application/json"})
    assert api.status_code == 401, (method, path, api.status_code)
    forged = c.request(method, url, headers={"Authorization": "Bearer fimi_forged", "Accept": "application/json"})
    assert forged.status_code == 401, (method, path)
    page = c.request(method, url, headers={"Accept": "text/html"})
    if method == "GET" and not path.startswith("/api/"):
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next="), (method, path)
    else:
        assert page.status_code == 401, (method, path)
    assert "set-cookie" not in page.headers
    assert _snapshot(site.store) == site.before


# -- the login form -------------------------------------------------------------------------------


def test_login_refuses_a_missing_csrf_cookie(app) -> None:  # type: ignore[no-untyped-def]
    first, second = ASGIClient(app), ASGIClient(app)
    try:
        token = _login_token(first)  # the form, and its cookie, went to another browser
        for data in (
            {"name": "ana", "password": PASSWORD, "csrf_token": token},
            {"name": "ana", "password": PASSWORD, "csrf_token": ""},
            {"name": "ana", "password": PASSWORD},
        ):
            resp = second.post("/login", data=data)
            assert resp.status_code == 403, data
            assert "fimiscope_session" not in resp.headers.get("set-cookie", "")
        # the cookie without the matching field fails too; with both, the same browser logs in
        assert first.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": ""}).status_code == 403
        assert first.post("/login", data={"name": "ana", "password": PASSWORD,
                                          "csrf_token": token + "x"}).status_code == 403
        token = _login_token(first)  # each refusal hands out a new form and cookie
        ok = first.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 303 and "fimiscope_session" in ok.headers.get("set-cookie", "")
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("nxt", "lands"),
    [
        ("//evil.example", "/"),
        ("//evil.example/path", "/"),
        ("https://evil.example/", "/"),
        ("http:evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("evil.example", "/"),
        ("", "/"),
        ("/triage?status=all", "/triage?status=all"),
        ("/incidents/inc_1", "/incidents/inc_1"),
    ],
)
def test_login_never_redirects_off_site(app, nxt: str, lands: str) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app)
    try:
        form = c.get("/login", params={"next": nxt})
        shown = re.search(r'name="next" value="([^"]*)"', form.text)
        assert shown and shown.group(1).replace("&amp;", "&") == lands
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        resp = c.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token.group(1), "next": nxt})
        assert resp.status_code == 303 and resp.headers["location"] == lands
    finally:
        c.close()
