"""The incident pages: the list, the form that opens one (from signals in the triage queue or
on a signal's page), the editor (TLP, attribution, DISARM picker, actors, channels, linked
signals, audit log, STIX export) and the self-contained incident report."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fimiscope.api.auth import require
from fimiscope.api.incidents import check_signals, create_incident, update_incident
from fimiscope.cases import disarm
from fimiscope.cases.confidence import ESTIMATIVE, INFORMATION_CREDIBILITY, SOURCE_RELIABILITY, admiralty
from fimiscope.cases.incidents import STATUSES, check_status, parse_actor, parse_channel
from fimiscope.cases.seen import incident_seen
from fimiscope.cases.tlp import TLP_LEVELS, parse_tlp
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Incident, Signal
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import workbench as wb
from fimiscope.store.cases import IncidentStore
from fimiscope.store.share import ShareStore
from fimiscope.store.users import User
from fimiscope.web.clusters import signal_evidence
from fimiscope.web.evidence import CitedDocument, chain_graph_svg, chain_members, cited_documents, clean, timeline_svg
from fimiscope.web.nav import add_nav
from fimiscope.web.render import fmt_time
from fimiscope.web.reports import bar_chart_svg, pdf_response, render_report

# What each TLP 2.0 label means, in FIRST's words, shown beside the picker and in reports.
TLP_MEANING = {
    "clear": "Disclosure is not limited.",
    "green": "Limited disclosure: the recipient's community, not public channels.",
    "amber": "Limited disclosure: the recipient's organisation and its clients, on a need-to-know basis.",
    "amber+strict": "Limited disclosure: the recipient's organisation only.",
    "red": "For the eyes and ears of the individual recipients only, no further disclosure.",
}
ACTOR_BOXES = (("threat_actors", "threat-actor"), ("intrusion_sets", "intrusion-set"), ("campaigns", "campaign"))
TEXT_FIELDS = (
    "title", "summary", "status", "tlp", "first_seen", "last_seen", "narratives", "threat_actors", "intrusion_sets",
    "campaigns", "channels", "amplifications", "attribution_actor", "confidence", "source_reliability",
    "information_credibility", "statement", "impact",
)
PAGE_SIZE = 50
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def form_values(inc: Incident) -> dict[str, Any]:
    """The incident as the editor's fields hold it (lists one per line, CLI syntax)."""
    att = inc.attribution
    values: dict[str, Any] = {
        "title": inc.title,
        "summary": inc.summary,
        "status": inc.status,
        "tlp": inc.tlp,
        "first_seen": inc.first_seen.date().isoformat() if inc.first_seen else "",
        "last_seen": inc.last_seen.date().isoformat() if inc.last_seen else "",
        "narratives": "\n".join(inc.narratives),
        "channels": "\n".join(f"{c.kind}:{c.value}" for c in inc.channels),
        "amplifications": "\n".join(f"{c.kind}:{c.value}>{t}" for c in inc.channels for t in c.amplifies),
        "attribution_actor": att.actor or "",
        "confidence": att.confidence or "",
        "source_reliability": att.source_reliability or "",
        "information_credibility": att.information_credibility or "",
        "statement": att.statement,
        "impact": inc.impact,
        "techniques": list(inc.techniques),
    }
    for box, kind in ACTOR_BOXES:
        values[box] = "\n".join(
            a.name + ("=" + ", ".join(a.aliases) if a.aliases else "") for a in inc.actors if a.kind == kind
        )
    return values


def submitted_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(form.get(k) or "") for k in TEXT_FIELDS}
    values["techniques"] = [str(t) for t in form.getlist("techniques") if str(t).strip()]
    return values


