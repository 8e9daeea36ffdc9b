"""The narratives API on the real app with real login (both backends): list, detail, define,
edit, promote, merge, dismiss; roles and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fimiscope import pipeline
from fimiscope.core.model import Document
from fimiscope.store import documents as document_store


def _docs() -> list[Document]:
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    topics = ["Sanctions ruin European families and gas bills soar while Russia grows",
              "Ballots were printed twice and the election was rigged by foreign advisers"]
    return [Document(text=f"{t}, number {i}.", url=f"https://api{j}.example/{i}", source=f"api{j}.example",
                     language="en", published_at=t0 + timedelta(days=i))
            for j, t in enumerate(topics) for i in range(6)]


def test_narratives_api(seeded, client_factory) -> None:  # type: ignore[no-untyped-def]
    store = seeded.store
    store.write(document_store.upsert_documents, _docs())
    pipeline.run(store, only=["detect.narratives", "detect.narrative_signals"])
    viewer, analyst = client_factory("vic"), client_factory("ana")

    page = viewer.http.get("/api/narratives").json()
    assert page["total"] == 2 and {i["kind"] for i in page["items"]} == {"candidate"}
    a, b = (i["id"] for i in page["items"])
    detail = viewer.http.get(f"/api/narratives/{a}").json()
    assert detail["size"] == 6 and sum(detail["volumes"]["by_day"].values()) == 6
    assert set(detail) >= {"volumes", "origin", "documents", "lineage", "clusters", "groups", "signals", "examples"}
    assert detail["groups"] == []  # no coordination run here; the CLI and browser tests cover groups
    assert detail["volumes"]["by_language"] == {"en": 6}
    trend = viewer.http.get("/api/narratives/trends", params={"days": 10}).json()
    assert trend["until"] == "2026-05-06" and len(trend["days"]) == 11 and trend["days"][-1] == "2026-05-06"
    assert sorted(x["id"] for x in trend["series"]) == sorted([a, b])
    assert all(sum(x["counts"]) == x["documents"] == 6 for x in trend["series"])
    assert viewer.http.get("/api/narratives/trends", params={"top": 0}).status_code == 422

    # viewers read, analysts act
    body = {"name": "Elections are rigged", "description": "Fraud claims", "examples": ["Ballots printed twice."]}
    assert viewer.http.post("/api/narratives", json=body, headers={"x-csrf-token": viewer.csrf}).status_code == 403
    made = analyst.http.post("/api/narratives", json=body, headers={"x-csrf-token": analyst.csrf})
    assert made.status_code == 201 and made.json()["kind"] == "known"
    dup = analyst.http.post("/api/narratives", json=body, headers={"x-csrf-token": analyst.csrf})
    assert dup.status_code == 422 and "exists already" in dup.json()["detail"]
    bad = analyst.http.post("/api/narratives", json={"name": "x", "unknown": 1}, headers={"x-csrf-token": analyst.csrf})
    assert bad.status_code == 422
    empty = analyst.http.post("/api/narratives", json={"name": "nothing to match"},
                              headers={"x-csrf-token": analyst.csrf})
    assert empty.status_code == 422 and "description, keywords or an example" in empty.json()["detail"]
    assert viewer.http.get("/api/narratives/nar_missing").status_code == 404

    h = {"x-csrf-token": analyst.csrf}
    changed = analyst.http.request("PATCH", f"/api/narratives/{a}", json={"name": "Renamed", "add_examples": ["More."]},
                                   headers=h)
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    promoted = analyst.http.post(f"/api/narratives/{a}/promote", json={}, headers=h).json()
    assert promoted["kind"] == "known" and [x["kind"] for x in promoted["lineage"]] == ["renamed", "promoted"]
    merged = analyst.http.post(f"/api/narratives/{b}/merge", json={"into": a}, headers=h).json()
    assert merged["documents_moved"] == 6
    # the old id still answers, with the survivor
    assert viewer.http.get(f"/api/narratives/{b}").json()["id"] == a
    again = analyst.http.post(f"/api/narratives/{b}/merge", json={"into": a}, headers=h)
    assert again.status_code == 422
    gone = analyst.http.post(f"/api/narratives/{made.json()['id']}/dismiss", headers=h).json()
    assert gone["status"] == "dismissed"
    listed = viewer.http.get("/api/narratives?status=dismissed").json()
    assert [i["id"] for i in listed["items"]] == [made.json()["id"]]
    assert viewer.http.get("/api/narratives?kind=nonsense").status_code == 422
