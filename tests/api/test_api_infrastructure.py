"""The infrastructure REST API and pages over the real app with real login (both backends)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.detect import infra_support as web

from fimiscope import pipeline


def _detect(store):
    web.load(store)
    pipeline.run(store, only=["extract.fingerprints", "detect.infrastructure"])


def test_groups_group_site_and_gexf(seeded, client_factory):
    _detect(seeded.store)
    c = client_factory("vic")
    page = c.http.get("/api/infrastructure/groups").json()
    assert page["total"] == 1 and set(page) == {"items", "total", "limit", "offset", "next_offset"}
    gid = page["items"][0]["id"]
    assert c.http.get("/api/infrastructure/groups", params={"site": "city-paper.example"}).json()["total"] == 0
    group = c.http.get(f"/api/infrastructure/groups/{gid}").json()
    assert group["size"] == 4 and any(i["value"] == "UA-7654321" for i in group["indicators"])
    gexf = c.http.get(f"/api/infrastructure/groups/{gid}.gexf")
    assert gexf.status_code == 200 and gexf.headers["content-type"].startswith("application/gexf+xml")
    assert ET.fromstring(gexf.text).tag == "{http://gexf.net/1.3}gexf"
    site = c.http.get("/api/infrastructure/sites/daily-truth.example").json()
    assert site["source"]["affiliation"] == "unknown" and site["groups"][0]["id"] == gid
    for path, text in ((f"/infrastructure/groups/{gid}", "UA-7654321"), ("/infrastructure", gid),
                       ("/infrastructure/sites/daily-truth.example", "state-tv.example")):
        resp = c.http.get(path)
        assert resp.status_code == 200 and text in resp.text, path


def test_infrastructure_signal_in_triage_signal_page_and_report(seeded, client_factory):
    _detect(seeded.store)
    c = client_factory("vic")
    items = c.http.get("/api/signals", params={"type": "infrastructure"}).json()["items"]
    assert len(items) == 3
    sig = c.http.get(f"/api/signals/{items[0]['id']}").json()
    ev = next(e for e in sig["evidence"] if e["details"]["kind"] == "ga")
    assert ev["document"]["url"].startswith("https://") and ev["details"]["tier"] == "conclusive"
    assert c.http.get("/triage").status_code == 200
    page = c.http.get(f"/signals/{items[0]['id']}")
    assert page.status_code == 200 and "UA-7654321" in page.text
    report = c.http.get(f"/reports/signals/{items[0]['id']}.html")
    assert report.status_code == 200 and "state-tv.example" in report.text


def test_not_found_and_login_required(seeded, client_factory):
    _detect(seeded.store)
    anon = client_factory()
    assert anon.http.get("/api/infrastructure/groups").status_code == 401
    c = client_factory("vic")
    missing = c.http.get("/api/infrastructure/groups/grp_nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert c.http.get("/api/infrastructure/sites/unknown.example").status_code == 404
    assert c.http.get("/infrastructure/groups/grp_nope").status_code == 404


def test_markup_in_indicator_values_is_text(seeded, client_factory):
    store = seeded.store
    evil = '"><img src=x onerror=alert(1)>'
    from fimiscope.store import infrastructure as infra_db

    with store.transaction() as conn:
        infra_db.record_observations(conn, [
            {"site": s, "kind": "email", "value": f"{evil}@x.example", "where": "text", "origin": "page"}
            for s in ("a.example", "b.example")] + [
            {"site": s, "kind": "ga", "value": "UA-999", "where": evil, "origin": "page"} for s in ("a.example",
                                                                                               "b.example")])
    pipeline.run(store, only=["detect.infrastructure"])
    c = client_factory("vic")
    gid = c.http.get("/api/infrastructure/groups").json()["items"][0]["id"]
    for path in (f"/infrastructure/groups/{gid}", "/infrastructure/sites/a.example"):
        html = c.http.get(path).text
        assert "<img src=x onerror" not in html and "&lt;img src=x onerror" in html, path
