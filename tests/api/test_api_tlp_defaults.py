"""Our own defaults and exports: an incident nobody labelled is TLP:AMBER (REST and web form),
and every object an incident exports carries the incident's marking, observables included."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.api.api_support import Seeded

from fimiscope.cases.tlp import TLP_LEVELS
from fimiscope.share.markings import TLP2_IDS, object_tlp
from fimiscope.share.stix import organisation_identity

ORG = organisation_identity()["id"]

EVERYTHING = {
    "title": "Every kind of object",
    "summary": "An incident that exports one object of each kind.",
    "techniques": ["T0049", "T0049.001"],
    "actors": [{"name": "Storm-1516", "kind": "threat-actor", "aliases": ["CopyCop"]},
               {"name": "Portal Kombat", "kind": "intrusion-set"},
               {"name": "Doppelganger wave", "kind": "campaign"}],
    "channels": [{"kind": "outlet", "value": "rt.com"},
                 {"kind": "account", "value": "telegram:rybar", "amplifies": ["outlet:rt.com"]},
                 {"kind": "domain", "value": "mirror-news.example"},
                 {"kind": "url", "value": "https://rt.com/news/1"},
                 {"kind": "url", "value": "https://elsewhere.example/story"}],
    "narratives": ["Secret biolabs in Ukraine"],
    "attribution": {"actor": "Storm-1516", "confidence": "likely", "source_reliability": "B",
                    "information_credibility": "2", "statement": "Same infrastructure as earlier waves."},
    "first_seen": "2026-11-01",
    "impact": "Picked up by two outlets.",
}


def _post(c: Any, path: str, body: dict[str, Any]) -> Any:
    return c.http.post(path, json=body, headers={"X-CSRF-Token": c.csrf})


def test_an_incident_created_over_rest_without_tlp_is_amber(client_factory) -> None:
    ana = client_factory("ana")
    created = _post(ana, "/api/incidents", {"title": "Nobody said which TLP"})
    assert created.status_code == 201, created.text
    assert created.json()["tlp"] == "amber"
    assert ana.http.get(f"/api/incidents/{created.json()['id']}").json()["tlp"] == "amber"
    assert _post(ana, "/api/incidents", {"title": "Blank TLP", "tlp": ""}).status_code == 422  # never a guess


def test_an_incident_created_from_the_web_form_without_tlp_is_amber(client_factory) -> None:
    ana = client_factory("ana")
    form = ana.http.get("/incidents/new")
    checked = re.findall(r'<input type="radio" name="tlp"[^>]*value="([^"]+)"\s*checked', form.text)
    assert checked == ["amber"], "the form must offer AMBER by default"
    for data in ({"title": "No TLP field"}, {"title": "Empty TLP field", "tlp": ""}):
        resp = ana.http.post("/incidents", data={**data, "status": "open", "csrf_token": ana.csrf})
        assert resp.status_code == 303, resp.text[-500:]
        iid = resp.headers["location"].rsplit("/", 1)[1]
        assert ana.http.get(f"/api/incidents/{iid}").json()["tlp"] == "amber", data


@pytest.mark.parametrize("level", TLP_LEVELS)
def test_every_exported_object_carries_the_incident_marking(client_factory, seeded: Seeded, level: str) -> None:
    ana = client_factory("ana")
    inc = _post(ana, "/api/incidents", {**EVERYTHING, "tlp": level, "signal_ids": seeded.signal_ids[:2]})
    assert inc.status_code == 201, inc.text
    for path in (f"/api/incidents/{inc.json()['id']}/stix", f"/api/exports/stix?incident={inc.json()['id']}"):
        bundle = ana.http.get(path).json()
        kinds = {o["type"] for o in bundle["objects"]}
        assert {"domain-name", "url", "incident", "indicator", "infrastructure", "relationship", "sighting",
                "attack-pattern", "threat-actor", "intrusion-set", "campaign", "note", "report"} <= kinds
        for obj in bundle["objects"]:
            if obj["type"] == "marking-definition" or obj["id"] == ORG:
                continue
            assert TLP2_IDS[level] in obj.get("object_marking_refs", []), (obj["type"], obj["id"])
            assert object_tlp(obj) == level, (obj["type"], obj["id"])
        org = next(o for o in bundle["objects"] if o["id"] == ORG)
        assert object_tlp(org) == "clear"
        definitions = {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"}
        assert TLP2_IDS[level] in definitions
