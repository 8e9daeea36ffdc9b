"""Authentication, CSRF, roles, tokens and the login rate limit, on the real app."""

from __future__ import annotations

from tests.api.api_support import Seeded

from fimiscope.store import signals as signal_store
from fimiscope.store import users as user_store


def test_everything_needs_authentication(client_factory, seeded: Seeded) -> None:
    c = client_factory()
    for path in ("/api/signals", "/api/openapi.json", f"/reports/signals/{seeded.signal_ids[0]}.html"):
        resp = c.http.get(path)
        assert resp.status_code == 401, path
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.headers["www-authenticate"].startswith("Bearer")
    page = c.http.get("/triage?status=all", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Ftriage%3Fstatus%3Dall"
    assert c.http.get("/login").status_code == 200
    assert c.http.get("/static/app.css").status_code == 200


def test_login_sets_a_hardened_session_cookie(client_factory) -> None:
    c = client_factory()
    resp = c.login("ana")
    assert resp.status_code == 303
    cookie = next(v for k, v in resp.headers.multi_items() if k == "set-cookie" and "fimiscope_session" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here
    assert c.http.get("/api/me").json() == {"name": "ana", "role": "analyst"}


def test_wrong_password_and_login_csrf(client_factory) -> None:
    c = client_factory()
    assert c.login("ana", "wrong password").status_code == 401
    assert c.login("nobody", "wrong password").status_code == 401
    no_token = c.http.post("/login", data={"name": "ana", "password": "correct horse battery", "csrf_token": "x"})
    assert no_token.status_code == 403
    assert "fimiscope_session" not in no_token.headers.get("set-cookie", "")


def test_login_is_rate_limited_per_user_and_address(client_factory) -> None:
    c = client_factory()
    for _ in range(3):  # the app fixture allows 3 failures per window
        assert c.login("ana", "bad password").status_code == 401
    limited = c.login("ana")  # even the right password waits now
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert c.login("vic").status_code == 303  # another user from the same address is not blocked


def test_csrf_is_required_on_session_posts(client_factory, seeded: Seeded) -> None:
    c = client_factory("ana")
    body = {"ids": seeded.signal_ids[:1], "status": "confirmed"}
    assert c.http.post("/api/signals/status", json=body).status_code == 403
    assert c.http.post("/api/signals/status", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    form = c.http.post("/triage/status", data={"ids": seeded.signal_ids[0], "status": "confirmed", "csrf_token": "no"})
    assert form.status_code == 403
    ok = c.http.post("/triage/status", data={"ids": seeded.signal_ids[0], "status": "confirmed", "csrf_token": c.csrf})
    assert ok.status_code == 200 and ok.json()["changed"] == 1
    assert seeded.store.read(signal_store.get_signal, seeded.signal_ids[0]).status.value == "confirmed"
    assert c.http.post("/logout", data={"csrf_token": "no"}).status_code == 403
    assert c.http.post("/logout", data={"csrf_token": c.csrf}).status_code == 303
    assert c.http.get("/api/signals").status_code == 401  # the session is gone server-side


def test_viewer_cannot_change_status(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    resp = c.http.post(
        "/api/signals/status", json={"ids": seeded.signal_ids, "status": "dismissed"}, headers={"X-CSRF-Token": c.csrf}
    )
    assert resp.status_code == 403 and "analyst" in resp.json()["detail"]
    assert seeded.store.read(signal_store.get_signal, seeded.signal_ids[0]).status.value == "new"
    assert c.http.get("/api/signals").status_code == 200


def test_bearer_token(client_factory, seeded: Seeded) -> None:
    c = client_factory()
    _id, token = user_store.create_token(seeded.store, "ana")
    with seeded.store.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalar()
    assert stored and token not in stored  # only a hash is kept
    auth = {"Authorization": f"Bearer {token}"}
    assert c.http.get("/api/me", headers=auth).json()["name"] == "ana"
    # No CSRF token needed: a browser never sends a bearer token by itself.
    resp = c.http.post("/api/signals/status", json={"ids": seeded.signal_ids[:1], "status": "escalated"}, headers=auth)
    assert resp.status_code == 200
    assert c.http.get("/api/me", headers={"Authorization": "Bearer fimi_wrong"}).status_code == 401
    user_store.revoke_tokens(seeded.store, "ana")
    assert c.http.get("/api/me", headers=auth).status_code == 401


def test_html_pages_for_each_role(client_factory, seeded: Seeded) -> None:
    for user in ("vic", "ana", "admin"):
        c = client_factory(user)
        for path in ("/", "/triage", "/sources", "/search?q=biolabs", f"/documents/{seeded.doc_ids[0]}",
                     f"/signals/{seeded.signal_ids[0]}"):
            resp = c.http.get(path)
            assert resp.status_code == 200, (user, path)
        triage = c.http.get("/triage").text
        assert ("data-status" in c.http.get(f"/signals/{seeded.signal_ids[0]}").text) == (user != "vic")
        assert "RT biolab story" in triage
    missing = client_factory("vic").http.get("/documents/doc_nope", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "no document" in missing.text and "<html" in missing.text


def test_basic_auth_takes_an_api_token_never_a_password(client_factory, seeded: Seeded) -> None:
    import base64

    c = client_factory()
    _id, token = user_store.create_token(seeded.store, "vic")

    def basic(name: str, secret: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}

    assert c.http.get("/api/me", headers=basic("vic", token)).json()["name"] == "vic"
    assert c.http.get("/api/me", headers=basic("vic", "correct horse battery")).status_code == 401
    assert c.http.get("/api/me", headers=basic("ana", token)).status_code == 401  # someone else's token
    assert c.http.get("/api/me", headers={"Authorization": "Basic !!!"}).status_code == 401
