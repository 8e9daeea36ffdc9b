"""`fimiscope narratives list|show|add|import|promote|merge|dismiss|edit` and `fimiscope detect
narratives`: which stories are pushed, where they start, when they surge (docs/narratives.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fimiscope.cli.app import app, detect_app, open_store, run_stages
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, stderr, stdout
from fimiscope.core.errors import InvalidInput
from fimiscope.store import narratives as db
from fimiscope.store import persuasion as persuasion_store

narratives_app = typer.Typer(help="Known and emerging narratives: list, inspect, define, import, curate.",
                             no_args_is_help=True)
app.add_typer(narratives_app, name="narratives")

_FMT = typer.Option("table", "--format", help="table or json")
_STAGES = ["detect.narratives", "detect.narrative_signals"]


@detect_app.command("narratives")
def detect_narratives(
    ctx: typer.Context,
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Documents per committed batch."),
    fmt: str = _FMT,
) -> None:
    """Assign new documents to known narratives, cluster the rest into emerging ones, then raise
    surge, reach and new-language signals."""
    check_format(fmt)
    reports = run_stages(ctx, list(_STAGES), batch_size)
    if fmt == "json":
        emit_json(reports)
        return
    a, s = reports
    stdout.print(
        f"narratives: {a.processed} documents ({a.details.get('space')}), "
        f"{a.details.get('known_narratives', 0)} known, {a.details.get('emerging', 0)} emerging; "
        f"{s.signals} signals"
    )


def _surge(r: dict[str, Any]) -> str:
    if r.get("new_this_week"):
        return "new"
    return "" if r.get("surge") is None else f"{r['surge']:.1f}x"


@narratives_app.command("list")
def list_(
    ctx: typer.Context,
    kind: str = typer.Option(None, "--kind", help="known or candidate"),
    status: str = typer.Option("active", "--status", help="active, dismissed or merged"),
    days: int = typer.Option(7, "--days", min=1, max=365, help="What 'recent' means, in days."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many narratives."),
    fmt: str = _FMT,
) -> None:
    """Narratives active in the last days first, by surge (recent daily volume over earlier)."""
    check_format(fmt)
    store = open_store(ctx)
    with store.connect() as conn:
        rows = db.list_narratives(conn, kind=kind, status=status, days=days, limit=limit)
    emit_list(
        rows,
        fmt,
        [
            ("id", lambda r: r["id"]),
            ("kind", lambda r: r["kind"]),
            ("name", lambda r: r["name"][:60]),
            ("documents", lambda r: r["size"]),
            (f"last {days}d", lambda r: r["recent"]),
            ("surge", _surge),
            ("first seen", lambda r: (r["first_seen_at"] or "")[:10]),
            ("debunked", lambda r: "yes" if r["debunked"] else ""),
        ],
        title="narratives",
        empty="No narratives yet: `fimiscope narratives add` or `import`, then `fimiscope detect narratives`.",
    )


@narratives_app.command("show")
def show(
    ctx: typer.Context,
    narrative_id: str = typer.Argument(..., help="Narrative id (nar_...)."),
    limit: int = typer.Option(10, "--documents", min=0, help="Top documents to show."),
    fmt: str = _FMT,
) -> None:
    """A narrative: volumes by day, language and tier, origin, top documents with the sentences
    that carry it, lineage, and the laundering clusters and coordinated groups that carry it."""
    check_format(fmt)
    store = open_store(ctx)
    with store.connect() as conn:
        data = db.get(conn, db.resolve(conn, narrative_id), documents_limit=limit)
        data["techniques"] = persuasion_store.narrative_profile(conn, data["id"])
    if fmt == "json":
        emit_json(data)
        return
    emit_record(
        {k: data[k] for k in ("id", "kind", "status", "name", "description", "keywords", "debunked", "size",
                              "first_seen_at", "last_seen_at", "parent_id", "labels")},
        "table", title="narrative",
    )
    v = data["volumes"]
    stdout.print(f"by language: {v['by_language']}\nby tier: {v['by_tier']}")
    for b in data["bursts"]["bursts"]:
        stdout.print(f"burst: {b['start']} to {b['end']}, {b['documents']} documents, {b['share']:.1%} of all "
                     f"(baseline {b['baseline']:.1%}; {data['bursts']['method']})", markup=False)
    for d in data["origin"][:1]:
        stdout.print(f"origin: {d['published_at']} {d['source']} ({d['affiliation']}) {d['title'] or ''}",
                     markup=False)
    for d in data["documents"]:
        stdout.print(f"- {d['score']:.3f} {d['source']} [{d['language']}] {d['title'] or d['document_id']}",
                     markup=False)
        for s in d["sentences"]:
            stdout.print(f"    > {s['text'][:200]}", markup=False, highlight=False)
    rates = data["techniques"]["rates"]
    if rates:
        stdout.print("persuasion techniques (share of paragraphs): "
                     + ", ".join(f"{t} {r:.3f}" for t, r in list(rates.items())[:5]), markup=False)
    for x in data["lineage"]:
        stdout.print(f"lineage: {x['kind']} {x['parent_id']} -> {x['child_id']} ({x['documents']} documents)")
    for c in data["clusters"]:
        stdout.print(f"laundering cluster: {c['id']} ({c['shared_documents']} of {c['size']} documents)")
    for g in data["groups"]:
        stdout.print(f"coordinated group: {g['id']} ({g['shared_documents']} documents by "
                     f"{', '.join(g['members_carrying'])})", markup=False)


@narratives_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The narrative in a few words."),
    description: str = typer.Option("", "--description", "-d", help="What the narrative says."),
    keyword: list[str] = typer.Option([], "--keyword", "-k", help="Repeatable."),
    example: list[str] = typer.Option([], "--example", "-e", help="An example sentence or text (repeatable)."),
    example_file: list[Path] = typer.Option([], "--example-file", help="A text file holding one example."),
    parent: str = typer.Option(None, "--parent", help="The narrative this is a sub-narrative of."),
    debunked: bool = typer.Option(False, "--debunked", help="Known disinformation (signals when it resurfaces)."),
    fmt: str = _FMT,
) -> None:
    """Define a known narrative. New documents are assigned to it on the next run; documents
    already stored are scored again."""
    check_format(fmt)
    texts = list(example)
    for p in example_file:
        if not p.is_file():
            raise InvalidInput(f"{p} is not a file")
        texts.append(p.read_text(encoding="utf-8", errors="replace")[:20_000])
    store = open_store(ctx)
    with store.transaction() as conn:
        if db.find_by_name(conn, name) is not None:
            raise InvalidInput(f"a narrative named {name!r} exists already (see `fimiscope narratives list`)")
        nid = db.create(conn, name=name, description=description, keywords=keyword, examples=texts,
                        parent_id=parent, debunked=debunked)
    if fmt == "json":
        emit_json({"id": nid, "name": name})
    else:
        stdout.print(f"added {nid}: {name} (run `fimiscope detect narratives` to assign documents)", markup=False)


@narratives_app.command("import")
def import_(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="semeval (SemEval-2025 T10 taxonomy) or euvsdisinfo (case keywords)"),
    path: Path = typer.Argument(..., help="File or folder to read."),
    examples: int = typer.Option(0, "--examples", min=0, help="semeval: labelled articles kept as examples per label; "
                                 "euvsdisinfo: cases per keyword (default 20)."),
    min_cases: int = typer.Option(10, "--min-cases", min=1, help="euvsdisinfo: keywords with fewer cases are skipped."),
    fmt: str = _FMT,
) -> None:
    """Import a narrative list. Names already stored are left alone, so importing again adds nothing."""
    from fimiscope.collect.generic import Rejection
    from fimiscope.collect.narratives_import import ImportedNarrative, read_euvsdisinfo, read_semeval

    check_format(fmt)
    if kind == "semeval":
        items = list(read_semeval(path, examples_per_label=examples))
    elif kind == "euvsdisinfo":
        items = list(read_euvsdisinfo(path, min_cases=min_cases, examples_per_keyword=examples or 20))
    else:
        raise InvalidInput(f"unknown narrative list {kind!r}; use semeval or euvsdisinfo")
    rejected = [x for x in items if isinstance(x, Rejection)]
    good = [x for x in items if isinstance(x, ImportedNarrative)]
    store = open_store(ctx)
    counts = store.write(db.store_imported, good)
    result = {**counts, "rejected": len(rejected),
              "rejections": [{"line": r.line, "field": r.field, "reason": r.reason} for r in rejected]}
    if fmt == "json":
        emit_json(result)
    else:
        stdout.print(f"{counts['created']} narratives created, {counts['existing']} already there, "
                     f"{len(rejected)} lines rejected")
        for r in rejected[:10]:
            stdout.print(f"  rejected {r}", markup=False, highlight=False)
    if not good and rejected:
        raise typer.Exit(1)


@narratives_app.command("promote")
def promote(
    ctx: typer.Context,
    narrative_id: str = typer.Argument(..., help="An emerging narrative's id."),
    name: str = typer.Option(None, "--name", help="Its name as a known narrative."),
    fmt: str = _FMT,
) -> None:
    """Make an emerging narrative a known one (same id); its representative documents become
    its examples."""
    check_format(fmt)
    store = open_store(ctx)
    with store.transaction() as conn:
        db.promote(conn, narrative_id, name=name, by="cli")
        row = db.get_row(conn, narrative_id)
    if fmt == "json":
        emit_json({"id": narrative_id, "kind": row["kind"], "name": row["name"]})
    else:
        stdout.print(f"promoted {narrative_id}: {row['name']}", markup=False)


@narratives_app.command("merge")
def merge(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="The narrative folded in (its id stays as an alias)."),
    target: str = typer.Argument(..., help="The narrative that remains."),
    fmt: str = _FMT,
) -> None:
    """Fold one narrative into another; the lineage records it."""
    check_format(fmt)
    store = open_store(ctx)
    with store.transaction() as conn:
        moved = db.merge(conn, source, target, by="cli")
    if fmt == "json":
        emit_json({"merged": source, "into": target, "documents_moved": moved})
    else:
        stdout.print(f"merged {source} into {target} ({moved} documents)")


@narratives_app.command("dismiss")
def dismiss(
    ctx: typer.Context, narrative_id: str = typer.Argument(..., help="Narrative id (nar_...)."), fmt: str = _FMT
) -> None:
    """Hide a narrative that is noise (it stays in the store, status dismissed)."""
    check_format(fmt)
    store = open_store(ctx)
    with store.transaction() as conn:
        db.dismiss(conn, narrative_id, by="cli")
    if fmt == "json":
        emit_json({"id": narrative_id, "status": "dismissed"})
    else:
        stderr.print(f"dismissed {narrative_id}")


@narratives_app.command("edit")
def edit(
    ctx: typer.Context,
    narrative_id: str = typer.Argument(..., help="Narrative id (nar_...)."),
    name: str = typer.Option(None, "--name", help="New name."),
    description: str = typer.Option(None, "--description", help="New description."),
    example: list[str] = typer.Option([], "--example", "-e", help="Add an example (repeatable)."),
    debunked: bool = typer.Option(None, "--debunked/--not-debunked", help="Mark as known disinformation, or not."),
    fmt: str = _FMT,
) -> None:
    """Rename a narrative, change its description, add examples."""
    check_format(fmt)
    fields = {k: v for k, v in (("name", name), ("description", description), ("debunked", debunked)) if v is not None}
    store = open_store(ctx)
    with store.transaction() as conn:
        if fields:
            db.update(conn, narrative_id, **fields)
        added = db.add_examples(conn, narrative_id, example)
        if name:
            db.add_lineage(conn, "renamed", narrative_id, narrative_id, by="cli")
        row = db.get_row(conn, narrative_id)
    if fmt == "json":
        emit_json({"id": narrative_id, "name": row["name"], "examples_added": added})
    else:
        stdout.print(f"{narrative_id}: {row['name']} ({added} examples added)", markup=False)