def fields_from_form(values: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The REST fields for what the analyst changed in the form (unchanged boxes are left out,
    so saving the editor never writes audit rows for what nobody touched)."""

    def changed(*keys: str) -> bool:
        return any(str(values.get(k, "")).strip() != str(before.get(k, "")).strip() for k in keys)

    fields: dict[str, Any] = {}
    for key in ("title", "summary", "status", "tlp", "first_seen", "last_seen", "impact"):
        if changed(key):
            fields[key] = values[key]
    if changed("narratives"):
        fields["narratives"] = _lines(values["narratives"])
    if changed(*(box for box, _ in ACTOR_BOXES)):
        actors = []
        for box, kind in ACTOR_BOXES:
            for line in _lines(values[box]):
                a = parse_actor(line, kind)
                actors.append({"name": a.name, "kind": a.kind, "aliases": a.aliases})
        fields["actors"] = actors
    if changed("channels", "amplifications"):
        channels: dict[str, dict[str, Any]] = {}
        for line in _lines(values["channels"]):
            c = parse_channel(line)
            channels.setdefault(f"{c.kind}:{c.value}", {"kind": c.kind, "value": c.value, "amplifies": []})
        for line in _lines(values["amplifications"]):
            src_text, sep, dst = line.partition(">")
            if not sep:
                raise InvalidInput(f"amplification {line!r} should be SOURCE>TARGET, e.g. account:x>outlet:rt.com")
            src = parse_channel(src_text.strip())
            empty = {"kind": src.kind, "value": src.value, "amplifies": []}
            entry = channels.setdefault(f"{src.kind}:{src.value}", empty)
            entry["amplifies"].append(dst.strip())
        fields["channels"] = list(channels.values())
    if values["techniques"] != before.get("techniques"):
        fields["techniques"] = values["techniques"]
    att_keys = {"attribution_actor": "actor", "confidence": "confidence", "source_reliability": "source_reliability",
                "information_credibility": "information_credibility", "statement": "statement"}
    att = {name: values[key] for key, name in att_keys.items() if changed(key)}
    if att:
        fields["attribution"] = att
    return fields


def _technique_rows(tax: disarm.Taxonomy, ids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for tid in ids:
        e = tax.entries.get(tid)
        rows.append({"id": tid, "name": e.name if e else "not in this DISARM release", "tactic": e.tactic if e else "",
                     "url": disarm.technique_url(tid, e)})
    return rows


def audit_text(value: Any) -> str:
    """An audit value, short enough for a table cell."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(
            (f"{v.get('kind', '')}:{v.get('value', v.get('name', ''))}" if isinstance(v, dict) else str(v))
            for v in value
        )
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, "", [])) or "—"
    if isinstance(value, str) and ISO_TIME.match(value):
        return fmt_time(value)  # a first / last seen change: minutes, not microseconds
    return clean(str(value))


def _fetched_by_partners(store: Store, inc: Incident) -> list[dict[str, Any]]:
    """Which partner fetched which version of this incident over TAXII (what was pulled stays pulled)."""
    rows = ShareStore(store).access_log(stix_ids=[inc.stix_id] if inc.stix_id else [])
    for r in rows:
        r["tlp"] = TLP_LEVELS[r["tlp_rank"]]
    return rows


def _signals(store: Store, ids: list[str]) -> list[Signal]:
    out = []
    for sid in ids:
        try:
            out.append(store.read(signal_store.get_signal, sid))
        except NotFound:
            continue
    return out


def incident_report_html(request: Request, store: Store, inc: Incident) -> str:
    tax = disarm.taxonomy(store)
    sigs = _signals(store, inc.signal_ids)
    chart = bar_chart_svg([f"{s.type}: {s.title}" for s in sigs], [float(s.score) for s in sigs],
                          label="scores of the linked signals")
    att = inc.attribution
    linked, timeline = report_evidence(store, sigs)
    return render_report(
        request,
        "report_incident.html",
        inc=inc,
        techniques=_technique_rows(tax, inc.techniques),
        disarm_version=tax.version,
        signals=sigs,
        linked=linked,
        numbers={s.id: n for n, s in enumerate(sigs, start=1)},
        timeline=timeline,
        timeline_chart=timeline_svg(timeline),
        audit=IncidentStore(store).audit(inc.id or ""),
        audit_text=audit_text,
        admiralty=admiralty(att.source_reliability, att.information_credibility),
        tlp_meaning=TLP_MEANING[inc.tlp],
        chart=chart,
        seen=incident_seen(store, inc, sigs),
    )


