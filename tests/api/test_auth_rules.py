"""The login layer's rules one by one (api/auth.py): credentials parsing, the safe ``next``, the
login rate limit's window, the cookie's Secure flag and the session cookie's life. Fast, so that
mutation testing can run them on every mutant; tests/api/test_api_auth.py and
tests/api/test_api_roles.py drive the same rules through the served app."""

from __future__ import annotations

import base64
import re
import time
from collections import deque
from pathlib import Path

import pytest
from tests.api.api_support import PASSWORD, ASGIClient

from fimiscope.api import auth
from fimiscope.api.auth import LoginLimiter, _safe_next, _token_from
from fimiscope.app import create_app
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("Bearer abc", (None, "abc")),
        ("bearer  abc ", (None, "abc")),
        ("BEARER abc", (None, "abc")),
        ("Bearer ", None),
        ("Bearer", None),
        ("", None),
        ("Token abc", None),
        (f"Basic {_b64('ana:tok:en')}", ("ana", "tok:en")),
        (f"basic {_b64('ana:')}", ("ana", "")),
        (f"Basic {_b64('nocolon')}", ("nocolon", "")),
        ("Basic !!!", (None, "")),
        ("Basic " + _b64(b"\xff:x"), (None, "")),
        ("Basic ", None),
    ],
)
def test_credentials_parsing(header: str, parsed: tuple[str | None, str] | None) -> None:
    assert _token_from(header) == parsed


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        (None, "/"), ("", "/"), ("/", "/"), ("/triage?status=all", "/triage?status=all"),
        ("//evil.example", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/"), ("evil", "/"),
        ("/ok\\no", "/"), ("/a//b", "/a//b"),
    ],
)
def test_safe_next(value: str | None, safe: str) -> None:
    assert _safe_next(value) == safe


def test_login_limiter_window_and_keys() -> None:
    lim = LoginLimiter(attempts=2, window=0.3)
    assert lim.retry_after("Ana", "1.1.1.1") == 0
    lim.failed("Ana", "1.1.1.1")
    assert lim.retry_after("ana", "1.1.1.1") == 0  # one failure of two allowed
    lim.failed("ANA", "1.1.1.1")  # names are case-blind
    wait = lim.retry_after("ana", "1.1.1.1")
    assert 1 <= wait <= 2
    assert lim.retry_after("ana", "2.2.2.2") == 0 and lim.retry_after("bob", "1.1.1.1") == 0
    time.sleep(0.35)
    assert lim.retry_after("ana", "1.1.1.1") == 0  # the window has passed
    lim.failed("ana", "1.1.1.1")
    lim.failed("ana", "1.1.1.1")
    assert lim.retry_after("ana", "1.1.1.1") >= 1
    lim.succeeded("ANA", "1.1.1.1")
    assert lim.retry_after("ana", "1.1.1.1") == 0


def test_long_window_retry_after_counts_down_in_seconds() -> None:
    lim = LoginLimiter(attempts=1, window=100)
    lim.failed("ana", "ip")
    assert 99 <= lim.retry_after("ana", "ip") <= 101


def test_limiter_memory_is_bounded() -> None:
    lim = LoginLimiter(attempts=1, window=100)
    lim._failures.update({(f"n{i}", "ip"): deque() for i in range(100_001)})
    lim.failed("last", "ip")
    assert len(lim._failures) == 0


