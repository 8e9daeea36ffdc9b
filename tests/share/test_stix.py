"""STIX 2.1 export/import through the real CLI: valid for stix2-validator, parsable by stix2,
idempotent, all-or-nothing, and keeping what we do not model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance

from fimiscope.share.markings import TLP2_IDS
from fimiscope.store import Store
from fimiscope.store.share import ShareStore


def add_signal(database_url: str) -> str:
    from fimiscope.core.clock import utcnow
    from fimiscope.store.tables import signals

    store = Store.open(database_url)
    now = utcnow()
    with store.transaction() as c:
        c.execute(
            signals.insert().values(
                id="sig_1",
                key="k1",
                type="laundering",
                title="Same story on 40 mirrors",
                summary="",
                score=0.93,
                status="new",
                detector="laundering",
                detector_version="1",
                parameters={},
                details={},
                created_at=now,
                updated_at=now,
            )
        )
    store.close()
    return "sig_1"


def make_incident(cli: Any, database_url: str) -> str:
    sid = add_signal(database_url)
    out = cli(
        "incidents",
        "create",
        "--signal",
        sid,
        "--campaign",
        "Pravda network=Portal Kombat",
        "--amplifies",
        "account:telegram:rybar>outlet:pravda-fr.com",
        "--title",
        "Portal Kombat wave",
        "--summary",
        "Mirror sites push the same story.",
        "--technique",
        "T0049",
        "--technique",
        "T0049.001",
        "--threat-actor",
        "Storm-1516=CopyCop",
        "--intrusion-set",
        "Portal Kombat",
        "--channel",
        "outlet:pravda-fr.com",
        "--channel",
        "account:telegram:rybar",
        "--channel",
        "domain:pravda-de.com",
        "--channel",
        "url:https://pravda-fr.com/story/1",
        "--narrative",
        "The West is tired of Ukraine",
        "--attributed-to",
        "Storm-1516",
        "--confidence",
        "likely",
        "--source-reliability",
        "B",
        "--info-credibility",
        "2",
        "--impact",
        "Picked up by two national outlets.",
        "--first-seen",
        "2025-03-01",
        "--tlp",
        "green",
        "--format",
        "json",
    )
    return str(json.loads(out.stdout)["id"])


def test_exported_incident_passes_the_official_validator(cli: Any, database_url: str, tmp_path: Path) -> None:
    iid = make_incident(cli, database_url)
    out = tmp_path / "b.json"
    cli("export", "stix", "--incident", iid, "-o", str(out))
    bundle = json.loads(out.read_text())
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]
    parsed = stix2.parse(out.read_text(), allow_custom=True)
    by_type: dict[str, list[Any]] = {}
    for obj in parsed.objects:
        by_type.setdefault(obj["type"], []).append(obj)
    for kind in (
        "incident",
        "attack-pattern",
        "threat-actor",
        "intrusion-set",
        "campaign",
        "sighting",
        "identity",
        "channel",
        "narrative",
        "infrastructure",
        "domain-name",
        "url",
        "indicator",
        "note",
        "report",
        "relationship",
        "marking-definition",
    ):
        assert kind in by_type, kind
    ap = {a["external_references"][0]["external_id"]: a for a in by_type["attack-pattern"]}
    assert set(ap) == {"T0049", "T0049.001"}
    assert ap["T0049"]["external_references"][0]["source_name"] == "DISARM"
    assert ap["T0049"]["external_references"][0]["url"].startswith("https://")
    org = by_type["identity"][0]["id"]
    assert all(o.get("created_by_ref") == org for o in by_type["incident"] + by_type["relationship"])
    assert all(TLP2_IDS["green"] in o["object_marking_refs"] for o in by_type["incident"] + by_type["channel"])
    assert [m["id"] for m in by_type["marking-definition"]] == [TLP2_IDS["clear"], TLP2_IDS["green"]]
    rels = {
        (r["relationship_type"], r["source_ref"].split("--")[0], r["target_ref"].split("--")[0])
        for r in by_type["relationship"]
    }
    assert ("publishes", "channel", "url") in rels
    assert ("amplifies", "channel", "channel") in rels
    assert ("belongs-to", "channel", "threat-actor") in rels
    assert ("attributed-to", "incident", "threat-actor") in rels
    assert ("uses", "incident", "attack-pattern") in rels
    assert ("attributed-to", "campaign", "threat-actor") in rels
    assert by_type["sighting"][0]["sighting_of_ref"] == by_type["incident"][0]["id"]
    assert by_type["campaign"][0]["aliases"] == ["Portal Kombat"]
    att = next(r for r in by_type["relationship"] if r["relationship_type"] == "attributed-to")
    assert att["confidence"] == 67 and "B2" in att["description"]
    # exporting again gives the same object ids (stable for partners' re-imports)
    again = json.loads(cli("export", "stix", "--incident", iid).stdout)
    assert {o["id"] for o in again["objects"]} == {o["id"] for o in bundle["objects"]}
    table = cli("export", "stix", "--incident", iid, "--format", "table").stdout
    assert "relationship" in table and "{" not in table


def foreign_bundle(tmp_path: Path) -> Path:
    org = "identity--0b5e7a4c-3b8e-4a53-9c38-2c1b9d4e6f70"
    marking = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    ts = "2025-05-01T10:00:00.000Z"
    objs = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": org,
            "created": ts,
            "modified": ts,
            "name": "Partner CERT",
            "identity_class": "organization",
        },
        {
            "type": "incident",
            "spec_version": "2.1",
            "id": "incident--6a1c3e1b-9e0f-4d7a-8f3c-1d2e3f4a5b6c",
            "created": ts,
            "modified": ts,
            "name": "Doppelganger clones",
            "description": "Cloned news sites.",
            "created_by_ref": org,
            "object_marking_refs": [marking],
        },
        {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": "attack-pattern--1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            "created": ts,
            "modified": ts,
            "name": "Impersonate existing media",
            "external_references": [{"source_name": "DISARM", "external_id": "T0099.001"}],
            "created_by_ref": org,
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            "created": ts,
            "modified": ts,
            "relationship_type": "uses",
            "source_ref": "incident--6a1c3e1b-9e0f-4d7a-8f3c-1d2e3f4a5b6c",
            "target_ref": "attack-pattern--1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            "created_by_ref": org,
        },
        {
            "type": "x-partner-thing",
            "spec_version": "2.1",
            "id": "x-partner-thing--3e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            "created": ts,
            "modified": ts,
            "x_payload": {"a": [1, 2]},
            "created_by_ref": org,
        },
    ]
    path = tmp_path / "partner.json"
    path.write_text(
        json.dumps({"type": "bundle", "id": "bundle--4e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b", "objects": objs})
    )
    return path


def test_import_is_idempotent_and_keeps_unmodelled_objects(cli: Any, database_url: str, tmp_path: Path) -> None:
    path = foreign_bundle(tmp_path)
    first = json.loads(cli("import", "stix", str(path), "--format", "json").stdout)
    assert first["incidents_created"] == 1 and first["new"] == 4
    second = json.loads(cli("import", "stix", str(path), "--format", "json").stdout)
    assert second["incidents_created"] == 0 and second["incidents_updated"] == 0 and second["new"] == 0
    other = tmp_path / "other.json"
    doc = json.loads(path.read_text())
    doc["objects"][1]["name"] = "renamed by someone else"
    doc["objects"][1]["modified"] = "2026-01-01T00:00:00.000Z"
    other.write_text(json.dumps(doc))
    third = json.loads(cli("import", "stix", str(other), "--format", "json").stdout)
    assert third["incidents_updated"] == 0  # another source never rewrites an incident it did not give us
    doc["objects"][1]["name"] = "renamed by its source"
    path.write_text(json.dumps(doc))
    fourth = json.loads(cli("import", "stix", str(path), "--format", "json").stdout)
    assert fourth["incidents_updated"] == 1
    incidents = json.loads(cli("incidents", "list", "--format", "json").stdout)
    assert len(incidents) == 1
    assert incidents[0]["title"] == "renamed by its source"
    doc["objects"][1]["name"] = "Doppelganger clones"
    path.write_text(json.dumps(doc))
    cli("import", "stix", str(path))
    incidents = json.loads(cli("incidents", "list", "--format", "json").stdout)
    inc = incidents[0]
    assert inc["title"] == "Doppelganger clones" and inc["tlp"] == "green" and inc["techniques"] == ["T0099.001"]
    assert inc["origin"] == "import:partner.json"
    exported = json.loads(cli("export", "stix").stdout)
    kept = [o for o in exported["objects"] if o["type"] == "x-partner-thing"]
    assert kept == [json.loads(path.read_text())["objects"][4]]
    assert sum(o["type"] == "incident" for o in exported["objects"]) == 1


def test_bad_bundles_are_refused_whole(cli: Any, database_url: str, tmp_path: Path) -> None:
    path = foreign_bundle(tmp_path)
    doc = json.loads(path.read_text())
    doc["objects"].append({"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--x", "name": "bad"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    res = cli("import", "stix", str(bad), ok=False)
    assert res.exit_code == 2 and "nothing imported" in res.stderr and "threat-actor--x" in res.stderr
    notjson = tmp_path / "n.json"
    notjson.write_text("[1, 2")
    res = cli("import", "stix", str(notjson), ok=False)
    assert res.exit_code == 2 and "not JSON" in res.stderr
    store = Store.open(database_url)
    assert ShareStore(store).objects_in("raw") == []
    store.close()
    assert json.loads(cli("incidents", "list", "--format", "json").stdout) == []
