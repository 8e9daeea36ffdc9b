"""Coordinated groups through the real app on both backends: the REST endpoints (list with
filters, one group, GEXF/GraphML, STIX), the group pages, and what is refused. The group is
made by running the real detector."""

from __future__ import annotations

import networkx as nx
import pytest
from stix2validator import ValidationOptions, validate_instance
from tests.api.api_support import Seeded
from tests.detect.coordination_story import BOTS, bursts, organic, sources

from fimiscope import pipeline
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store


@pytest.fixture
def group_id(seeded: Seeded) -> str:
    seeded.store.write(source_store.merge_sources, sources())
    seeded.store.write(document_store.upsert_documents, [*bursts(BOTS, range(6)), *organic()])
    (report,) = pipeline.run(seeded.store, only=["detect.coordination"])
    (gid,) = report.details["groups"]
    return str(gid)


def test_group_endpoints_and_pages(client_factory, group_id: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = client_factory("vic")
    page = c.http.get("/api/coordination/groups").json()
    assert page["total"] == 1 and page["items"][0]["id"] == group_id
    assert page["items"][0]["accounts"] == sorted(BOTS)
    for query, total in (
        ("min_size=6", 0),
        ("min_size=5", 1),
        ("kind=share", 1),
        ("kind=hashtag", 0),
        ("platform=telegram", 1),
        ("platform=x", 0),
        ("affiliation=state_aligned", 1),
        ("affiliation=independent", 0),
        ("status=dissolved", 0),
    ):
        assert c.http.get(f"/api/coordination/groups?{query}").json()["total"] == total, query
    bad = c.http.get("/api/coordination/groups?kind=telepathy")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

    g = c.http.get(f"/api/coordination/groups/{group_id}").json()
    assert g["size"] == 5 and g["signals"][0]["type"] == "coordination"
    assert all(a["delay_s"] >= 0 for it in g["items"] for a in it["actions"])
    missing = c.http.get("/api/coordination/groups/grp_NOPE")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"

    gexf = c.http.get(f"/api/coordination/groups/{group_id}/network.gexf")
    assert gexf.status_code == 200 and "attachment" in gexf.headers["content-disposition"]
    path = tmp_path / "g.gexf"
    path.write_bytes(gexf.content)
    assert sorted(nx.read_gexf(path).nodes) == sorted(BOTS)
    assert c.http.get(f"/api/coordination/groups/{group_id}/network.graphml").text.count("<node ") == 5

    bundle = c.http.get(f"/api/coordination/groups/{group_id}/stix?tlp=green").json()
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    assert {o["type"] for o in bundle["objects"]} >= {"intrusion-set", "channel", "relationship", "note", "report"}
    assert c.http.get(f"/api/coordination/groups/{group_id}/stix?tlp=purple").status_code == 422

    listing = c.http.get("/coordination?kind=link")
    assert listing.status_code == 200 and group_id in listing.text
    assert "No group matches these filters" in c.http.get("/coordination?platform=x").text
    view = c.http.get(f"/coordination/{group_id}")
    assert view.status_code == 200 and 'id="group-graph"' in view.text and "truth-now.example/story-0" in view.text
    assert 'id="group-create-incident"' not in view.text  # a viewer cannot create incidents
    analyst = client_factory("ana")
    assert 'id="group-create-incident"' in analyst.http.get(f"/coordination/{group_id}").text


def test_group_endpoints_need_a_login(client_factory, group_id: str) -> None:  # type: ignore[no-untyped-def]
    anon = client_factory()
    assert anon.http.get("/api/coordination/groups").status_code == 401
    assert anon.http.get(f"/api/coordination/groups/{group_id}/stix").status_code == 401
    assert anon.http.get(f"/coordination/{group_id}").status_code in (303, 401)


def test_an_incident_with_the_group_signal_exports_the_group(
    client_factory,
    seeded: Seeded,  # type: ignore[no-untyped-def]
    group_id: str,
) -> None:
    c = client_factory("ana")
    sig = c.http.get(f"/api/coordination/groups/{group_id}").json()["signals"][0]["id"]
    made = c.http.post(
        "/api/incidents",
        json={"title": "Telegram amplification network", "tlp": "amber", "signal_ids": [sig]},
        headers={"X-CSRF-Token": c.csrf},
    )
    assert made.status_code in (200, 201), made.text
    bundle = c.http.get(f"/api/incidents/{made.json()['id']}/stix").json()
    assert validate_instance(bundle, ValidationOptions(version="2.1")).is_valid
    isets = [o for o in bundle["objects"] if o["type"] == "intrusion-set"]
    assert len(isets) == 1 and "5 accounts" in isets[0]["name"]
    rels = [o for o in bundle["objects"] if o["type"] == "relationship" and o["target_ref"] == isets[0]["id"]]
    assert any(r["relationship_type"] == "related-to" and r["source_ref"].startswith("incident--") for r in rels)
    assert sum(r["relationship_type"] == "belongs-to" for r in rels) == 5
