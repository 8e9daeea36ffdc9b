"""An incident built from infrastructure signals exports as STIX 2.1 `infrastructure`,
`domain-name`, `ipv4-addr` and `indicator` objects related to it, valid for stix2-validator."""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance
from tests.detect import infra_support as web

from fimiscope import pipeline
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db
from fimiscope.store import signals as signal_store


def test_infrastructure_signals_export_as_stix(cli: Any, database_url: str, tmp_path) -> None:
    store = Store.open(database_url)
    web.load(store)
    with store.transaction() as conn:  # an IP shared with the state outlet, as a look-up would record it
        infra_db.record_observations(conn, [{"site": s, "kind": "ip", "value": "203.0.113.9", "where": "dns look-up",
                                             "origin": "dns"} for s in ("daily-truth.example", web.STATE)])
    pipeline.run(store, only=["extract.fingerprints", "detect.infrastructure"])
    sigs = store.read(signal_store.list_signals, type="infrastructure")
    sig = next(s for s in sigs if s.details["site"] == "daily-truth.example")
    store.close()
    iid = json.loads(cli("incidents", "create", "--signal", sig.id, "--title", "Look-alike network",
                         "--tlp", "green", "--format", "json").stdout)["id"]
    out = tmp_path / "bundle.json"
    cli("export", "stix", "--incident", iid, "-o", str(out))
    bundle = json.loads(out.read_text())
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]
    objs = stix2.parse(out.read_text(), allow_custom=True).objects
    by_type: dict[str, list[Any]] = {}
    for o in objs:
        by_type.setdefault(o["type"], []).append(o)
    infra = next(o for o in by_type["infrastructure"] if o["name"].startswith("Infrastructure shared by"))
    assert {d["value"] for d in by_type["domain-name"]} >= {"daily-truth.example", web.STATE}
    assert [a["value"] for a in by_type["ipv4-addr"]] == ["203.0.113.9"]
    patterns = {i["pattern"] for i in by_type["indicator"]}
    assert "[ipv4-addr:value = '203.0.113.9']" in patterns
    assert "[domain-name:value = 'daily-truth.example' OR domain-name:value = 'state-tv.example']" in patterns
    ga = next(i for i in by_type["indicator"] if i["x_fimiscope_indicator"]["kind"] == "ga")
    assert ga["x_fimiscope_indicator"] == {"kind": "ga", "value": "UA-7654321", "tier": "conclusive"}
    rels = {(r["source_ref"], r["relationship_type"], r["target_ref"]) for r in by_type["relationship"]}
    incident = by_type["incident"][0]["id"]
    assert (incident, "related-to", infra["id"]) in rels
    assert (ga["id"], "indicates", infra["id"]) in rels
    assert any(k == "consists-of" and s == infra["id"] and t.startswith("ipv4-addr--") for s, k, t in rels)
    assert any(k == "resolves-to" and s.startswith("domain-name--") for s, k, t in rels)
    # Deterministic ids: exporting again changes nothing.
    cli("export", "stix", "--incident", iid, "-o", str(tmp_path / "again.json"))
    again = json.loads((tmp_path / "again.json").read_text())
    assert sorted(o["id"] for o in again["objects"]) == sorted(o["id"] for o in bundle["objects"])
