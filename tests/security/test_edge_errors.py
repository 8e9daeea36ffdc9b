"""An unhandled error inside the app is answered by the edge layer itself: a 500 problem
document with the security headers, not the server's bare page, and the error still reaches
the log."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from fimiscope.api.edge import PAGE_POLICY, SecurityHeaders


def test_an_unhandled_error_gets_a_500_problem_with_the_security_headers() -> None:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail that must not reach the client")

    app.add_middleware(SecurityHeaders)
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/boom")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.headers["content-security-policy"] == PAGE_POLICY
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "secret detail" not in resp.text
    assert resp.json()["status"] == 500


def test_an_error_after_the_answer_started_is_left_to_the_server() -> None:
    app = FastAPI()

    async def stream(scope, receive, send) -> None:  # an ASGI app that fails mid-body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("late")

    app.mount("/late", stream)
    app.add_middleware(SecurityHeaders)
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/late/")
    assert resp.status_code == 200  # the start was sent; nothing is sent twice
