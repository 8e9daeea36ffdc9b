"""The REST API against the real app and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.api.api_support import SPAN, Seeded

from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store


def test_lists_share_one_page_shape(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    for path in ("/api/sources", "/api/documents", "/api/signals", "/api/documents?q=biolabs"):
        body = c.http.get(path).json()
        assert set(body) == {"items", "total", "limit", "offset", "next_offset"}, path
    page = c.http.get("/api/signals?limit=2").json()
    assert [s["score"] for s in page["items"]] == [0.91, 0.55]
    assert page["total"] == 3 and page["next_offset"] == 2
    rest = c.http.get("/api/signals?limit=2&offset=2").json()
    assert [s["title"] for s in rest["items"]] == ["Weak match on weather"] and rest["next_offset"] is None


def test_sources(client_factory) -> None:
    c = client_factory("vic")
    items = c.http.get("/api/sources").json()["items"]
    rt = next(s for s in items if s["name"] == "rt.com")
    assert rt["affiliation"] == "state_controlled" and rt["flagged"] is True and rt["documents"] == 1
    assert rt["provenance"][0]["by"] == "EEAS"
    one = c.http.get("/api/sources/rt.com").json()
    assert one["reliability"] == "E"
    missing = c.http.get("/api/sources/nope.example")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_document_search_with_filters(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    hits = c.http.get("/api/documents", params={"q": "biolabs"}).json()["items"]
    assert [h["id"] for h in hits] == [seeded.doc_ids[0]] and hits[0]["score"] > 0 and "snippet" in hits[0]
    assert c.http.get("/api/documents", params={"q": "biolabs", "lang": "de"}).json()["items"] == []
    assert c.http.get("/api/documents", params={"q": "biolabs", "source": "example-news.org"}).json()["items"] == []
    assert c.http.get("/api/documents", params={"q": "biolabs", "since": "2026-11-02"}).json()["items"] == []
    newest = c.http.get("/api/documents", params={"source": "example-news.org"}).json()
    assert newest["total"] == 2 and {d["language"] for d in newest["items"]} == {"de", "en"}
    bad = c.http.get("/api/documents", params={"q": "!!!"})
    assert bad.status_code == 422 and "no words" in bad.json()["detail"]


def test_document_show_lists_evidence(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    doc = c.http.get(f"/api/documents/{seeded.doc_ids[0]}").json()
    assert doc["text"].startswith("Officials")
    assert {e["signal_id"] for e in doc["evidence"]} == set(seeded.signal_ids[:2])
    assert all((e["span_start"], e["span_end"]) == SPAN for e in doc["evidence"])


def test_signal_filters(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")

    def titles(**params: object) -> list[str]:
        resp = c.http.get("/api/signals", params=params)
        assert resp.status_code == 200, resp.text
        return [s["title"] for s in resp.json()["items"]]

    assert titles(type="claim") == ["Debunked biolab claim repeated", "Weak match on weather"]
    assert titles(min_score=0.5) == ["RT biolab story copied without attribution", "Debunked biolab claim repeated"]
    assert titles(max_score=0.2) == ["Weak match on weather"]
    assert titles(source="rt.com") == ["RT biolab story copied without attribution", "Debunked biolab claim repeated"]
    assert titles(lang="de") == ["RT biolab story copied without attribution"]
    assert titles(sort="-score")[0] == "Weak match on weather"
    assert titles(status="confirmed") == []
    bad = c.http.get("/api/signals", params={"status": "maybe"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"][-1] == "status"


def test_signal_show_and_bulk_status(client_factory, seeded: Seeded) -> None:
    c = client_factory("ana")
    sid = seeded.signal_ids[0]
    sig = c.http.get(f"/api/signals/{sid}").json()
    assert len(sig["evidence"]) == 2 and sig["evidence"][0]["document"]["source"] == "rt.com"
    resp = c.http.post(
        "/api/signals/status", json={"ids": seeded.signal_ids[:2], "status": "dismissed"},
        headers={"X-CSRF-Token": c.csrf},
    )
    assert resp.json() == {"status": "dismissed", "changed": 2}
    assert [s["id"] for s in c.http.get("/api/signals?status=dismissed").json()["items"]] == seeded.signal_ids[:2]
    one = c.http.post(f"/api/signals/{sid}/status", json={"status": "escalated"}, headers={"X-CSRF-Token": c.csrf})
    assert one.json()["status"] == "escalated"
    assert seeded.store.read(signal_store.get_signal, sid).status.value == "escalated"
    missing = c.http.get("/api/signals/sig_nope")
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"


def test_stats_overview_openapi(client_factory) -> None:
    c = client_factory("vic")
    stats = c.http.get("/api/stats").json()
    assert stats["documents"] == 3 and stats["signals"] == 3
    ov = c.http.get("/api/overview").json()
    assert ov["documents_by_affiliation"] == {"independent": 2, "state_controlled": 1}
    assert ov["documents_by_language"] == {"en": 2, "de": 1}
    spec = c.http.get("/api/openapi.json").json()
    assert {"/api/signals", "/api/documents", "/api/sources", "/api/signals/status"} <= set(spec["paths"])


def test_signal_report_is_self_contained(client_factory, seeded: Seeded) -> None:
    c = client_factory("vic")
    resp = c.http.get(f"/reports/signals/{seeded.signal_ids[0]}.html")
    assert resp.status_code == 200
    html = resp.text
    assert "<style>" in html and "<svg" in html and "secret biolabs in Ukraine" in html
    assert "<script" not in html and 'src="/' not in html and 'href="/static' not in html


def test_sources_page_shows_collection_health(client_factory, seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fimiscope.collect import runner
    from fimiscope.config import Settings
    from fimiscope.core.model import Source

    good = tmp_path / "posts.jsonl"
    good.write_text('{"text": "A post about the harbour strike.", "url": "https://feed.example/1"}\n')
    store = seeded.store
    store.write(source_store.add_source, Source(name="good-feed", kind="jsonl", location=str(good)))
    store.write(source_store.add_source,
                Source(name="broken-feed", kind="jsonl", location=str(tmp_path / "missing.jsonl")))
    runner.collect(store, Settings(data_dir=tmp_path), ["good-feed", "broken-feed"])

    page = client_factory("vic").http.get("/sources", headers={"Accept": "text/html"}).text
    row = {name: page.split(f'<tr id="{name}">', 1)[1].split("</tr>", 1)[0] for name in ("good-feed", "broken-feed")}
    assert ">ok<" in row["good-feed"] and "last success" in row["good-feed"] and "1 items" in row["good-feed"]
    assert "failing × 1" in row["broken-feed"] and "missing.jsonl" in row["broken-feed"]
    assert "Collection health" in page and "rt.com" in page