def _member_documents(store: Store, sig: Signal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in (sig.details or {}).get("members") or [] if sig.type == "laundering" else []:
        with contextlib.suppress(NotFound):
            out[m["document_id"]] = store.read(document_store.get_document, m["document_id"])
    return out


def report_evidence(store: Store, sigs: list[Signal]) -> tuple[list[dict[str, Any]], list[CitedDocument]]:
    """Per linked signal what a partner checks (the documents it cites, its chain as a graph,
    the copy beside what it copied), and every cited document once, in publication order."""
    linked: list[dict[str, Any]] = []
    seen_docs: dict[str, CitedDocument] = {}
    for n, sig in enumerate(sigs, start=1):
        cited = cited_documents(sig, wb.signal_documents(store, sig))
        for d in [*cited, *chain_members(sig, _member_documents(store, sig))]:
            d.signals.append(n)
            held = seen_docs.setdefault(d.document_id, d)
            if held is not d:
                held.signals.append(n)
                held.roles += [r for r in d.roles if r not in held.roles]
        linked.append({"n": n, "sig": sig, "documents": cited, "graph": chain_graph_svg(sig),
                       "aligned": signal_evidence(store, sig)})
    timeline = sorted(seen_docs.values(), key=lambda d: (d.published is None, d.published or 0))
    return linked, timeline


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    templates = app.state.templates
    templates.env.filters.setdefault("audit_text", audit_text)
    viewer = require("viewer")
    analyst = require("analyst")
    incs = IncidentStore(store)
    add_nav(app, "Incidents", "/incidents", order=50)

    def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        resp: Response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
        return resp

    def choices() -> dict[str, Any]:
        return {"statuses": STATUSES, "tlp_levels": TLP_LEVELS, "tlp_meaning": TLP_MEANING,
                "estimative": list(ESTIMATIVE), "reliability": SOURCE_RELIABILITY,
                "credibility": INFORMATION_CREDIBILITY}

    @app.get("/incidents", response_class=HTMLResponse, include_in_schema=False)
    def incidents_page(
        request: Request, status: str = "", tlp: str = "", offset: int = Query(0, ge=0), _u: User = viewer
    ) -> Response:
        label = parse_tlp(tlp) if tlp else None
        wanted = check_status(status) if status else None
        items = incs.list(status=wanted, tlp=label, limit=PAGE_SIZE, offset=offset)
        page = wb.Page(items, incs.count(status=wanted, tlp=label), PAGE_SIZE, offset)
        return render(request, "incidents.html", page=page, params={"status": status, "tlp": label or ""},
                      **choices())

    def new_form(request: Request, values: dict[str, Any], signal_ids: list[str], error: str | None = None,
                 status_code: int = 200) -> Response:
        return render(request, "incident_new.html", status_code, values=values, signals=_signals(store, signal_ids),
                      error=error, **choices())

    @app.get("/incidents/new", response_class=HTMLResponse, include_in_schema=False)
    def incident_new(request: Request, signal: list[str] = Query([]), _u: User = analyst) -> Response:
        ids = check_signals(store, signal)
        sigs = _signals(store, ids)
        values = {"title": sigs[0].title if sigs else "", "summary": "\n\n".join(s.summary for s in sigs if s.summary),
                  "status": "open", "tlp": "amber"}
        return new_form(request, values, ids)

    @app.post("/incidents", include_in_schema=False)
    async def incident_create(request: Request, user: User = analyst) -> Response:
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("title", "summary", "status", "tlp")}
        values["tlp"] = values["tlp"] or "amber"  # a new incident nobody labelled is AMBER, as over REST and CLI
        signal_ids = [str(s) for s in form.getlist("signal_ids")]
        try:
            inc = create_incident(store, dict(values), signal_ids, user.name)
        except InvalidInput as exc:
            return new_form(request, values, [s for s in signal_ids if _signals(store, [s])], str(exc), 422)
        return RedirectResponse(f"/incidents/{inc.id}", status_code=303)

    def editor(request: Request, inc: Incident, values: dict[str, Any] | None = None, error: str | None = None,
               status_code: int = 200) -> Response:
        tax = disarm.taxonomy(store)
        values = values or form_values(inc)
        return render(
            request, "incident.html", status_code,
            inc=inc, values=values, error=error, saved=request.query_params.get("saved") == "1",
            techniques=_technique_rows(tax, values["techniques"]), disarm_version=tax.version,
            signals=_signals(store, inc.signal_ids), audit=list(reversed(incs.audit(inc.id or ""))),
            fetched=_fetched_by_partners(store, inc),
            admiralty=admiralty(inc.attribution.source_reliability, inc.attribution.information_credibility),
            **choices(),
        )

    @app.get("/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
    def incident_page(request: Request, incident_id: str, _u: User = viewer) -> Response:
        return editor(request, incs.get(incident_id))

    @app.post("/incidents/{incident_id}", include_in_schema=False)
    async def incident_save(request: Request, incident_id: str, user: User = analyst) -> Response:
        current = incs.get(incident_id)
        form = await request.form()
        values = submitted_values(form)
        opened = str(form.get("version") or "")
        if opened and current.updated_at and opened != current.updated_at.isoformat():
            # Someone saved since this form was opened: saving blindly would undo their change.
            return editor(request, current, values, "someone changed this incident since you opened it (see the "
                          "audit log); your edits are still in the form: save again to apply them over theirs", 409)
        try:
            inc = update_incident(store, incident_id, fields_from_form(values, form_values(current)), user.name)
        except InvalidInput as exc:
            return editor(request, current, values, str(exc), 422)
        return RedirectResponse(f"/incidents/{inc.id}?saved=1", status_code=303)

    @app.post("/incidents/{incident_id}/signals", include_in_schema=False)
    async def incident_link(request: Request, incident_id: str, user: User = analyst) -> Response:
        current = incs.get(incident_id)
        form = await request.form()
        ids = str(form.get("signal_ids") or "").replace(",", " ").split()
        try:
            if not ids:
                raise InvalidInput("give one or more signal ids to link")
            incs.link_signals(incident_id, check_signals(store, ids), user.name)
        except InvalidInput as exc:
            return editor(request, current, None, str(exc), 422)
        return RedirectResponse(f"/incidents/{current.id}?saved=1#linked-signals", status_code=303)

    @app.get("/signals/{signal_id}/incidents", response_class=HTMLResponse, include_in_schema=False)
    def signal_incidents(request: Request, signal_id: str, _u: User = viewer) -> Response:
        store.read(signal_store.get_signal, signal_id)
        return render(request, "_signal_incidents.html", signal_id=signal_id, items=incs.for_signal(signal_id))

    @app.get("/reports/incidents/{incident_id}.html", tags=["reports"], response_class=HTMLResponse,
             summary="Self-contained HTML report of an incident")
    def incident_report(request: Request, incident_id: str, download: bool = False, _u: User = viewer) -> Response:
        inc = incs.get(incident_id)
        headers = {"Content-Disposition": f'attachment; filename="incident-{inc.id}.html"'} if download else {}
        return HTMLResponse(incident_report_html(request, store, inc), headers=headers)

    @app.get("/reports/incidents/{incident_id}.pdf", tags=["reports"], summary="PDF report of an incident "
             "(needs Chromium)")
    def incident_report_pdf(request: Request, incident_id: str, _u: User = viewer) -> Response:
        inc = incs.get(incident_id)
        return pdf_response(request, incident_report_html(request, store, inc), f"incident-{inc.id}.pdf")
