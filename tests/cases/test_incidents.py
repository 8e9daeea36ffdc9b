"""Incidents, audit log, signal linking and DISARM (built-in and imported) through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Incident
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store.cases import IncidentStore


def disarm_like_bundle(path: Path) -> Path:
    """A tiny DISARM-shaped STIX bundle: one tactic, one technique, one sub-technique."""
    ident = "identity--f1a0f560-2d9e-4c5d-bf47-7e96e805de82"
    objs = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": ident,
            "created": "2026-01-21T00:00:00Z",
            "modified": "2026-01-21T00:00:00Z",
            "name": "DISARM Foundation",
            "identity_class": "organization",
        },
        {
            "type": "x-mitre-tactic",
            "spec_version": "2.1",
            "id": "x-mitre-tactic--b03163eb-7e81-4fed-9819-641bf7c99507",
            "created": "2026-01-21T00:00:00Z",
            "modified": "2026-01-21T00:00:00Z",
            "name": "Maximise Exposure",
            "x_mitre_shortname": "maximise-exposure",
            "external_references": [{"source_name": "DISARM", "external_id": "TA17"}],
        },
        {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": "attack-pattern--70717452-f7e3-4ce8-956f-39a4d34c5cfb",
            "created": "2026-01-21T00:00:00Z",
            "modified": "2026-01-21T00:00:00Z",
            "name": "Flood Information Space v2",
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "maximise-exposure"}],
            "external_references": [{"source_name": "mitre-attack", "external_id": "T0049", "url": "https://x/T0049"}],
            "x_mitre_is_subtechnique": False,
        },
        {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": "attack-pattern--80717452-f7e3-4ce8-956f-39a4d34c5cfb",
            "created": "2026-01-21T00:00:00Z",
            "modified": "2026-01-21T00:00:00Z",
            "name": "Trolls Amplify",
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "maximise-exposure"}],
            "external_references": [{"source_name": "mitre-attack", "external_id": "T0049.001"}],
            "x_mitre_is_subtechnique": True,
        },
    ]
    out = path / "DISARM-v9.9-stix.json"
    out.write_text(
        json.dumps({"type": "bundle", "id": "bundle--0e0c1597-4b7d-43f1-b768-1c4a253c44df", "objects": objs})
    )
    return out


def add_signal(store: Store, key: str) -> str:
    import sqlalchemy as sa

    from fimiscope.core.clock import utcnow
    from fimiscope.store.tables import signals

    sid = f"sig_{key}"
    now = utcnow()
    with store.transaction() as c:
        c.execute(
            signals.insert().values(
                id=sid,
                key=key,
                type="laundering",
                title="t",
                summary="",
                score=0.9,
                status="new",
                detector="d",
                detector_version="1",
                parameters={},
                details={},
                created_at=now,
                updated_at=now,
            )
        )
        assert c.execute(sa.select(signals.c.status).where(signals.c.id == sid)).scalar() == "new"
    return sid


def test_create_update_audit_link(cli: Any, database_url: str) -> None:
    store = Store.open(database_url)
    sid = add_signal(store, "k1")
    out = cli(
        "incidents",
        "create",
        "--title",
        "Pravda network",
        "--technique",
        "T0049",
        "--threat-actor",
        "Storm-1516=CopyCop,John Mark Dougan",
        "--channel",
        "domain:pravda-fr.com",
        "--channel",
        "url:https://x.example/a",
        "--narrative",
        "Ukraine is corrupt",
        "--confidence",
        "highly likely",
        "--source-reliability",
        "B",
        "--info-credibility",
        "2",
        "--attributed-to",
        "Storm-1516",
        "--tlp",
        "TLP:AMBER+STRICT",
        "--analyst",
        "alice",
        "--format",
        "json",
    )
    inc = json.loads(out.stdout)
    assert inc["tlp"] == "amber+strict"
    assert inc["attribution"]["confidence"] == "very likely"
    assert inc["attribution"]["admiralty"] == "B2"
    assert inc["actors"][0]["aliases"] == ["CopyCop", "John Mark Dougan"]
    assert "pymispgalaxies" in inc["disarm_version"]
    cli("incidents", "update", inc["id"], "--status", "confirmed", "--technique", "T0049.001", "--actor", "bob")
    cli("incidents", "link-signal", inc["id"], sid, "--analyst", "carol")
    cli("incidents", "link-signal", inc["id"], sid, "--analyst", "carol")  # idempotent
    shown = json.loads(cli("incidents", "show", inc["id"], "--format", "json").stdout)
    assert shown["status"] == "confirmed"
    assert shown["techniques"] == ["T0049", "T0049.001"]
    assert shown["signal_ids"] == [sid]
    audit = [(a["who"], a["action"], a["field"], a["old"], a["new"]) for a in shown["audit"]]
    assert audit[0][:2] == ("alice", "create")
    assert ("bob", "update", "status", "open", "confirmed") in audit
    assert ("bob", "update", "techniques", ["T0049"], ["T0049", "T0049.001"]) in audit
    assert [a for a in audit if a[1] == "link-signal"] == [("carol", "link-signal", "signals", None, sid)]
    assert store.read(signal_store.get_signal, sid).status.value == "escalated"
    listed = json.loads(cli("incidents", "list", "--format", "json").stdout)
    assert [i["id"] for i in listed] == [inc["id"]]
    tlp = inc["tlp"]
    same = json.loads(cli("incidents", "list", "--tlp", f"TLP:{tlp}", "--format", "json").stdout)
    assert [i["id"] for i in same] == [inc["id"]]
    other = "red" if tlp != "red" else "clear"
    assert json.loads(cli("incidents", "list", "--tlp", other, "--format", "json").stdout) == []
    store.close()


def test_rejects_unknown_technique_and_bad_scales(cli: Any) -> None:
    bad = cli("incidents", "create", "--title", "x", "--technique", "T9999", ok=False)
    assert bad.exit_code == 3 and "not in DISARM" in bad.stderr
    bad = cli("incidents", "create", "--title", "x", "--confidence", "pretty sure", ok=False)
    assert bad.exit_code == 2 and "estimative" in bad.stderr
    bad = cli("incidents", "create", "--title", "x", "--tlp", "purple", ok=False)
    assert bad.exit_code == 2 and "TLP" in bad.stderr
    assert json.loads(cli("incidents", "list", "--format", "json").stdout) == []


def test_store_update_unchanged_writes_no_audit(store: Store) -> None:
    incs = IncidentStore(store)
    inc = incs.create(Incident(title="a"), "alice")
    assert inc.id
    incs.update(inc.id, "bob", {"title": "a"})
    assert [a.action for a in incs.audit(inc.id)] == ["create"]
    with pytest.raises(InvalidInput):
        incs.update(inc.id, "bob", {"id": "x"})
    with pytest.raises(NotFound):
        incs.link_signals(inc.id, ["sig_missing"], "bob")


def test_disarm_builtin_and_import(cli: Any, tmp_path: Path) -> None:
    show = json.loads(cli("disarm", "show", "T0049", "--format", "json").stdout)
    assert show["name"] == "Flood Information Space" and "pymispgalaxies" in show["disarm_version"]
    tactics = json.loads(cli("disarm", "list", "--kind", "tactic", "--format", "json").stdout)
    assert tactics[0]["name"] == "Plan Strategy" and len(tactics) >= 15
    in_tactic = json.loads(cli("disarm", "list", "--tactic", "Maximise Exposure", "--format", "json").stdout)
    assert "T0049" in [e["external_id"] for e in in_tactic]
    counters = json.loads(cli("disarm", "list", "--kind", "counter", "--format", "json").stdout)
    assert len(counters) > 100 and all(c["external_id"].startswith("C") for c in counters)
    hits = json.loads(cli("disarm", "search", "flood", "hashtag", "--format", "json").stdout)
    assert "T0049.002" in [h["external_id"] for h in hits]
    out = cli("disarm", "import", str(disarm_like_bundle(tmp_path)))
    assert "DISARM v9.9" in out.stdout
    again = json.loads(cli("disarm", "import", str(disarm_like_bundle(tmp_path)), "--format", "json").stdout)
    assert again["version"] == "DISARM v9.9" and again["entries"] > 0 and again["in_use"] is True
    show = json.loads(cli("disarm", "show", "T0049", "--format", "json").stdout)
    assert show["name"] == "Flood Information Space v2" and show["disarm_version"] == "DISARM v9.9"
    by_tactic = json.loads(cli("disarm", "list", "--tactic", "TA17", "--format", "json").stdout)
    assert [e["external_id"] for e in by_tactic] == ["T0049", "T0049.001"]
    assert by_tactic[1]["parent"] == "T0049"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = cli("disarm", "import", str(bad), "--version", "v2", ok=False)
    assert res.exit_code == 2 and "STIX" in res.stderr
