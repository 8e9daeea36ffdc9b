"""`fimiscope incidents ...` and `fimiscope disarm ...`: documented incidents and the DISARM taxonomy."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import typer

from fimiscope.cases import disarm
from fimiscope.cases.confidence import INFORMATION_CREDIBILITY, SOURCE_RELIABILITY, admiralty
from fimiscope.cases.incidents import STATUSES, collect_changes, incident_json, proposed_techniques
from fimiscope.cases.tlp import parse_tlp
from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, plain, stdout
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Incident
from fimiscope.store import signals as signal_store
from fimiscope.store.cases import DisarmEntry, IncidentStore

incidents_app = typer.Typer(
    help="Incidents: documented manipulation, with DISARM techniques and TLP.", no_args_is_help=True
)
disarm_app = typer.Typer(help="The DISARM framework: tactics, techniques, counters.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(disarm_app, name="disarm")


def default_analyst() -> str:
    return os.environ.get("USER") or getpass.getuser() or "unknown"


def _techniques_text(inc: Incident, tax: disarm.Taxonomy) -> str:
    parts = []
    for tid in inc.techniques:
        entry = tax.entries.get(tid)
        parts.append(f"{tid} {entry.name}" if entry else f"{tid} (not in this release)")
    return "; ".join(parts) + (f"  [{tax.version}]" if parts else "")


def _show(inc: Incident, fmt: str, tax: disarm.Taxonomy, audit: list[Any] | None = None) -> None:
    if fmt == "json":
        data = incident_json(inc, tax.version)
        if audit is not None:
            data["audit"] = plain(audit)
        emit_json(data)
        return
    att = inc.attribution
    record = {
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "tlp": f"TLP:{inc.tlp.upper()}",
        "summary": inc.summary,
        "first seen": inc.first_seen,
        "last seen": inc.last_seen,
        "narratives": ", ".join(inc.narratives),
        "actors": "; ".join(
            f"{a.name} ({a.kind}{', aka ' + ', '.join(a.aliases) if a.aliases else ''})" for a in inc.actors
        ),
        "channels": "; ".join(f"{c.kind}:{c.value}" for c in inc.channels),
        "techniques": _techniques_text(inc, tax),
        "attribution": (
            f"{att.actor or '-'}: {att.confidence or 'no assessment'}"
            + (
                f", sources {admiralty(att.source_reliability, att.information_credibility)}"
                if att.source_reliability or att.information_credibility
                else ""
            )
            + (f" — {att.statement}" if att.statement else "")
        ),
        "impact": inc.impact,
        "signals": ", ".join(inc.signal_ids),
        "created by": inc.created_by,
        "updated": inc.updated_at,
    }
    emit_record(record, fmt, title=f"Incident {inc.id}")
    if audit:
        emit_list(
            audit,
            "table",
            [
                ("when", lambda a: a.at),
                ("who", lambda a: a.who),
                ("action", lambda a: a.action),
                ("field", lambda a: a.field),
                ("old", lambda a: a.old),
                ("new", lambda a: (a.new or {}).get("title") if a.action == "create" else a.new),
            ],
            title="Audit log",
        )


_TITLE = typer.Option(None, "--title", help="One-line title.")
_SUMMARY = typer.Option(None, "--summary", help="What happened, in a few sentences.")
_STATUS = typer.Option(None, "--status", help=", ".join(STATUSES))
_TLP = typer.Option(None, "--tlp", help="clear, green, amber, amber+strict or red (TLP 2.0).")
_FIRST = typer.Option(None, "--first-seen", help="First seen (YYYY-MM-DD or ISO time, UTC).")
_LAST = typer.Option(None, "--last-seen", help="Last seen (YYYY-MM-DD or ISO time, UTC).")
_NARR = typer.Option([], "--narrative", help="A narrative it pushes (repeatable).")
_TA = typer.Option([], "--threat-actor", help="NAME or NAME=alias1,alias2 (repeatable).")
_IS = typer.Option([], "--intrusion-set", help="NAME or NAME=alias1,alias2 (repeatable).")
_CAMP = typer.Option([], "--campaign", help="A named campaign it belongs to: NAME or NAME=alias1,alias2 (repeatable).")
_CH = typer.Option([], "--channel", help="outlet:NAME, account:PLATFORM:HANDLE, domain:DOMAIN or url:URL (repeatable).")
_AMP = typer.Option(
    [], "--amplifies", help="SOURCE>TARGET: one channel amplifies another, e.g. account:telegram:x>outlet:rt.com."
)
_TECH = typer.Option([], "--technique", help="DISARM technique id, e.g. T0049.001 (repeatable).")
_ATT_ACTOR = typer.Option(None, "--attributed-to", help="Who we assess is behind it.")
_CONF = typer.Option(None, "--confidence", help="Estimative language: almost no chance … almost certain.")
_REL = typer.Option(
    None, "--source-reliability", help="Admiralty A-F: " + ", ".join(f"{k} {v}" for k, v in SOURCE_RELIABILITY.items())
)
_CRED = typer.Option(
    None,
    "--info-credibility",
    help="Admiralty 1-6: " + ", ".join(f"{k} {v}" for k, v in INFORMATION_CREDIBILITY.items()),
)
_STMT = typer.Option(None, "--attribution-statement", help="The attribution as a sentence partners can quote.")
_IMPACT = typer.Option(None, "--impact", help="Impact notes.")
_WHO = typer.Option(None, "--analyst", "--actor", help="Name recorded in the audit log (default: $USER).")
_FMT = typer.Option("table", "--format", help="table or json")


@incidents_app.command("create")
def create(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", help="One-line title."),
    summary: str = typer.Option("", "--summary", help="What happened, in a few sentences."),
    status: str = typer.Option("open", "--status", help=", ".join(STATUSES)),
    tlp: str = typer.Option("amber", "--tlp", help="clear, green, amber, amber+strict or red (TLP 2.0)."),
    first_seen: str = _FIRST,
    last_seen: str = _LAST,
    narratives: list[str] = _NARR,
    threat_actors: list[str] = _TA,
    intrusion_sets: list[str] = _IS,
    campaigns: list[str] = _CAMP,
    channels: list[str] = _CH,
    amplifications: list[str] = _AMP,
    techniques: list[str] = _TECH,
    attribution_actor: str = _ATT_ACTOR,
    confidence: str = _CONF,
    source_reliability: str = _REL,
    info_credibility: str = _CRED,
    attribution_statement: str = _STMT,
    impact: str = typer.Option("", "--impact", help="The impact assessed, in a sentence or two."),
    signal_ids: list[str] = typer.Option([], "--signal", help="Signal id to link (repeatable); it becomes escalated."),
    who: str = _WHO,
    fmt: str = _FMT,
) -> None:
    """Open an incident (from one or more signals)."""
    check_format(fmt)
    store = open_store(ctx)
    tax = disarm.taxonomy(store)
    ch = collect_changes(
        tax,
        None,
        title=title,
        summary=summary,
        status=status,
        tlp=tlp,
        first_seen=first_seen,
        last_seen=last_seen,
        narratives=narratives,
        threat_actors=threat_actors,
        intrusion_sets=intrusion_sets,
        campaigns=campaigns,
        channels=channels,
        amplifications=amplifications,
        techniques=techniques,
        remove_techniques=[],
        attribution_actor=attribution_actor,
        confidence=confidence,
        source_reliability=source_reliability,
        info_credibility=info_credibility,
        attribution_statement=attribution_statement,
        impact=impact,
    )
    linked = list(dict.fromkeys(signal_ids))
    if not ch.get("techniques") and linked:
        details = []
        for sid in linked:
            try:
                details.append(store.read(signal_store.get_signal, sid).details)
            except NotFound:
                continue  # the store says which id is unknown when it links them
        ch["techniques"] = proposed_techniques(tax, details)
    inc = Incident(**ch, signal_ids=linked)
    inc = IncidentStore(store).create(inc, who or default_analyst())
    _show(inc, fmt, tax)


@incidents_app.command("list")
def list_(
    ctx: typer.Context,
    status: str = typer.Option(
        None, "--status", help="Only this status: open, investigating, confirmed, closed, dismissed."
    ),
    tlp: str = typer.Option(None, "--tlp", help="Only incidents with this TLP label."),
    limit: int = typer.Option(100, "--limit", help="At most this many incidents."),
    fmt: str = _FMT,
) -> None:
    """List incidents, most recently changed first."""
    check_format(fmt)
    store = open_store(ctx)
    tax = disarm.taxonomy(store)
    rows = IncidentStore(store).list(status=status, tlp=parse_tlp(tlp) if tlp else None, limit=limit)
    emit_list(
        rows,
        fmt,
        [
            ("id", lambda i: i.id),
            ("title", lambda i: i.title),
            ("status", lambda i: i.status),
            ("tlp", lambda i: f"TLP:{i.tlp.upper()}"),
            ("techniques", lambda i: ", ".join(i.techniques)),
            ("signals", lambda i: len(i.signal_ids)),
            ("updated", lambda i: i.updated_at),
        ],
        title=f"Incidents ({tax.version})",
        empty="No incidents yet: `fimiscope incidents create --title ...`.",
        to_json=lambda i: incident_json(i, tax.version),
    )


@incidents_app.command("show")
def show(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id (inc_...)."),
    fmt: str = _FMT,
) -> None:
    """One incident with its audit log."""
    check_format(fmt)
    store = open_store(ctx)
    incs = IncidentStore(store)
    _show(incs.get(incident_id), fmt, disarm.taxonomy(store), incs.audit(incident_id))


@incidents_app.command("update")
def update(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id (inc_...)."),
    title: str = _TITLE,
    summary: str = _SUMMARY,
    status: str = _STATUS,
    tlp: str = _TLP,
    first_seen: str = _FIRST,
    last_seen: str = _LAST,
    narratives: list[str] = _NARR,
    threat_actors: list[str] = _TA,
    intrusion_sets: list[str] = _IS,
    campaigns: list[str] = _CAMP,
    channels: list[str] = _CH,
    amplifications: list[str] = _AMP,
    techniques: list[str] = _TECH,
    remove_techniques: list[str] = typer.Option(
        [], "--remove-technique", help="Remove this DISARM technique id (repeatable)."
    ),
    attribution_actor: str = _ATT_ACTOR,
    confidence: str = _CONF,
    source_reliability: str = _REL,
    info_credibility: str = _CRED,
    attribution_statement: str = _STMT,
    impact: str = _IMPACT,
    who: str = _WHO,
    fmt: str = _FMT,
) -> None:
    """Change an incident. List options add to what is there; every change is audited."""
    check_format(fmt)
    store = open_store(ctx)
    tax = disarm.taxonomy(store)
    incs = IncidentStore(store)
    current = incs.get(incident_id)
    ch = collect_changes(
        tax,
        current,
        title=title,
        summary=summary,
        status=status,
        tlp=tlp,
        first_seen=first_seen,
        last_seen=last_seen,
        narratives=narratives,
        threat_actors=threat_actors,
        intrusion_sets=intrusion_sets,
        campaigns=campaigns,
        channels=channels,
        amplifications=amplifications,
        techniques=techniques,
        remove_techniques=remove_techniques,
        attribution_actor=attribution_actor,
        confidence=confidence,
        source_reliability=source_reliability,
        info_credibility=info_credibility,
        attribution_statement=attribution_statement,
        impact=impact,
    )
    if not ch:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    inc = incs.update(incident_id, who or default_analyst(), ch)
    _show(inc, fmt, tax)


@incidents_app.command("link-signal")
def link_signal(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id (inc_...)."),
    signal_ids: list[str] = typer.Argument(..., help="Signal ids; each becomes escalated."),
    who: str = _WHO,
    fmt: str = _FMT,
) -> None:
    """Link signals to an incident."""
    check_format(fmt)
    store = open_store(ctx)
    inc = IncidentStore(store).link_signals(incident_id, signal_ids, who or default_analyst())
    _show(inc, fmt, disarm.taxonomy(store))


# -- DISARM -------------------------------------------------------------------------------------


def _entry_json(e: DisarmEntry, version: str) -> dict[str, Any]:
    return {**plain(e), "disarm_version": version}


_ENTRY_COLUMNS = [
    ("id", lambda e: e.external_id),
    ("kind", lambda e: e.kind),
    ("name", lambda e: e.name),
    ("tactic", lambda e: e.tactic),
]


@disarm_app.command("list")
def disarm_list(
    ctx: typer.Context,
    tactic: str = typer.Option(None, "--tactic", help="Tactic id (TA05) or name."),
    kind: str = typer.Option("technique", "--kind", help="tactic, technique, counter, detection, actor-type"),
    fmt: str = _FMT,
) -> None:
    """List techniques (or another kind) of the DISARM release in use."""
    check_format(fmt)
    tax = disarm.taxonomy(open_store(ctx))
    rows = tax.list(kind=kind, tactic=tactic)
    emit_list(rows, fmt, _ENTRY_COLUMNS, title=tax.version, to_json=lambda e: _entry_json(e, tax.version))


@disarm_app.command("show")
def disarm_show(
    ctx: typer.Context, external_id: str = typer.Argument(..., help="DISARM id, e.g. T0049."), fmt: str = _FMT
) -> None:
    """One DISARM entry by id (T0049, T0049.001, TA05, C00006…)."""
    check_format(fmt)
    tax = disarm.taxonomy(open_store(ctx))
    e = tax.get(external_id)
    emit_record(_entry_json(e, tax.version), fmt, title=tax.version)


@disarm_app.command("search")
def disarm_search(
    ctx: typer.Context,
    words: list[str] = typer.Argument(..., help="Words to look for in the DISARM names and descriptions."),
    fmt: str = _FMT,
) -> None:
    """Entries whose id, name or description hold all the words."""
    check_format(fmt)
    tax = disarm.taxonomy(open_store(ctx))
    rows = tax.search(" ".join(words))
    emit_list(
        rows,
        fmt,
        _ENTRY_COLUMNS,
        title=tax.version,
        to_json=lambda e: _entry_json(e, tax.version),
        empty="No match.",
    )


@disarm_app.command("import")
def disarm_import(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="DISARM's STIX 2.1 bundle (e.g. DISARM.json from disarm-stix-17)."),
    version: str = typer.Option(None, "--version", help="Release name, e.g. v1.7 (default: from the file name)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Load a DISARM release from its STIX bundle and use it from now on."""
    check_format(fmt)
    used, count = disarm.import_release(open_store(ctx), path, version)
    if fmt == "json":
        emit_json({"version": used, "entries": count, "in_use": True})
        return
    stdout.print(f"{used}: {count} entries imported; now in use.")
