"""App assembly: the mount list, navigation registry, empty states, PDF reports."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import FastAPI
from tests.api.api_support import PASSWORD, ASGIClient, Seeded

from fimiscope.api import rest
from fimiscope.app import MOUNTS, create_app, mounts
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store
from fimiscope.web import pages, reports
from fimiscope.web.nav import add_nav


def test_every_area_is_mounted_and_nav_is_data_driven(app: FastAPI) -> None:
    found = mounts()
    assert {rest.mount, pages.mount, reports.mount} <= set(found)
    # the list is explicit: every module of the HTTP face that defines mount() is in it
    import importlib
    import pkgutil

    import fimiscope.api
    import fimiscope.web

    defined = {
        f"{pkg.__name__}.{info.name}"
        for pkg in (fimiscope.api, fimiscope.web)
        for info in pkgutil.iter_modules(pkg.__path__)
        if callable(getattr(importlib.import_module(f"{pkg.__name__}.{info.name}"), "mount", None))
    }
    assert defined == set(MOUNTS)
    labels = [n.label for n in app.state.nav]
    # the areas' own entries (clusters, claims, …) sit between the built-in ones by their order
    assert [x for x in labels if x in {"Overview", "Triage", "Search", "Sources"}] == [
        "Overview", "Triage", "Search", "Sources"]
    assert labels.index("Triage") < labels.index("Clusters") < labels.index("Claims") < labels.index("Incidents") < (
        labels.index("Search"))
    add_nav(app, "Watchlist", "/watchlist", order=85)
    add_nav(app, "Watchlist", "/watchlist", order=85)  # registering twice keeps one entry
    after = [n.label for n in app.state.nav]
    assert after.count("Watchlist") == 1 and after.index("Search") < after.index("Watchlist") < after.index("Sources")


def test_a_new_user_sees_what_to_do_next(sqlite_store: Store, tmp_path: Path) -> None:
    user_store.add_user(sqlite_store, "new", PASSWORD, "viewer")
    app = create_app(Settings(data_dir=tmp_path), store=sqlite_store, worker=False)
    c = ASGIClient(app, follow_redirects=True)
    form = c.get("/login").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    c.post("/login", data={"name": "new", "password": PASSWORD, "csrf_token": token})
    assert "fimiscope demo" in c.get("/").text
    assert "No signals yet" in c.get("/triage").text
    assert "No sources yet" in c.get("/sources").text
    assert "No documents yet" in c.get("/search").text
    c.close()


def test_pdf_report_or_a_clear_refusal(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    resp = c.http.get(f"/reports/signals/{seeded.signal_ids[0]}.pdf")
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    else:
        assert resp.status_code == 501 and "Chromium" in resp.json()["detail"]


def test_each_error_class_answers_with_its_own_status(sqlite_store: Store, tmp_path: Path) -> None:
    """One translation point: the class carries its status; anything else is a bug that
    answers 500 without showing its message (no ValueError -> 422 any more)."""
    import asyncio

    import httpx

    from fimiscope.core.errors import ConfigError, InvalidInput, NotFound, Refused, Unavailable

    app = create_app(Settings(data_dir=tmp_path), store=sqlite_store, worker=False)
    raised = {"invalid": InvalidInput("bad date"), "missing": NotFound("no such thing"), "refused": Refused("no"),
              "config": ConfigError("FIMISCOPE_X is wrong"), "unavailable": Unavailable("the disk is full"),
              "bug": ValueError("secret internals")}

    @app.get("/api/raise/{what}")
    def boom(what: str) -> None:
        raise raised[what]

    user_store.add_user(sqlite_store, "ana", PASSWORD, "analyst")
    _id, token = user_store.create_token(sqlite_store, "ana")
    async def ask() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # the bug must reach the app's handler
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            auth = {"Authorization": f"Bearer {token}"}
            return {what: await client.get(f"/api/raise/{what}", headers=auth) for what in raised}

    got = asyncio.run(ask())
    statuses = {what: r.status_code for what, r in got.items()}
    assert statuses == {"invalid": 422, "missing": 404, "refused": 403, "config": 500, "unavailable": 503, "bug": 500}
    for what, resp in got.items():
        assert resp.headers["content-type"] == "application/problem+json"
        assert (str(raised[what]) in resp.json()["detail"]) == (what != "bug")
