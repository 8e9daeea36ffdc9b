"""The persuasion REST API over the real app with real login (both backends): a document's
paragraphs, profiles, the taxonomy, classifying a posted text, the technique filters of
documents and signals, and the document page's panel."""

from __future__ import annotations

from tests.detect.persuasion_story import LOADED, plant

from fimiscope import pipeline


def test_persuasion_api(seeded, client_factory):  # type: ignore[no-untyped-def]
    ids = plant(seeded.store)
    state = ids["https://statenews.example/a1"]
    c = client_factory("vic")
    missing = c.http.get(f"/api/persuasion/documents/{state}")
    assert missing.status_code == 404 and "detect persuasion" in missing.json()["detail"]
    pipeline.run(seeded.store, only=["detect.persuasion"])

    doc = c.http.get(f"/api/persuasion/documents/{state}").json()
    assert doc["n_paragraphs"] == len(LOADED) + 1 and doc["paragraphs"][0]["text"] in LOADED
    technique = next(iter(doc["counts"]))
    prof = c.http.get("/api/persuasion/sources/statenews.example/profile", params={"weeks": 520}).json()
    assert prof["documents"] == 2 and technique in prof["totals"]
    assert c.http.get("/api/persuasion/sources/nowhere.example/profile").status_code == 404
    techs = c.http.get("/api/persuasion/techniques").json()
    assert len(techs["items"]) == 23 and techs["signal_precision"] >= 0.5

    body = {"text": "\n".join(LOADED), "language": "en"}
    got = c.http.post("/api/persuasion/classify", json=body, headers={"x-csrf-token": c.csrf}).json()
    assert got["n_paragraphs"] == len(LOADED) and got["paragraphs"]
    too_long = c.http.post("/api/persuasion/classify", json={"text": "x" * 200_001},
                           headers={"x-csrf-token": c.csrf})
    assert too_long.status_code == 422

    docs = c.http.get("/api/documents", params={"technique": technique}).json()
    assert state in {d["id"] for d in docs["items"]}
    assert c.http.get("/api/documents", params={"technique": "astrology"}).status_code == 422
    sigs = c.http.get("/api/signals", params={"technique": technique, "type": "persuasion"}).json()
    assert sigs["total"] == 1

    panel = c.http.get(f"/documents/{state}/persuasion")
    assert panel.status_code == 200 and 'class="pt pt-' in panel.text
    assert c.http.get(f"/documents/{state}").status_code == 200
    assert c.http.get("/persuasion").status_code == 200
    assert "persuasion-rates" in c.http.get("/persuasion/sources/statenews.example").text

    # per narrative: the documents the narrative detector assigned to it, through the API
    from fimiscope.store import narratives as narrative_store

    with seeded.store.transaction() as conn:
        nid = narrative_store.create(conn, name="Enemies everywhere", keywords=["traitors"])
        narrative_store.replace_assignments(conn, "known", [state], [
            {"narrative_id": nid, "document_id": state, "score": 0.9}])
    nprof = c.http.get(f"/api/persuasion/narratives/{nid}/profile").json()
    assert nprof["documents"] == 1 and technique in nprof["totals"] and nprof["until"]
    narrative = c.http.get(f"/api/narratives/{nid}").json()
    assert narrative["techniques"]["totals"] == nprof["totals"]
    assert 'id="narrative-techniques"' in c.http.get(f"/narratives/{nid}").text
