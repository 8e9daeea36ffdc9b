"""REST API of incidents: list, open (from signals), read, change, link signals, the audit log,
the DISARM technique search behind the editor's picker, and STIX 2.1 bundle exports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from fimiscope.api.auth import require
from fimiscope.api.rest import page_json
from fimiscope.cases import disarm
from fimiscope.cases.incidents import check_status, incident_json, proposed_techniques, replace_changes
from fimiscope.cases.tlp import parse_tlp
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Incident
from fimiscope.core.serialize import plain
from fimiscope.share.stix import export_bundle
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store import workbench as wb
from fimiscope.store.cases import DisarmEntry, IncidentStore
from fimiscope.store.users import User

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActorIn(_Strict):
    name: str
    kind: str = Field("threat-actor", description="threat-actor, intrusion-set or campaign")
    aliases: list[str] = []
    description: str | None = Field(None, description="Left out: the stored description is kept.")


class ChannelIn(_Strict):
    kind: str = Field(description="outlet, account, domain or url")
    value: str = Field(description="e.g. rt.com, telegram:rybar, pravda-fr.com, https://…")
    amplifies: list[str] = Field([], description='Channels it amplifies, as "kind:value".')


class AttributionIn(_Strict):
    actor: str | None = None
    confidence: str | None = Field(None, description="Estimative language: almost no chance … almost certain.")
    source_reliability: str | None = Field(None, description="Admiralty A-F")
    information_credibility: str | None = Field(None, description="Admiralty 1-6")
    statement: str | None = None


class IncidentChange(_Strict):
    """Every field given replaces the stored one (lists too); ``attribution`` merges by field."""

    title: str | None = None
    summary: str | None = None
    status: str | None = Field(None, description="open, investigating, confirmed, closed or dismissed")
    tlp: str | None = Field(None, description="clear, green, amber, amber+strict or red (TLP 2.0)")
    first_seen: str | None = None
    last_seen: str | None = None
    narratives: list[str] | None = None
    actors: list[ActorIn] | None = None
    channels: list[ChannelIn] | None = None
    techniques: list[str] | None = Field(None, description="DISARM technique ids, e.g. T0049.001")
    attribution: AttributionIn | None = None
    impact: str | None = None


class IncidentNew(IncidentChange):
    title: str
    signal_ids: list[str] = Field([], max_length=10_000, description="Signals to link; each becomes escalated.")


class SignalLinks(_Strict):
    signal_ids: list[str] = Field(min_length=1, max_length=10_000)


def check_signals(store: Store, ids: Sequence[str]) -> list[str]:
    """The ids once each, in order; an unknown one is invalid input (the incident is not lost)."""
    out = list(dict.fromkeys(s.strip() for s in ids if s.strip()))
    for sid in out:
        try:
            store.read(signal_store.get_signal, sid)
        except NotFound:
            raise InvalidInput(f"no signal {sid!r} to link (see /api/signals)") from None
    return out


def create_incident(store: Store, fields: dict[str, Any], signal_ids: Sequence[str], who: str) -> Incident:
    tax = disarm.taxonomy(store)
    ch = replace_changes(tax, None, fields)
    ids = check_signals(store, signal_ids)
    if not ch.get("techniques"):
        ch["techniques"] = proposed_techniques(tax, [store.read(signal_store.get_signal, s).details for s in ids])
    inc = Incident(**ch, signal_ids=ids)
    return IncidentStore(store).create(inc, who)


def update_incident(store: Store, incident_id: str, fields: dict[str, Any], who: str) -> Incident:
    incs = IncidentStore(store)
    current = incs.get(incident_id)
    assert current.id is not None
    if not fields:
        return current
    ch = replace_changes(disarm.taxonomy(store), current, fields)
    return incs.update(current.id, who, ch)


def disarm_json(e: DisarmEntry) -> dict[str, Any]:
    return {"id": e.external_id, "name": e.name, "tactic": e.tactic, "kind": e.kind, "parent": e.parent,
            "url": disarm.technique_url(e.external_id, e), "description": e.description}


def stix_response(bundle: dict[str, Any], filename: str) -> Response:
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        media_type=STIX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api")
    viewer = require("viewer")
    analyst = require("analyst")
    incs = IncidentStore(store)

    def one(incident_id: str) -> dict[str, Any]:
        return incident_json(incs.get(incident_id), disarm.taxonomy(store).version)

    @router.get("/incidents", tags=["incidents"], summary="Incidents, most recently changed first")
    def incidents_list(
        status: str | None = Query(None, description="open, investigating, confirmed, closed or dismissed"),
        tlp: str | None = Query(None, description="clear, green, amber, amber+strict or red"),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        label = parse_tlp(tlp) if tlp else None
        status = check_status(status) if status else None
        version = disarm.taxonomy(store).version
        items = incs.list(status=status, tlp=label, limit=limit, offset=offset)
        page = wb.Page(items, incs.count(status=status, tlp=label), limit, offset)
        return page_json(page, [incident_json(i, version) for i in items])

    @router.post("/incidents", tags=["incidents"], status_code=201, summary="Open an incident (analyst)")
    def incidents_create(body: IncidentNew, user: User = analyst) -> dict[str, Any]:
        fields = body.model_dump(exclude_unset=True)
        fields["title"] = body.title
        signal_ids = fields.pop("signal_ids", [])
        inc = create_incident(store, fields, signal_ids, user.name)
        return incident_json(inc, disarm.taxonomy(store).version)

    @router.get("/incidents/{incident_id}", tags=["incidents"], summary="One incident")
    def incidents_show(incident_id: str, _u: User = viewer) -> dict[str, Any]:
        return one(incident_id)

    @router.patch("/incidents/{incident_id}", tags=["incidents"], summary="Change an incident (analyst)")
    def incidents_update(incident_id: str, body: IncidentChange, user: User = analyst) -> dict[str, Any]:
        inc = update_incident(store, incident_id, body.model_dump(exclude_unset=True), user.name)
        return incident_json(inc, disarm.taxonomy(store).version)

    @router.post("/incidents/{incident_id}/signals", tags=["incidents"], summary="Link signals (analyst)")
    def incidents_link(incident_id: str, body: SignalLinks, user: User = analyst) -> dict[str, Any]:
        incs.get(incident_id)  # 404 before looking at the signals
        inc = incs.link_signals(incident_id, check_signals(store, body.signal_ids), user.name)
        return incident_json(inc, disarm.taxonomy(store).version)

    @router.get("/incidents/{incident_id}/audit", tags=["incidents"], summary="Who changed what, oldest first")
    def incidents_audit(
        incident_id: str, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0), _u: User = viewer
    ) -> dict[str, Any]:
        rows = incs.audit(incident_id)
        page = wb.Page(rows[offset : offset + limit], len(rows), limit, offset)
        return page_json(page, [plain(r) for r in page.items])

    @router.get("/incidents/{incident_id}/stix", tags=["exports"], summary="The incident as a STIX 2.1 bundle",
                response_class=Response, responses={200: {"content": {STIX_MEDIA_TYPE: {}}}})
    def incidents_stix(incident_id: str, _u: User = viewer) -> Response:
        inc = incs.get(incident_id)
        return stix_response(export_bundle(store, inc.id), f"incident-{inc.id}.stix.json")

    @router.get("/exports/stix", tags=["exports"], summary="STIX 2.1 bundle of one incident, or of all",
                response_class=Response, responses={200: {"content": {STIX_MEDIA_TYPE: {}}}})
    def exports_stix(
        incident: str | None = Query(None, description="An incident id; without it, every incident."),
        _u: User = viewer,
    ) -> Response:
        if incident:
            inc = incs.get(incident)
            return stix_response(export_bundle(store, inc.id), f"incident-{inc.id}.stix.json")
        return stix_response(export_bundle(store), "fimiscope-incidents.stix.json")

    @router.get("/disarm", tags=["incidents"], summary="DISARM entries: search (q) or list, for the technique picker")
    def disarm_search(
        q: str | None = Query(None, description="Words or an id (T0049, 'hashtag'); without it, the whole list."),
        kind: str = Query("technique", description="technique (with sub-techniques), tactic, counter, detection, "
                          "actor-type"),
        tactic: str | None = Query(None, description="Tactic id (TA05) or name."),
        limit: int = Query(20, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        _u: User = viewer,
    ) -> dict[str, Any]:
        tax = disarm.taxonomy(store)
        wanted = {kind, "sub-technique"} if kind == "technique" else {kind}
        if q and q.strip():
            rows = [e for e in tax.search(q) if e.kind in wanted]
            if tactic:
                name = tax.tactic_name(tactic).lower()
                rows = [e for e in rows if (e.tactic or "").lower() == name]
        else:
            rows = tax.list(kind=kind, tactic=tactic)
        page = wb.Page(rows[offset : offset + limit], len(rows), limit, offset)
        return {**page_json(page, [disarm_json(e) for e in page.items]), "disarm_version": tax.version}

    app.include_router(router)
