"""`fimiscope sources ...`: the registry of outlets, accounts and channels."""

from __future__ import annotations

from pathlib import Path

import typer

from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, plain, stdout
from fimiscope.collect.registry import read_registry
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import RELIABILITY_LABELS, Affiliation, Provenance, Reliability, Source
from fimiscope.store import sources as source_store

sources_app = typer.Typer(help="The source registry: outlets, accounts, channels.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")

_INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str | None) -> int | None:
    """'15m' -> 900 seconds."""
    if not value:
        return None
    text = value.strip().lower()
    unit = _INTERVAL_UNITS.get(text[-1])
    try:
        seconds = int(float(text[:-1]) * unit) if unit else int(text)
    except ValueError:
        raise InvalidInput(f"interval {value!r} should look like 30s, 15m, 6h or 1d") from None
    if seconds < 1:
        raise InvalidInput("interval must be at least one second")
    return seconds


def parse_options(pairs: list[str]) -> dict[str, object]:
    """["depth=2", 'include=["/news/"]'] -> {"depth": 2, "include": ["/news/"]}."""
    import json

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--option {pair!r} should look like KEY=VALUE, e.g. depth=2")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def source_json(src: Source) -> dict[str, object]:
    data: dict[str, object] = plain(src)
    data["flagged"] = src.affiliation.flagged
    return data


@sources_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Unique name: a domain (rt.com) or platform:account (telegram:rian_ru)."),
    kind: str = typer.Option(None, "--kind", help="How to collect it: rss, sitemap, page, crawl, warc, ..."),
    location: str = typer.Option(None, "--location", help="Feed URL, start page or file path to collect from."),
    interval: str = typer.Option(None, "--interval", help="How often to collect, e.g. 15m."),
    platform: str = typer.Option(None, "--platform", help="web, telegram, x, facebook, vk, ..."),
    display_name: str = typer.Option(None, "--display-name", help="Name shown to people (default: the source's name)."),
    country: str = typer.Option(None, "--country", help="ISO 3166 code of the country behind it."),
    language: str = typer.Option(None, "--lang", "--language", help="ISO 639-1 code (en, cs, ru, ...)."),
    affiliation: str = typer.Option(
        "unknown",
        "--affiliation",
        help="official_state, state_controlled, state_linked, state_aligned, independent or unknown.",
    ),
    reliability: str = typer.Option("F", "--reliability", help="Admiralty grade A-F."),
    by: str = typer.Option(None, "--provenance-by", help="Who says so (e.g. EEAS)."),
    where: str = typer.Option(None, "--provenance-where", help="Where they say it (URL or report)."),
    when: str = typer.Option(None, "--provenance-when", help="When they said it (date)."),
    lists: list[str] = typer.Option([], "--list", help="Name of a list it is on (repeatable)."),
    replace: bool = typer.Option(False, "--replace", help="Update the source if it exists."),
    options: list[str] = typer.Option(
        [], "--option", help="Collector option KEY=VALUE (JSON value), e.g. depth=2 (repeatable; docs/sources.md)."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Add a source to the registry."""
    check_format(fmt)
    if kind is not None:
        from fimiscope.collect.base import connectors

        known = connectors()
        if kind not in known:
            raise InvalidInput(f"unknown --kind {kind!r}; kinds: {', '.join(known)}")
    metadata = parse_options(options)
    aff = Affiliation.parse(affiliation)
    if aff.flagged and not by:
        raise InvalidInput(
            "a state-affiliation flag needs its provenance: add --provenance-by (and --provenance-where)"
        )
    is_account = ":" in name and not name.startswith(("http:", "https:"))
    src = Source(
        name=name,
        platform=platform or (name.split(":", 1)[0] if is_account else "web"),
        domain=None if is_account else name,
        handle=name.split(":", 1)[1] if is_account else None,
        display_name=display_name,
        country=country.upper() if country else None,
        language=language,
        affiliation=aff,
        provenance=[Provenance(by=by, where=where or "", when=when or "")] if by else [],
        reliability=Reliability.parse(reliability),
        lists=list(lists),
        kind=kind,
        location=location,
        interval_s=parse_interval(interval),
        metadata=metadata,
    )
    saved = open_store(ctx).write(source_store.add_source, src, replace=replace)
    if fmt == "json":
        emit_json(source_json(saved))
    else:
        stdout.print(f"added source [bold]{saved.name}[/] ({saved.id})")


@sources_app.command("list")
def list_(
    ctx: typer.Context,
    affiliation: str = typer.Option(None, "--affiliation", help="Only this affiliation."),
    flagged: bool = typer.Option(False, "--flagged", help="Only state-affiliated sources."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many sources."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """List sources with their affiliation and reliability."""
    check_format(fmt)
    rows = open_store(ctx).read(source_store.list_sources, affiliation=affiliation, limit=None if flagged else limit)
    if flagged:
        rows = [s for s in rows if s.affiliation.flagged][:limit]
    emit_list(
        rows,
        fmt,
        [
            ("name", lambda s: s.name),
            ("platform", lambda s: s.platform),
            ("affiliation", lambda s: s.affiliation),
            ("reliability", lambda s: s.reliability),
            ("country", lambda s: s.country),
            ("lists", lambda s: ", ".join(s.lists)),
            ("kind", lambda s: s.kind),
        ],
        empty="No sources yet. Add one with `fimiscope sources add` or `fimiscope sources import FILE`.",
        to_json=source_json,
    )


@sources_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Source name or id."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Show one source with its provenance."""
    check_format(fmt)
    src = open_store(ctx).read(source_store.get_source, name)
    data = source_json(src)
    if fmt != "json":
        data["reliability"] = f"{src.reliability.value} ({RELIABILITY_LABELS[src.reliability]})"
    emit_record(data, fmt, title=src.name)


@sources_app.command("remove")
def remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Source name or id."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Remove a source from the registry. Its documents stay, detached from it."""
    check_format(fmt)
    src = open_store(ctx).write(source_store.remove_source, name)
    if fmt == "json":
        emit_json({"removed": src.name, "id": src.id})
    else:
        stdout.print(f"removed source {src.name}")


@sources_app.command("import")
def import_(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Registry file: CSV or JSON (see docs/formats.md)."),
    registry_format: str = typer.Option(
        "auto", "--registry-format", help="auto, csv or json (and the formats other modules add)."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import a source registry with affiliations and provenance. Re-importing changes nothing."""
    check_format(fmt)
    items, rejections = read_registry(path, registry_format)
    created, updated = open_store(ctx).write(source_store.merge_sources, items)
    if fmt == "json":
        emit_json(
            {
                "file": str(path),
                "created": created,
                "updated": updated,
                "unchanged": len(items) - created - updated,
                "rejected": len(rejections),
                "rejections": [plain(r) for r in rejections],
            }
        )
        return
    stdout.print(
        f"{path}: {created} created, {updated} updated, {len(items) - created - updated} unchanged, "
        f"{len(rejections)} rejected"
    )
    for rej in rejections[:20]:
        stdout.print(f"  rejected {rej}", markup=False, highlight=False)
