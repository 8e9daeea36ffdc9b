"""`fimiscope infrastructure groups|show|fingerprint|lookup`, `fimiscope detect infrastructure`
and `fimiscope indicators import`: sites run by the same hands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from fimiscope.cli.app import app, detect_app, open_store, run_stages, settings
from fimiscope.cli.output import check_format, emit_json, emit_list, progress, stderr, stdout
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db

infra_app = typer.Typer(help="Shared infrastructure: site groups, fingerprints, look-ups.", no_args_is_help=True)
app.add_typer(infra_app, name="infrastructure")
indicators_app = typer.Typer(help="Indicator files (Laundromat, CSV, passive DNS, WHOIS).", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")

STAGES = ["extract.fingerprints", "detect.infrastructure"]


def run_lookups(store: Store, cfg: Settings, sites: list[str], kinds: list[str] | None = None,
                on_site: Callable[[str], None] | None = None) -> int:
    """Look up ``sites`` (DNS, TLS, favicon) and store every look-up with its time, one
    transaction per look-up (an interrupted run keeps what it did); returns look-ups made."""
    from fimiscope.collect.lookups import LOOKUPS, NetworkLookups

    made = 0
    with NetworkLookups.from_settings(cfg) as net:
        for site in sites:
            for rec in net.lookup(site, kinds or list(LOOKUPS)):
                with store.transaction() as conn:
                    infra_db.record_lookup(conn, site, rec.lookup, rec.at, rec.ok, rec.error, rec.found, rec.raw)
                made += 1
            if on_site:
                on_site(site)
    return made


@detect_app.command("infrastructure")
def detect_infrastructure(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Read fingerprints from new pages, then link and group sites and write signals."""
    check_format(fmt)
    reports = run_stages(ctx, list(STAGES))
    if fmt == "json":
        emit_json(reports)
        return
    for r in reports:
        extra = ", ".join(f"{k} {v}" for k, v in r.details.items())
        stdout.print(f"{r.stage}: {r.processed} processed, {r.signals} signals" + (f" ({extra})" if extra else ""))


