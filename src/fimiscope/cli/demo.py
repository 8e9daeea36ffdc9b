"""`fimiscope demo`: the fictional scenario, stored, run through every stage, summarised."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from fimiscope import pipeline
from fimiscope.cli.app import app, settings
from fimiscope.cli.output import check_format, emit_json, progress, stderr, stdout
from fimiscope.config import Settings, is_set
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import stats as stats_store

DEMO_DIR = Path("fimiscope-demo")


def _demo_settings(ctx: typer.Context) -> Settings:
    """The user's store if they named one; otherwise ./fimiscope-demo, never their real data folder."""
    cfg = settings(ctx)
    root = ctx.find_root()
    named = (
        root.params.get("data_dir") is not None
        or bool(root.params.get("database_url"))
        or is_set("FIMISCOPE_DATA_DIR")
        or is_set("FIMISCOPE_DATABASE_URL")
    )
    if not named:
        cfg.data_dir = DEMO_DIR
    return cfg


def load_scenario(store: Store, seed: int, scale: float, settings: Settings | None = None) -> dict[str, Any]:
    """Store the scenario's sources, documents and (when the claims room is present) claims."""
    from fimiscope.demo.scenario import NETWORK_SITES, STATE_OUTLETS, build_scenario

    scenario = build_scenario(seed=seed, scale=scale)
    created, _updated = store.write(source_store.merge_sources, scenario.sources)
    # The state outlets and the network that launders them are collected the way an analyst
    # would collect them: RSS feeds and article pages over HTTP (on loopback). The rest of the
    # scenario (independent outlets, social accounts) is imported as a dump would be.
    web = {d for d, *_ in STATE_OUTLETS} | {d for d, _ in NETWORK_SITES}
    served = [d for d in scenario.documents if d.url and d.source in web]
    report = pipeline.ingest(store, (d for d in scenario.documents if not (d.url and d.source in web)))
    collected = collect_over_loopback(store, scenario.sources, served, sorted(web), settings or Settings())
    loaded: dict[str, Any] = {"sources_created": created, "documents_new": report.new + collected["new"],
                              "documents_unchanged": report.unchanged + collected["unchanged"],
                              "collected_over_http": collected["items"], "collect_errors": collected["errors"],
                              "claims": load_claims(store, scenario.claims),
                              "narratives": load_narratives(store, scenario.truth.get("narratives") or {})}
    return loaded


def load_narratives(store: Store, planted: dict[str, Any]) -> int:
    """The demo's known narratives, defined as an analyst would (docs/narratives.md)."""
    from fimiscope.store import narratives as narrative_store

    return store.write(narrative_store.define_known, planted.get("known", []), origin="demo")


def load_claims(store: Store, rows: list[dict[str, Any]]) -> int:
    """The scenario's debunk database, through the same EUvsDisinfo-shaped mapping as real files."""
    from fimiscope.collect.claims_import import claim_from_mapping
    from fimiscope.store.claims import upsert_claims

    mapping = {"id": "id", "text": "summary", "title": "title", "debunk": "disproof", "debunk_url": "debunk_url",
               "published_at": "date", "keywords": "keywords", "language": "language", "outlets": "outlets"}
    items = []
    for i, row in enumerate(rows, start=1):
        imp = claim_from_mapping(row, mapping, by="fimiscope demo (fictional debunks)", where="demo", record=i)
        items.append((imp.claim, {"outlets": imp.outlets, "links": imp.links, "provenance": imp.provenance,
                                  "countries": imp.countries}))
    upsert_claims(store, items)
    return len(items)


def collect_over_loopback(
    store: Store, sources: list[Any], docs: list[Any], domains: list[str], settings: Settings
) -> dict[str, int]:
    """Serve ``docs`` as feeds + pages on 127.0.0.1 and collect them with the rss connector."""
    from fimiscope.collect import runner  # the fetcher's modules load only for the commands that use them
    from fimiscope.demo.server import ScenarioServer

    # The demo's own loopback server, nothing else: private addresses allowed, no politeness pause.
    cfg = dataclasses.replace(settings, allow_private_networks=True, fetch_delay=0.0)
    totals = {"items": 0, "new": 0, "unchanged": 0, "errors": 0}
    with ScenarioServer(sources, docs) as server:
        for domain in domains:
            src = store.read(source_store.get_source, domain)
            src.kind, src.location = "rss", server.feed_url(domain)
            src.metadata = {**src.metadata, "served_by": "fimiscope demo (loopback, only while it runs)"}
            store.write(source_store.add_source, src, replace=True)
        for rep in runner.collect(store, cfg, domains):
            totals["items"] += rep.items
            totals["new"] += rep.new
            totals["unchanged"] += rep.unchanged
            totals["errors"] += len(rep.item_errors) + (1 if rep.error else 0)
    return totals