@pytest.fixture
def app_on(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store.open(None, tmp_path / "data")
    user_store.add_user(store, "ana", PASSWORD, "analyst")

    def make(**settings: object):  # type: ignore[no-untyped-def]
        return create_app(Settings(data_dir=tmp_path / "data", **settings), store=store, worker=False)  # type: ignore[arg-type]

    yield make
    store.close()


def _login(c: ASGIClient, base: str = "") -> tuple[str, str]:
    form = c.get(base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    login_cookie = next(v for k, v in form.headers.multi_items() if k == "set-cookie")
    resp = c.post(base + "/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 303
    session_cookie = next(v for k, v in resp.headers.multi_items() if k == "set-cookie" and "fimiscope_session=" in v
                          and "Max-Age=0" not in v)
    return login_cookie, session_cookie


def test_cookies_over_plain_http(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on(cookie_secure="auto", session_hours=2.0))
    try:
        login_cookie, session_cookie = _login(c)
        assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie and "Path=/login" in login_cookie
        assert "Secure" not in login_cookie and "Secure" not in session_cookie
        assert "Max-Age=7200" in session_cookie and "Path=/" in session_cookie and "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
    finally:
        c.close()


def test_secure_cookies(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on(cookie_secure="auto"))
    try:
        login_cookie, session_cookie = _login(c, "https://testserver")  # auto: Secure over https
        assert "Secure" in login_cookie and "Secure" in session_cookie
    finally:
        c.close()
    c = ASGIClient(app_on(cookie_secure="always"))
    try:  # always: Secure even over plain http (behind a proxy that ends TLS)
        form = c.get("/login")
        assert all("Secure" in v for k, v in form.headers.multi_items() if k == "set-cookie")
    finally:
        c.close()


def test_never_secure_cookies(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on(cookie_secure="never"))
    try:
        login_cookie, session_cookie = _login(c, "https://testserver")
        assert "Secure" not in login_cookie and "Secure" not in session_cookie
    finally:
        c.close()


def test_logout_ends_the_session_and_the_cookie(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on())
    try:
        _login(c)
        page = c.get("/")
        csrf = re.search(r'data-csrf="([^"]*)"', page.text)
        assert csrf
        out = c.post("/logout", data={"csrf_token": csrf.group(1)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert any("fimiscope_session=" in v and ("Max-Age=0" in v or "expires" in v.lower())
                   for k, v in out.headers.multi_items() if k == "set-cookie")
        assert c.get("/api/me").status_code == 401
    finally:
        c.close()


def test_public_paths_are_only_login_and_static() -> None:
    assert {"/login", "/favicon.ico"} == auth.PUBLIC_PATHS
    assert auth.PUBLIC_PREFIXES == ("/static/",)
    assert {"POST", "PUT", "PATCH", "DELETE"} == auth._UNSAFE


def test_client_address_for_the_rate_limit() -> None:
    assert auth._client_ip({"type": "http", "client": ("203.0.113.7", 51234)}) == "203.0.113.7"
    assert auth._client_ip({"type": "http", "client": None}) == "unknown"
    assert auth._client_ip({"type": "http"}) == "unknown"


def test_refusals_say_how_to_get_in(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on())
    try:
        api = c.get("/api/signals")
        assert api.status_code == 401 and "log in first" in api.json()["detail"]
        assert api.headers.get_list("www-authenticate") == ['Bearer realm="fimiscope"', 'Basic realm="fimiscope"']
        hx = c.post("/triage/status", headers={"HX-Request": "true"})
        assert hx.status_code == 401 and hx.headers["HX-Redirect"] == "/login"
    finally:
        c.close()


def test_an_oversized_form_is_not_read_for_its_csrf_field(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on())
    try:
        _login(c)
        csrf = re.search(r'data-csrf="([^"]*)"', c.get("/").text)
        assert csrf
        field = f"csrf_token={csrf.group(1)}&status=confirmed&ids=x&pad=".encode()

        async def chunks():  # type: ignore[no-untyped-def]
            yield field
            for _ in range(40):  # 40 x 64 KiB: over the 2 MiB cap in total, each chunk far below it
                yield b"a" * 65536

        resp = c.post("/triage/status", content=chunks(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 403
        small = c.post("/triage/status", content=field + b"a",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert small.status_code != 403
    finally:
        c.close()


def test_an_api_path_answers_401_even_to_a_browser(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on())
    try:  # a browser asking for /api/ gets the problem, not the login page: scripts read the status
        api = c.get("/api/signals?status=all", headers={"accept": "text/html"})
        assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"
        page = c.get("/triage", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Ftriage"
    finally:
        c.close()


def test_current_user_refuses_a_request_nobody_authenticated() -> None:
    # Only reachable if a route were added under a public path; the guard must still say 401.
    from fastapi import HTTPException
    from starlette.requests import Request

    request = Request({"type": "http", "method": "GET", "path": "/login", "headers": [], "query_string": b""})
    with pytest.raises(HTTPException) as refused:
        auth.current_user(request)
    assert refused.value.status_code == 401 and refused.value.detail == "log in first, or send a bearer token"


def test_a_session_post_without_a_body_type_is_refused_for_csrf(app_on) -> None:  # type: ignore[no-untyped-def]
    c = ASGIClient(app_on())
    try:
        _login(c)
        bare = c.post("/triage/status", content=b"")  # no Content-Type, no CSRF header
        assert bare.status_code == 403 and "CSRF" in bare.json()["detail"]
    finally:
        c.close()
