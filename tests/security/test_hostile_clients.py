"""A hostile client against `fimiscope serve` (a subprocess on loopback): security headers on
every answer, cookie flags, forwarded headers believed only from listed proxies, and absurd
requests answered 4xx, never 500."""

from __future__ import annotations

import base64

import httpx
import pytest
from tests.security.support import Demo, login, run_cli, served

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _check_headers(resp: httpx.Response) -> None:
    csp = resp.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (resp.request.url, resp.status_code, csp)
    assert "unsafe-eval" not in csp
    for name, value in EXPECTED.items():
        assert resp.headers.get(name) == value, (resp.request.url, name, resp.headers.get(name))


def test_every_kind_of_answer_carries_the_security_headers(server: str, demo: Demo) -> None:
    with httpx.Client(base_url=server) as anon:
        answers = [
            anon.get("/login"),
            anon.get("/", headers={"accept": "text/html"}),  # redirect to the login page
            anon.get("/api/signals"),  # 401 problem+json
            anon.get("/static/app.css"),
            anon.get("/taxii2/", headers={"accept": "application/taxii+json;version=2.1"}),
        ]
    with httpx.Client(base_url=server, headers={"authorization": f"Bearer {demo.token}"}) as api:
        answers += [api.get("/api/signals"), api.get("/api/signals/nope"), api.get("/api/openapi.json")]
        assert [r.status_code for r in answers[-3:]] == [200, 404, 200]
    with httpx.Client(base_url=server) as browser:
        assert login(browser).status_code == 303
        answers += [browser.get(p) for p in ("/", "/triage", "/incidents", "/no-such-page")]
    for resp in answers:
        _check_headers(resp)
    page_csp = answers[-2].headers["content-security-policy"]
    assert "script-src 'self';" in page_csp and "unsafe-inline" not in page_csp.split("style-src-attr")[0]


def test_session_cookie_flags_and_secure_only_over_https_from_a_trusted_proxy(demo: Demo) -> None:
    with served(demo.data, {"FIMISCOPE_TRUSTED_PROXIES": "127.0.0.1"}) as url:
        with httpx.Client(base_url=url) as plain:
            cookie = login(plain).headers["set-cookie"]
        assert "fimiscope_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never come back
        with httpx.Client(base_url=url) as proxied:
            resp = login(proxied, headers={"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7"})
            assert "Secure" in resp.headers["set-cookie"]
            assert resp.headers.get("strict-transport-security", "").startswith("max-age=")
    # The same header from a client that is not a listed proxy changes nothing.
    with served(demo.data) as url, httpx.Client(base_url=url) as liar:
        resp = login(liar, headers={"x-forwarded-proto": "https"})
        assert resp.status_code == 303 and "Secure" not in resp.headers["set-cookie"]
        assert "strict-transport-security" not in resp.headers


def test_a_local_client_cannot_reset_the_login_limiter_with_x_forwarded_for(demo: Demo) -> None:
    env = {"FIMISCOPE_LOGIN_ATTEMPTS": "3"}
    with served(demo.data, env) as url, httpx.Client(base_url=url) as client:
        for _ in range(3):
            assert login(client, password="wrong").status_code == 401
        assert login(client, password="wrong").status_code == 429
        for forged in ("203.0.113.9", "10.0.0.1, 203.0.113.10"):
            resp = login(client, password="wrong", headers={"x-forwarded-for": forged})
            assert resp.status_code == 429, f"X-Forwarded-For {forged} reset the limiter"
    # Behind a listed proxy, the forwarded address is the client: each gets its own count.
    with served(demo.data, {**env, "FIMISCOPE_TRUSTED_PROXIES": "127.0.0.0/8"}) as url, \
            httpx.Client(base_url=url) as proxy:
        for _ in range(3):
            assert login(proxy, password="wrong", headers={"x-forwarded-for": "203.0.113.9"}).status_code == 401
        assert login(proxy, password="wrong", headers={"x-forwarded-for": "203.0.113.9"}).status_code == 429
        assert login(proxy, password="wrong", headers={"x-forwarded-for": "203.0.113.77"}).status_code == 401


def test_a_trusted_proxies_typo_stops_the_server_with_one_line(demo: Demo) -> None:
    done = run_cli(demo.data, "serve", "--no-worker", "--port", "9", env={"FIMISCOPE_TRUSTED_PROXIES": "10.0.0.300"},
                   timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "error:" in done.stderr and "FIMISCOPE_TRUSTED_PROXIES" in done.stderr


def _deep(levels: int) -> bytes:
    return b'{"title": "x", "deep": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_a_deeply_nested_json_api_body_is_400(server: str, demo: Demo, levels: int) -> None:
    headers = {"authorization": f"Bearer {demo.token}", "content-type": "application/json"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as api:
        for path in ("/api/incidents", "/api/narratives", "/api/signals/status"):
            resp = api.post(path, content=_deep(levels))
            assert resp.status_code == 400, (path, resp.status_code, resp.text[:300])
            assert resp.headers["content-type"].startswith("application/problem+json")
        # A body of normal depth still reaches the route (and its own validation).
        assert api.post("/api/incidents", content=b'{"nonsense": true}').status_code == 422


TAXII = {"accept": "application/taxii+json;version=2.1"}


def _taxii_client(server: str, demo: Demo) -> httpx.Client:
    basic = base64.b64encode(f"beta:{demo.partner_token}".encode()).decode()
    return httpx.Client(base_url=server, headers={**TAXII, "authorization": f"Basic {basic}"}, timeout=60)


def _collection(client: httpx.Client) -> str:
    discovery = client.get("/taxii2/")
    if discovery.status_code == 401:
        pytest.fail("TAXII under `fimiscope serve` refused a valid partner token (issue 11, item 1)")
    root = discovery.json()["api_roots"][0].rstrip("/").rsplit("/", 1)[-1]
    return f"/taxii2/{root}/collections/fimi-green"


@pytest.mark.parametrize("token", ["9" * 10_000, "9" * 4_000, "99999999999999999999", "-1", "1e9", "١٢"],
                         ids=["10k-digits", "4k-digits", "past-int64", "negative", "exponent", "arabic-digits"])
def test_a_huge_or_strange_taxii_next_is_400(server: str, demo: Demo, token: str) -> None:
    with _taxii_client(server, demo) as client:
        col = _collection(client)
        for what in ("objects/", "manifest/"):
            resp = client.get(f"{col}/{what}", params={"next": token})
            assert resp.status_code == 400, (what, resp.status_code, resp.text[:300])


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_a_deeply_nested_taxii_envelope_is_400(server: str, demo: Demo, levels: int) -> None:
    with _taxii_client(server, demo) as client:
        col = _collection(client)
        body = b'{"objects": [' + b"[" * levels + b"]" * levels + b"]}"
        resp = client.post(f"{col}/objects/", content=body,
                           headers={"content-type": "application/taxii+json;version=2.1"})
        assert resp.status_code == 400, (resp.status_code, resp.text[:300])
