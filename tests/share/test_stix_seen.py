"""First / last seen in the STIX export come from the evidence when the analyst gave none, as
in the incident report (cases/seen.py): through the real CLI, on every backend, checked by the
official validator; a date the analyst set wins and a derived one never crosses it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from stix2validator import ValidationOptions, validate_instance

from fimiscope.cases.seen import seen
from fimiscope.core.model import Document, Evidence, Incident, Signal
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _signal_with_evidence(database_url: str) -> str:
    store = Store.open(database_url)
    try:
        ids = store.write(document_store.upsert_documents, [
            Document(text=f"Story {i}: the same paragraph again.", url=f"https://site{i}.example/a", source=f"s{i}",
                     title=f"Story {i}", language="en", published_at=T0 + timedelta(hours=5 * i))
            for i in range(3)
        ]).ids
        sig = Signal(type="laundering", title="Story republished", score=0.9, detector="laundering",
                     detector_version="1", key="seen-1",
                     evidence=[Evidence(document_id=ids[0], role="origin"), Evidence(document_id=ids[2], role="copy"),
                               Evidence(document_id=ids[1], role="copy")])
        store.write(signal_store.upsert_signals, [sig])
        (stored,) = store.read(signal_store.list_signals, type="laundering", limit=10)
        return str(stored.id)
    finally:
        store.close()


def _incident(bundle: dict[str, Any]) -> dict[str, Any]:
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]
    (inc,) = [o for o in bundle["objects"] if o["type"] == "incident"]
    return inc


def test_first_and_last_seen_come_from_the_evidence(cli: Any, database_url: str) -> None:
    sid = _signal_with_evidence(database_url)
    iid = json.loads(cli("incidents", "create", "--title", "Mirrors", "--signal", sid, "--format", "json").stdout)["id"]

    inc = _incident(json.loads(cli("export", "stix", "--incident", iid).stdout))
    assert inc["first_seen"] == "2025-03-01T08:00:00.000Z"
    assert inc["last_seen"] == "2025-03-01T18:00:00.000Z"
    assert inc["x_fimiscope_seen_from"] == "evidence"
    shown = json.loads(cli("incidents", "show", iid, "--format", "json").stdout)
    assert shown["first_seen"] is None  # derived for the reader, never written back

    cli("incidents", "update", iid, "--first-seen", "2025-02-20")
    inc = _incident(json.loads(cli("export", "stix", "--incident", iid).stdout))
    assert inc["first_seen"] == "2025-02-20T00:00:00.000Z" and inc["last_seen"] == "2025-03-01T18:00:00.000Z"

    cli("incidents", "update", iid, "--first-seen", "2025-04-01", "--last-seen", "2025-04-02")
    inc = _incident(json.loads(cli("export", "stix", "--incident", iid).stdout))
    assert (inc["first_seen"], inc["last_seen"]) == ("2025-04-01T00:00:00.000Z", "2025-04-02T00:00:00.000Z")
    assert "x_fimiscope_seen_from" not in inc


def test_a_derived_date_never_crosses_the_analysts() -> None:
    early, late = T0, T0 + timedelta(days=1)
    after = Incident(title="x", first_seen=T0 + timedelta(days=5))
    assert seen(after, [early, late]) == type(seen(after, []))(first=after.first_seen, last=after.first_seen,
                                                               derived=True)
    before = Incident(title="x", last_seen=T0 - timedelta(days=5))
    got = seen(before, [early, late])
    assert got.first == got.last == before.last_seen
    assert seen(Incident(title="x"), [None, late, early]) == seen(Incident(title="x"), [early, late])
    assert seen(Incident(title="x"), []).first is None
