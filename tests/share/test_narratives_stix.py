"""Incidents that name stored narratives (by name or by id) export them as OpenCTI narrative
objects with their description, keywords and kind; the bundle stays valid STIX 2.1."""

from __future__ import annotations

from stix2validator import ValidationOptions, validate_instance

from fimiscope.core.model import Incident
from fimiscope.share.stix import export_bundle
from fimiscope.store import Store
from fimiscope.store import narratives as db
from fimiscope.store.cases import IncidentStore


def test_incident_narratives_become_opencti_narratives(store: Store) -> None:
    with store.transaction() as conn:
        nid = db.create(conn, name="Sanctions hurt Europe more than Russia", description="Sanctions ruin Europe.",
                        keywords=["sanctions", "gas prices"], debunked=True)
    inc = IncidentStore(store).create(
        Incident(title="Sanctions campaign", tlp="green", narratives=[nid, "A narrative nobody defined"]), "ana"
    )
    bundle = export_bundle(store, inc.id)
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    narratives = {o["name"]: o for o in bundle["objects"] if o["type"] == "narrative"}
    assert set(narratives) == {"Sanctions hurt Europe more than Russia", "A narrative nobody defined"}
    known = narratives["Sanctions hurt Europe more than Russia"]
    assert known["description"] == "Sanctions ruin Europe."
    assert known["aliases"] == ["sanctions", "gas prices"]
    assert known["narrative_types"] == ["known", "debunked"]
    rels = [o for o in bundle["objects"] if o["type"] == "relationship" and o["target_ref"] == known["id"]]
    assert rels and rels[0]["source_ref"].startswith("incident--")
    # named by its name instead of its id: the same object (ids derive from the name)
    again = IncidentStore(store).create(Incident(title="Again", tlp="green",
                                                 narratives=["Sanctions hurt Europe more than Russia"]), "ana")
    other = export_bundle(store, again.id)
    assert known["id"] in {o["id"] for o in other["objects"] if o["type"] == "narrative"}
