"""Laundering clusters and claims through the real app on both backends: REST endpoints, the
cluster and claim pages, the claim-match section of the signal page and the cluster report.
The clusters and the claim match are made by running the real detectors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from tests.api.api_support import Seeded
from tests.api.cluster_support import MATCHED, Made, make_cluster_and_claim

from fimiscope import pipeline
from fimiscope.core.model import Document
from fimiscope.store import documents as document_store
from fimiscope.web.reports import find_chromium

SECOND = [
    "Farmers in the south of the country are worried about the drought that has lasted for almost three months, "
    "and many of them say the harvest of wheat and barley will be the worst in a decade this year.",
    "The regional government promised compensation, but farmers' unions said the money was too little and would "
    "arrive too late to save smaller family farms from bankruptcy before the start of the winter.",
]


@pytest.fixture
def made(seeded: Seeded) -> Made:
    return make_cluster_and_claim(seeded.store)


def _second_cluster(seeded: Seeded) -> None:
    """Two independent sites carrying the same farming story: a cluster with no flagged origin."""
    t = datetime.now(UTC) - timedelta(days=1)
    seeded.store.write(document_store.upsert_documents, [
        Document(text="\n\n".join(SECOND), url=f"https://{s}/drought", source=s, title="Drought", language="de",
                 published_at=t + timedelta(hours=i))
        for i, s in enumerate(("farm-a.example", "farm-b.example"))
    ])
    pipeline.run(seeded.store, only=["laundering"])  # a stage may be named by its last part


def test_cluster_list_filters_and_pages(client_factory, seeded: Seeded, made: Made) -> None:
    _second_cluster(seeded)
    c = client_factory("vic")
    body = c.http.get("/api/clusters").json()
    assert set(body) == {"items", "total", "limit", "offset", "next_offset"}
    assert body["total"] == 2 and body["next_offset"] is None
    ours = next(x for x in body["items"] if x["id"] == made.cluster_id)
    assert ours["size"] == 3 and ours["origin_source"] == "rt.example"
    assert ours["origin_affiliation"] == "state_controlled" and set(ours["languages"]) == {"en", "ru"}

    def ids(**params: object) -> list[str]:
        resp = c.http.get("/api/clusters", params=params)
        assert resp.status_code == 200, resp.text
        return [x["id"] for x in resp.json()["items"]]

    assert ids(lang="ru") == [made.cluster_id]
    assert ids(lang="de") != [made.cluster_id] and len(ids(lang="de")) == 1
    assert ids(lang="fr") == []
    assert ids(origin_source="rt.example") == [made.cluster_id]
    assert ids(origin_source="daily-news.example") == []
    assert ids(min_size=3) == [made.cluster_id]
    first = c.http.get("/api/clusters", params={"limit": 1}).json()
    rest = c.http.get("/api/clusters", params={"limit": 1, "offset": 1}).json()
    assert first["total"] == 2 and first["next_offset"] == 1 and rest["next_offset"] is None
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == set(ids())
    bad = c.http.get("/api/clusters", params={"min_size": 1})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"][-1] == "min_size"


def test_cluster_detail_spells_out_the_chain(client_factory, made: Made) -> None:
    c = client_factory("vic")
    data = c.http.get(f"/api/clusters/{made.cluster_id}").json()
    assert data["origin"]["document_id"] == made.origin_id and data["origin"]["role"] == "origin"
    assert data["members"][0]["document_id"] == made.origin_id
    lags = {m["document_id"]: m["lag_s"] for m in data["members"]}
    assert lags == {made.origin_id: 0.0, made.copy_id: 3 * 3600.0, made.translation_id: 6 * 3600.0}
    copy = next(e for e in data["edges"] if e["copier_document_id"] == made.copy_id)
    assert copy["copied_document_id"] == made.origin_id and copy["method"] == "near_duplicate"
    assert copy["attribution_stripped"] is True and copy["language_change"] is False
    assert copy["lag_s"] == pytest.approx(3 * 3600)
    tr = next(e for e in data["edges"] if e["method"] == "translation")
    assert tr["copier_document_id"] == made.translation_id and tr["language_change"] is True
    assert (tr["copied_language"], tr["copier_language"]) == ("en", "ru")
    # one signal per copy of the flagged origin: the verbatim copy and the translation
    assert len(data["signals"]) == 2 and made.laundering_signal_id in {s["id"] for s in data["signals"]}
    assert all(s["type"] == "laundering" for s in data["signals"])
    missing = c.http.get("/api/clusters/clu_nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert "clu_nope" in missing.json()["detail"]


def test_claims_list_search_and_detail(client_factory, made: Made) -> None:
    c = client_factory("vic")
    body = c.http.get("/api/claims").json()
    assert body["total"] == 1 and body["items"][0]["id"] == made.claim_id
    assert body["items"][0]["debunk_url"] == "https://debunk.example/vinnitsa"
    hits = c.http.get("/api/claims", params={"q": "explosions at the Vinnitsa depot"}).json()
    assert [h["id"] for h in hits["items"]] == [made.claim_id] and hits["items"][0]["score"] > 0
    assert c.http.get("/api/claims", params={"q": "football tickets"}).json()["items"] == []
    assert c.http.get("/api/claims", params={"lang": "de"}).json()["total"] == 0
    assert c.http.get("/api/claims", params={"q": "Vinnitsa", "lang": "de"}).json()["items"] == []
    one = c.http.get(f"/api/claims/{made.claim_id}").json()
    assert one["verdict"] == "false" and [s["id"] for s in one["signals"]] == [made.claim_signal_id]
    missing = c.http.get("/api/claims/clm_nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_endpoints_need_a_user_and_are_in_openapi(client_factory, made: Made) -> None:
    anon = client_factory()
    for path in ("/api/clusters", f"/api/clusters/{made.cluster_id}", "/api/claims", "/api/clusters/trends"):
        resp = anon.http.get(path)
        assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json", path
    assert anon.http.get(f"/reports/clusters/{made.cluster_id}.html").status_code in (302, 303, 401)
    paths = client_factory("vic").http.get("/api/openapi.json").json()["paths"]
    for p in ("/api/clusters", "/api/clusters/{cluster_id}", "/api/clusters/trends", "/api/claims",
              "/api/claims/{claim_id}"):
        assert p in paths, p


def test_trends_count_new_clusters_and_clustered_documents(client_factory, made: Made) -> None:
    data = client_factory("vic").http.get("/api/clusters/trends", params={"days": 7}).json()
    assert data["days"] == 7 and len(data["clusters_by_day"]) == 8 and data["recent"] is True
    assert sum(data["clusters_by_day"].values()) == 1
    assert sum(data["documents_in_clusters_by_day"].values()) == 3


def test_trends_of_an_archive_end_at_its_latest_clustered_publication(client_factory, seeded: Seeded) -> None:
    make_cluster_and_claim(seeded.store, now=datetime(2025, 1, 10, 12, tzinfo=UTC))
    data = client_factory("vic").http.get("/api/clusters/trends", params={"days": 7}).json()
    assert data["recent"] is False and data["until"] == "2025-01-08"
    assert list(data["clusters_by_day"])[-1] == "2025-01-08" and data["clusters_by_day"]["2025-01-08"] == 1
    assert sum(data["documents_in_clusters_by_day"].values()) == 3


def test_pages_empty_states(client_factory) -> None:
    c = client_factory("vic")
    assert "No laundering clusters yet" in c.http.get("/clusters").text
    assert "No claims yet" in c.http.get("/claims").text
    overview = c.http.get("/").text
    assert 'id="cluster-trends"' in overview and "chart-cluster-trends" not in overview
    assert "fimiscope detect laundering" in overview
    assert "No cluster matches these filters" in c.http.get("/clusters?lang=xx").text
    assert c.http.get("/clusters/clu_nope", headers={"Accept": "text/html"}).status_code == 404


def test_cluster_and_claim_pages(client_factory, made: Made) -> None:
    c = client_factory("vic")
    listing = c.http.get("/clusters").text
    assert f'href="/clusters/{made.cluster_id}"' in listing and "Troops to join border exercise" in listing
    assert '<a href="/clusters" class="active">Clusters</a>' in listing
    page = c.http.get(f"/clusters/{made.cluster_id}").text
    assert 'id="cluster-timeline"' in page and 'id="cluster-graph"' in page
    assert f'href="/signals/{made.laundering_signal_id}"' in page
    assert f'href="/documents/{made.copy_id}"' in page and "stripped" in page and "en → ru" in page
    assert f'href="/reports/clusters/{made.cluster_id}.html"' in page
    # the laundering signal links to its cluster
    sig = c.http.get(f"/signals/{made.laundering_signal_id}").text
    assert f'href="/clusters/{made.cluster_id}">Open cluster' in sig
    # the claim-match section: the sentence in its document beside the claim and its debunk
    cm = c.http.get(f"/signals/{made.claim_signal_id}").text
    section = cm[cm.index('id="claim-match"'):]
    assert re.search(r'<mark class="ev">' + MATCHED, section)
    assert "The explosions in the munitions depot in Vinnitsa" in section
    assert 'href="https://debunk.example/vinnitsa"' in section and "Investigators named sabotage" in section
    assert "calibrated" in section and f'href="/claims/{made.claim_id}"' in section
    assert "Open cluster" not in cm
    claims = c.http.get("/claims", params={"q": "Vinnitsa explosions"}).text
    assert f'href="/claims/{made.claim_id}"' in claims
    claim = c.http.get(f"/claims/{made.claim_id}").text
    assert f'href="/signals/{made.claim_signal_id}"' in claim and "Investigators named sabotage" in claim
    overview = c.http.get("/").text
    assert 'id="chart-cluster-trends"' in overview


def test_cluster_report_is_self_contained(client_factory, made: Made) -> None:
    c = client_factory("vic")
    resp = c.http.get(f"/reports/clusters/{made.cluster_id}.html")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r'\b(src|href)\s*=', html, re.I), "a report must not load or point at anything"
    assert "<svg" in html and "cluster timeline" in html and "<style>" in html
    assert "Troops to join border exercise" in html and "attribution stripped" in html
    assert made.laundering_signal_id in html and "Generated" in html and "by vic" in html
    dl = c.http.get(f"/reports/clusters/{made.cluster_id}.html?download=1")
    assert dl.headers["content-disposition"] == f'attachment; filename="cluster-{made.cluster_id}.html"'
    assert c.http.get("/reports/clusters/clu_nope.html").status_code == 404


def test_cluster_report_pdf(client_factory, made: Made) -> None:
    c = client_factory("vic")
    resp = c.http.get(f"/reports/clusters/{made.cluster_id}.pdf")
    if find_chromium() is None:
        assert resp.status_code == 501 and resp.headers["content-type"] == "application/problem+json"
    else:
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/pdf" and resp.content.startswith(b"%PDF")


def test_claim_search_never_loads_the_encoder(client_factory, seeded, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Searching the claim database is lexical: a configured encoder (here one that cannot load)
    # is not touched, so the first search never waits for every claim to be encoded.
    from fimiscope.core.model import Claim
    from fimiscope.store.claims import add_claim

    monkeypatch.setenv("FIMISCOPE_ENCODER_PATH", str(tmp_path / "no-model-here"))
    add_claim(seeded.store, Claim(text="Secret laboratories near the border produce weapons"))
    c = client_factory("vic")
    items = c.http.get("/api/claims", params={"q": "secret laboratories weapons"}).json()["items"]
    assert [i["text"] for i in items][:1] == ["Secret laboratories near the border produce weapons"]
    assert c.http.get("/claims", params={"q": "laboratories"}, headers={"Accept": "text/html"}).status_code == 200


def test_incident_report_carries_the_laundering_evidence(client_factory, made: Made) -> None:
    """A partner reading the report sees, for the linked laundering signal, where the origin and
    the copy were published and the shared passage, marked, beside what the copy added."""
    ana = client_factory("ana")
    inc = ana.http.post(
        "/api/incidents",
        json={"title": "Exercise story laundered", "tlp": "green", "signal_ids": [made.laundering_signal_id]},
        headers={"X-CSRF-Token": ana.csrf},
    ).json()
    html = ana.http.get(f"/reports/incidents/{inc['id']}.html").text
    assert "https://rt.example/a1" in html and "https://daily-news.example/b1" in html
    pair = html[html.index('class="evidence-pair"'):]
    assert 'class="align-shared"' in pair and "4,500 troops" in pair
    assert 'class="align-added"' in pair and "BREAKING" in pair
    assert "\\n" not in pair
    seen = html[html.index("First / last seen"):]
    assert "publication times of the cited documents" in seen[:400]