def summary(store: Store) -> dict[str, Any]:
    stats = store.read(stats_store.stats)
    by_type = Counter(stats["signals_by_type"])
    top = [sig for kind in sorted(by_type) for sig in store.read(signal_store.list_signals, type=kind, limit=3)]
    return {
        "database": stats["database"],
        "documents": stats["documents"],
        "documents_by_language": stats["documents_by_language"],
        "sources": stats["sources"],
        "sources_by_affiliation": stats["sources_by_affiliation"],
        "signals": stats["signals"],
        "signals_by_type": dict(by_type),
        "top_signals": [{"id": s.id, "type": s.type, "score": round(s.score, 3), "title": s.title} for s in top],
    }


@app.command("demo")
def demo(
    ctx: typer.Context,
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same scenario."),
    scale: float = typer.Option(1.0, "--scale", min=0.01, max=20.0, help="1.0 gives about 3,000 documents."),
    serve: bool = typer.Option(False, "--serve", help="Then open the analyst's workbench on the demo data."),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: address to listen on."),
    port: int = typer.Option(8000, "--port", help="With --serve: port to listen on."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Build a FICTIONAL scenario, store it, run every stage and summarise what was found."""
    check_format(fmt)
    cfg = _demo_settings(ctx)
    store = Store.from_settings(cfg)
    where = cfg.database_url or str(cfg.data_dir.resolve())
    stderr.print(f"fimiscope demo: fictional scenario (seed {seed}) into {where}")
    with progress("building and storing the scenario") as update:
        loaded = load_scenario(store, seed, scale, cfg)
        update(1, 1)
    reports = []
    for cls in pipeline.stages():
        with progress(cls.name) as update:
            reports.extend(pipeline.run(store, only=[cls.name], settings=cfg, on_stage=lambda _c: update))
    result = {"data": where, "loaded": loaded, "stages": [{"stage": r.stage, "processed": r.processed,
                                                           "signals": r.signals} for r in reports]}
    result.update(summary(store))
    if fmt == "json":
        emit_json(result)
    else:
        _print_summary(result, cfg)
    if serve:
        _serve(store, cfg, host, port)


def _serve(store: Store, cfg: Settings, host: str, port: int) -> None:
    """A fresh demo login each time (the data is fictional), then the workbench until Ctrl-C."""
    import contextlib
    import secrets

    from fimiscope.cli.serve import serve as run_workbench
    from fimiscope.core.errors import NotFound
    from fimiscope.store.users import add_user, remove_user

    password = secrets.token_urlsafe(9)
    with contextlib.suppress(NotFound):
        remove_user(store, "demo")
    add_user(store, "demo", password, role="admin")
    stdout.print(f"\n[bold]workbench:[/] http://{host}:{port}/   login: demo   password: {password}")
    stdout.print("(Ctrl-C stops it)")
    run_workbench(cfg, host=host, port=port, worker=False)


def _print_summary(result: dict[str, Any], cfg: Settings) -> None:
    stdout.print("[bold]fimiscope demo[/] — everything below is FICTIONAL (outlets, people, claims).")
    stdout.print(f"store: {result['data']}")
    stdout.print(f"documents: {result['documents']:,} "
                 + ", ".join(f"{k} {v:,}" for k, v in result["documents_by_language"].items()))
    stdout.print("sources: " + ", ".join(f"{k} {v}" for k, v in result["sources_by_affiliation"].items()))
    stdout.print(f"signals: {result['signals']:,} "
                 + ", ".join(f"{k} {v:,}" for k, v in result["signals_by_type"].items()))
    for sig in result["top_signals"]:
        stdout.print(f"  {sig['score']:.2f}  {sig['type']:<12} {sig['title']}  ({sig['id']})", markup=False)
    flag = "" if cfg.database_url else f" --data-dir {cfg.data_dir}"
    stdout.print("\nwhere to look next:")
    stdout.print(f"  fimiscope{flag} signals list")
    stdout.print(f"  fimiscope{flag} signals show <id>")
    stdout.print(f"  fimiscope{flag} sources list --flagged")
    stdout.print(f'  fimiscope{flag} search "biolab"')
    stdout.print(f"  fimiscope{flag} demo --serve      # the workbench in your browser")