@infra_app.command("groups")
def groups(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many groups."),
    site: str = typer.Option(None, "--site", help="Only groups with this site."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Site groups, largest first."""
    check_format(fmt)
    rows = open_store(ctx).read(infra_db.list_groups, limit=limit, site=site)
    emit_list(rows, fmt, [
        ("id", lambda r: r["id"]), ("sites", lambda r: r["size"]), ("tier", lambda r: r["tier"]),
        ("score", lambda r: r["score"]), ("known operations", lambda r: "; ".join(r["names"])),
        ("members", lambda r: ", ".join(r["sites"][:6]) + (" …" if len(r["sites"]) > 6 else "")),
    ], title="site groups", empty="No site groups yet: run `fimiscope detect infrastructure`.")


@infra_app.command("show")
def show(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="A group id (grp_...) or a site (domain)."),
    fmt: str = typer.Option("table", "--format", help="table, json, or gexf (groups only)"),
) -> None:
    """A site group (members, shared indicators, links) or a site (its fingerprints and the
    sites sharing them, tiered, and its look-ups)."""
    check_format(fmt, ("table", "json", "gexf"))
    store = open_store(ctx)
    if target.startswith("grp_"):
        group = store.read(infra_db.get_group, target)
        if fmt == "gexf":
            from fimiscope.share.gexf import group_gexf

            sys.stdout.write(group_gexf(group) + "\n")
        elif fmt == "json":
            emit_json(group)
        else:
            _print_group(group)
        return
    if fmt == "gexf":
        raise InvalidInput("--format gexf is for a site group (grp_...), not a site")
    prof = store.read(infra_db.site_profile, target)
    if fmt == "json":
        emit_json(prof)
    else:
        _print_site(prof)


def _print_group(g: dict[str, Any]) -> None:
    stdout.print(f"[bold]{g['id']}[/]: {g['size']} sites, held by {g['tier']} evidence (mean link {g['score']:.2f})")
    for name in g["names"]:
        stdout.print(f"  overlaps {name}", markup=False)
    emit_list(g["members"], "table", [
        ("site", lambda m: m["site"]), ("affiliation", lambda m: m.get("affiliation") or ""),
        ("lists", lambda m: ", ".join(m.get("lists") or [])), ("joined", lambda m: (m.get("joined_at") or "")[:16]),
    ], title="members")
    emit_list(g["indicators"], "table", [
        ("tier", lambda i: i["tier"]), ("kind", lambda i: i["kind"]), ("value", lambda i: i["value"]),
        ("sites", lambda i: ", ".join(i["sites"])), ("why", lambda i: i["reason"]),
    ], title="shared indicators")


def _print_site(p: dict[str, Any]) -> None:
    src = p.get("source") or {}
    stdout.print(f"[bold]{p['site']}[/] — {src.get('affiliation', 'not a known source')}, {p['pages']} page(s) read",
                 markup=True)
    emit_list(p["fingerprints"], "table", [
        ("kind", lambda f: f["kind"]), ("value", lambda f: f["value"]), ("where", lambda f: f["where"]),
        ("first seen", lambda f: (f["first_seen"] or "")[:16]), ("last seen", lambda f: (f["last_seen"] or "")[:16]),
        ("sites", lambda f: f["sites"]),
    ], title="fingerprints", empty="No fingerprints.")
    emit_list(p["shared_with"], "table", [
        ("site", lambda s: s["site"]), ("tier", lambda s: s["tier"]), ("score", lambda s: s["score"]),
        ("affiliation", lambda s: s.get("affiliation") or ""),
        ("shared", lambda s: "; ".join(f"{e['kind']}={e['value']}" for e in s["shared"] if e["weight"] > 0)[:120]),
    ], title="sites sharing them", empty="No other site shares them.")
    if p["lookups"]:
        emit_list(p["lookups"], "table", [
            ("at", lambda x: (x["at"] or "")[:19]), ("look-up", lambda x: x["lookup"]),
            ("ok", lambda x: "yes" if x["ok"] else f"no: {x['error']}"),
            ("found", lambda x: "; ".join(f"{k}={v}" for k, v in x["found"])[:120]),
        ], title="look-ups (history)")


@infra_app.command("fingerprint")
def fingerprint(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="A page URL (the archived copy if stored, else fetched) or an HTML file."),
    fetch: bool = typer.Option(True, "--fetch/--offline", help="Fetch the URL when no archived copy is stored."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Every fingerprint of one page, with where on the page it was seen."""
    from fimiscope.extract.fingerprints import fingerprint_page

    check_format(fmt)
    raw, origin = _page_bytes(ctx, url, fetch)
    got = fingerprint_page(raw, url if "://" in url else None)
    data: dict[str, Any] = {"url": url, "origin": origin, "fingerprints": [
        {"kind": f.kind, "value": f.value, "where": f.where, "snippet": f.snippet} for f in got.fingerprints],
        "classes": got.classes, "outbound": got.outbound, "favicon_url": got.favicon_url, "notes": got.notes}
    if fmt == "json":
        emit_json(data)
        return
    stderr.print(f"{url}: {origin}")
    emit_list(data["fingerprints"], "table", [("kind", lambda f: f["kind"]), ("value", lambda f: f["value"]),
                                              ("where", lambda f: f["where"])],
              title="fingerprints", empty="No fingerprints on this page.")
    for note in got.notes:
        stderr.print(f"note: {note}", markup=False)


def _page_bytes(ctx: typer.Context, url: str, fetch: bool) -> tuple[bytes, str]:
    path = Path(url)
    if "://" not in url:
        if not path.is_file():
            raise InvalidInput(f"{url}: not a URL and not a file")
        return path.read_bytes(), f"file {path}"
    store: Store = open_store(ctx)
    import sqlalchemy as sa

    from fimiscope.store.tables import documents

    with store.connect() as conn:
        row = conn.execute(sa.select(documents.c.id, documents.c.collected_at).where(
            sa.or_(documents.c.url == url, documents.c.canonical_url == url)).limit(1)).first()
        raws = infra_db.raw_pages(conn, [row[0]]) if row else {}
    if row is not None and row[0] in raws:
        return raws[row[0]], f"archived copy of document {row[0]} (collected {row[1]:%Y-%m-%d %H:%M})"
    if not fetch:
        raise NotFound(f"no archived copy of {url}; drop --offline to fetch it")
    from fimiscope.collect.fetch import Fetcher

    with Fetcher.from_settings(settings(ctx)) as fetcher:
        got = fetcher.get(url, conditional=False)
    return got.body, f"fetched now ({got.fetched_at:%Y-%m-%d %H:%M} UTC), not stored"


@infra_app.command("lookup")
def lookup(
    ctx: typer.Context,
    domains: list[str] = typer.Argument(None, help="Sites to look up (default: with --due, every site due)."),
    due: bool = typer.Option(False, "--due", help="Every site not looked up in the last 7 days."),
    kinds: list[str] = typer.Option(["dns", "tls", "favicon"], "--lookup", help="dns, tls, favicon (repeatable)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """DNS, TLS certificate and favicon look-ups (through the fetcher's safety rules), recorded
    with their time. Then run `fimiscope detect infrastructure`. `--due` picks the sites not
    looked up in FIMISCOPE_INFRA_LOOKUP_DAYS days: schedule it to keep a history."""
    from datetime import timedelta

    from fimiscope.core.clock import utcnow

    check_format(fmt)
    cfg = settings(ctx)
    store = open_store(ctx)
    sites = [d.lower().strip().removeprefix("www.") for d in domains or []]
    if due:
        since = utcnow() - timedelta(days=cfg.infra_lookup_days)
        sites += store.read(infra_db.sites_due_for_lookup, since, 10_000)
    if not sites:
        raise InvalidInput("name a site to look up, or give --due")
    with progress("look-ups", total=len(sites)) as update:
        done = [0]

        def step(_site: str) -> None:
            done[0] += 1
            update(done[0], len(sites))

        run_lookups(store, cfg, sites, kinds, on_site=step)
    rows = [{"site": s, **lk} for s in sites for lk in store.read(infra_db.site_profile, s)["lookups"][: len(kinds)]]
    emit_list(rows, fmt, [("site", lambda r: r["site"]), ("look-up", lambda r: r["lookup"]),
                          ("ok", lambda r: "yes" if r["ok"] else f"no: {r['error']}"),
                          ("found", lambda r: "; ".join(f"{k}={v}" for k, v in r["found"])[:120])],
              title="look-ups")


@indicators_app.command("import")
def import_indicators(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="The file to import."),
    as_: str = typer.Option(None, "--as", help="laundromat, csv (domain,type,value,source), pdns or whois; "
                                               "default: guessed from the file"),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import indicators with their provenance (file, line, source); bad rows are reported and
    the rest imported. Then run `fimiscope detect infrastructure`."""
    from fimiscope.collect.indicators import guess_format, read_indicators
    from fimiscope.core.clock import utcnow

    check_format(fmt)
    store = open_store(ctx)
    kind = as_ or guess_format(path)
    rows, rejected = read_indicators(path, kind)
    now = utcnow()
    with store.transaction() as conn:
        written = infra_db.record_observations(conn, [
            {"site": r.domain, "kind": r.kind, "value": r.value, "where": f"{path.name} line {r.line}",
             "origin": f"import:{path.name}", "seen_at": r.seen_at or now, "snippet": r.value[:200],
             "details": {**r.details, "source": r.source, "file": path.name, "line": r.line, "imported_at":
                         now.isoformat(), **({"reported_seen_at": r.seen_at.isoformat()} if r.seen_at else {})}}
            for r in rows])
    result = {"file": str(path), "format": kind, "indicators": len(rows), "stored": written,
              "sites": len({r.domain for r in rows}), "rejected": [str(x) for x in rejected]}
    if fmt == "json":
        emit_json(result)
    else:
        stdout.print(f"{path.name} ({kind}): {len(rows)} indicators for {result['sites']} sites, "
                     f"{len(rejected)} rejected")
        for x in rejected[:20]:
            stderr.print(f"  rejected {x}", markup=False)
    if rejected and not rows:
        raise typer.Exit(1)
