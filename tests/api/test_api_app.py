"""App assembly: mount discovery, navigation registry, empty states, PDF reports."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import FastAPI
from tests.api.api_support import PASSWORD, ASGIClient, Seeded

from fimiscope.api import rest
from fimiscope.api.app import add_nav, create_app, discover_mounts
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.store import users as user_store
from fimiscope.web import pages, reports


def test_mounts_are_discovered_and_nav_is_data_driven(app: FastAPI) -> None:
    found = discover_mounts()
    assert {rest.mount, pages.mount, reports.mount} <= set(found)
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
