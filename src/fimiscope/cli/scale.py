"""Commands for scale: `fimiscope export parquet` (the store as Parquet for DuckDB, pandas,
polars or Spark), `fimiscope batch laundering|claims|coordination` (Spark jobs over a corpus)
and `fimiscope import batch` (their output into the store). docs/scale.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fimiscope.cli.app import app, export_app, import_app, open_store, settings
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document
from fimiscope.store import Store


@export_app.command("parquet")
def export_parquet(
    ctx: typer.Context,
    out_dir: Path = typer.Argument(..., help="Folder to write <table>.parquet files into (created)."),
    only: list[str] = typer.Option(
        [], "--only", help="Only these (repeatable): documents, signals, clusters, groups, incidents."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Export the store as Parquet (one file per table), readable by DuckDB, pandas and polars."""
    from fimiscope.share import parquet

    check_format(fmt)
    unknown = [o for o in only if o not in parquet.GROUPS]
    if unknown:
        raise InvalidInput(f"unknown export {unknown[0]!r}; choose from {', '.join(parquet.GROUPS)}")
    written = parquet.export_parquet(open_store(ctx), out_dir, only or None)
    if fmt == "json":
        emit_json([{"table": w.table, "path": w.path, "rows": w.rows} for w in written])
        return
    emit_list(written, "table", [("table", lambda w: w.table), ("rows", lambda w: w.rows),
                                 ("path", lambda w: w.path)], title="parquet export")


batch_app = typer.Typer(
    help="Corpus-scale jobs on Apache Spark (the `spark` extra): they write Parquet that "
    "`fimiscope import batch` loads.",
    no_args_is_help=True,
)
app.add_typer(batch_app, name="batch")


@batch_app.command("laundering")
def batch_laundering(
    inputs: list[str] = typer.Argument(..., help="JSONL(.gz), Parquet or WARC(.gz) files, in publication order."),
    out: Path = typer.Option(
        ..., "--out", "--output", "-o", help="Folder for the Parquet output (documents, pairs, clusters)."
    ),
    master: str = typer.Option("local[*]", "--master", help="Spark master: local[*], spark://host:7077, yarn, ..."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Near-duplicate and partial republication over a corpus, as a Spark job (MinHash, LSH
    banding, verification, clusters)."""
    check_format(fmt)
    paths = _inputs(inputs)
    from fimiscope.batch import laundering as job
    from fimiscope.batch.spark import session

    spark = session(master, "fimiscope batch laundering")
    try:
        counts = job.run(spark, paths, str(out.resolve()))
    finally:
        spark.stop()
    if fmt == "json":
        emit_json({**counts, "out": str(out)})
        return
    emit_record({**counts, "out": str(out)}, "table", title="batch laundering")


def _inputs(inputs: list[str]) -> list[str]:
    missing = [i for i in inputs if "://" not in i and not Path(i).exists()]
    if missing:
        raise InvalidInput(f"no such input: {missing[0]}")
    from fimiscope.batch.inputs import input_kind

    input_kind(inputs)  # before Spark starts: a wrong file fails in a second, with one line
    return [str(Path(i).resolve()) if "://" not in i else i for i in inputs]


def _claim_dict(claim: Any, extras: dict[str, Any]) -> dict[str, Any]:
    from fimiscope.store.claims import claim_key

    return {
        "key": claim_key(claim.text), "text": claim.text, "title": claim.title, "language": claim.language,
        "verdict": claim.verdict, "debunk": claim.debunk, "debunk_url": claim.debunk_url,
        "published_at": claim.published_at.isoformat() if claim.published_at else None,
        "keywords": list(claim.keywords), "provenance": claim.provenance.as_dict() if claim.provenance else None,
        "extras": extras,
    }


def _known_claims(ctx: typer.Context, path: Path | None, fmt: str, mapping: list[str]) -> list[dict[str, Any]]:
    """The claims to match, in the order the store numbers them: a file's (through the claims
    importer, the same claim once) or, without one, the store's."""
    out: dict[str, dict[str, Any]] = {}
    if path is not None:
        from fimiscope.collect.claims_import import FORMATS, ImportedClaim, read_claims

        if fmt not in FORMATS:
            raise InvalidInput(f"unknown claim format {fmt!r}; use one of {', '.join(FORMATS)}")
        if not path.exists():
            raise InvalidInput(f"no such claims file: {path}")
        for item in read_claims(fmt, path, mapping):
            if isinstance(item, ImportedClaim) and item.claim.text.strip():
                item.claim.text = item.claim.text.strip()
                d = _claim_dict(item.claim, item.extras())
                out.setdefault(d["key"], d)
    else:
        from fimiscope.store.claims import iter_claims

        for rec in iter_claims(open_store(ctx)):
            d = _claim_dict(rec.claim, {"countries": rec.countries, "outlets": rec.outlets, "links": rec.links,
                                        "provenance": rec.provenance})
            out.setdefault(d["key"], d)
    if not out:
        raise InvalidInput("no claims to match: give --claims FILE, or import claims into the store first")
    return list(out.values())


@batch_app.command("claims")
def batch_claims(
    ctx: typer.Context,
    inputs: list[str] = typer.Argument(..., help="JSONL(.gz), Parquet or WARC(.gz) files, in publication order."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the Parquet output (documents, claim_matches)."),
    claims: Path = typer.Option(None, "--claims", help="A claims file; without it, the store's claims."),
    claims_format: str = typer.Option("json", "--claims-format",
                                      help="Format of --claims: euvsdisinfo, csv, json or claimreview."),
    mapping: list[str] = typer.Option([], "--map", help="FIELD=COLUMN for --claims (repeatable)."),
    master: str = typer.Option("local[*]", "--master", help="Spark master: local[*], spark://host:7077, yarn, ..."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Claim candidate retrieval over a corpus, as a Spark job: every document's sentences
    against the known claims (BM25, calibrated), the matches as Parquet."""
    check_format(fmt)
    paths = _inputs(inputs)
    known = _known_claims(ctx, claims, claims_format, mapping)
    from fimiscope.batch import claims as job
    from fimiscope.batch.spark import session

    spark = session(master, "fimiscope batch claims")
    try:
        counts = job.run(spark, paths, known, str(out.resolve()))
    finally:
        spark.stop()
    if fmt == "json":
        emit_json({**counts, "out": str(out)})
        return
    emit_record({**counts, "out": str(out)}, "table", title="batch claims")


@batch_app.command("coordination")
def batch_coordination(
    inputs: list[str] = typer.Argument(..., help="JSONL(.gz), Parquet or WARC(.gz) files, in publication order."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the Parquet output (documents, groups, pairs)."),
    window: float = typer.Option(None, "--window", min=0.001,
                                 help="Co-action window in seconds for every kind (default: estimated per kind)."),
    min_repeat: int = typer.Option(2, "--min-repeat", min=1, help="Separate episodes a pair needs."),
    master: str = typer.Option("local[*]", "--master", help="Spark master: local[*], spark://host:7077, yarn, ..."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Coordinated behaviour over a corpus, as a Spark job: actions, co-action counting per
    account pair, chance correction, groups."""
    check_format(fmt)
    paths = _inputs(inputs)
    from fimiscope.batch import coordination as job
    from fimiscope.batch.spark import session
    from fimiscope.detect.coordination import Params

    spark = session(master, "fimiscope batch coordination")
    try:
        counts = job.run(spark, paths, str(out.resolve()), Params(window=window, min_repeat=min_repeat))
    finally:
        spark.stop()
    if fmt == "json":
        emit_json({**counts, "out": str(out)})
        return
    emit_record({**counts, "out": str(out)}, "table", title="batch coordination")


_OUTPUTS = {"pairs": "laundering", "claim_matches": "claims", "groups": "coordination"}


@import_app.command("batch")
def import_batch(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="The --out folder of `fimiscope batch laundering|claims|coordination`."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Load a batch job's Parquet output into the store: its documents, then its results as
    the stage writes its own (laundering edges, clusters and signals; claim matches and their
    signals; coordination groups and signals)."""
    check_format(fmt)
    found = [job for sub, job in _OUTPUTS.items() if (folder / sub).is_dir()]
    if not (folder / "documents").is_dir() or not found:
        raise InvalidInput(f"{folder} is not the output of a batch job (no documents/ with pairs/, claim_matches/ "
                           "or groups/)")
    store = open_store(ctx)
    report = _load_documents(store, folder)
    if "laundering" in found:
        report.update(_load_laundering(store, folder, settings(ctx)))
    if "claims" in found:
        report.update(_load_claims(store, folder))
    if "coordination" in found:
        report.update(_load_coordination(store, folder))
    if fmt == "json":
        emit_json(report)
        return
    emit_record(report, "table", title=f"import batch {folder}")


def _load_documents(store: Store, folder: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from fimiscope.core.clock import parse_time
    from fimiscope.core.errors import InvalidInput as Bad
    from fimiscope.pipeline import ingest

    def when(value: str | None) -> Any:
        try:
            return parse_time(value) if value else None
        except Bad:
            return None

    rows = sorted(pq.read_table(folder / "documents").to_pylist(), key=lambda r: r["pos"])
    docs = [
        Document(text=r["text"], url=r["url"], external_id=r["external_id"], source=r["source"], title=r["title"],
                 language=r["language"], published_at=when(r["published_at"]), author=r["author"],
                 platform=r.get("platform") or "web", links=list(r.get("links") or []),
                 shared_from=r.get("shared_from"))
        for r in rows
    ]
    imported = ingest(store, iter(docs))
    return {"documents": len(docs), "new": imported.new}


def _ids(store: Store, keys: set[str]) -> dict[str, str]:
    from fimiscope.store import documents as document_store

    with store.connect() as conn:
        return document_store.ids_for_keys(conn, sorted(keys))


def _load_laundering(store: Store, folder: Path, cfg: Settings) -> dict[str, int]:
    import orjson
    import pyarrow.parquet as pq

    from fimiscope.detect.laundering import LaunderingStage, Match

    pairs = pq.read_table(folder / "pairs").to_pylist()
    ids = _ids(store, {r["a_key"] for r in pairs} | {r["b_key"] for r in pairs})
    stage = LaunderingStage.from_settings(cfg)
    signals = 0
    for start in range(0, len(pairs), 2000):
        matches: dict[tuple[str, str], Match] = {}
        for r in pairs[start : start + 2000]:
            a, b = ids.get(r["a_key"]), ids.get(r["b_key"])
            if a is None or b is None:
                continue
            paras = orjson.loads(r["paragraphs"])
            if a > b:  # a match names its paragraphs from its smaller id's side
                a, b = b, a
                paras = [{"a_paragraph": x["b_paragraph"], "a_span": x["b_span"], "b_paragraph": x["a_paragraph"],
                          "b_span": x["a_span"], "jaccard": x["jaccard"], "containment": x["containment"]}
                         for x in paras]
            matches[(a, b)] = Match(a, b, r["method"], float(r["similarity"]), paragraphs=paras)
        with store.transaction() as conn:
            signals += stage.record_matches(conn, matches)
    return {"pairs": len(pairs), "signals": signals}


def _load_claims(store: Store, folder: Path) -> dict[str, int]:
    """The job's claims into the store (merged with the same claim already there), then a
    ``claim_match`` signal per match, keyed as the stage keys its own."""
    import orjson
    import pyarrow.parquet as pq

    from fimiscope.core.clock import parse_time
    from fimiscope.core.model import Claim, Provenance
    from fimiscope.detect.claims import Match, claim_signal
    from fimiscope.index.sentences import Sentence
    from fimiscope.store import signals as signal_store
    from fimiscope.store.claims import get_claims, upsert_claims

    items = []
    for r in pq.read_table(folder / "claims").to_pylist():
        c = orjson.loads(r["claim"])
        prov = c.get("provenance")
        items.append((Claim(text=c["text"], title=c.get("title"), language=c.get("language"), verdict=c.get("verdict"),
                            debunk=c.get("debunk"), debunk_url=c.get("debunk_url"),
                            published_at=parse_time(c["published_at"]) if c.get("published_at") else None,
                            provenance=Provenance(**prov) if prov else None, keywords=list(c.get("keywords") or [])),
                      c.get("extras") or {}))
    keys = [orjson.loads(r["claim"])["key"] for r in pq.read_table(folder / "claims").to_pylist()]
    claim_ids = dict(zip(keys, upsert_claims(store, items).ids, strict=True))
    rows = pq.read_table(folder / "claim_matches").to_pylist()
    ids = _ids(store, {r["document_key"] for r in rows})
    records = get_claims(store, list(claim_ids.values()))
    signals = 0
    for start in range(0, len(rows), 2000):
        sigs = []
        for r in rows[start : start + 2000]:
            doc_id, claim_id = ids.get(r["document_key"]), claim_ids.get(r["claim_key"])
            if doc_id is None or claim_id is None or claim_id not in records:
                continue
            match = Match(claim_id=claim_id, start=r["span_start"], end=r["span_end"],
                          sentences=[Sentence(s["start"], s["end"], s["text"]) for s in orjson.loads(r["sentences"])],
                          probability=float(r["probability"]), components=orjson.loads(r["components"]))
            sigs.append(claim_signal(doc_id, match, records[claim_id]))
        if sigs:
            with store.transaction() as conn:
                signals += signal_store.upsert_signals(conn, sigs)[0]
    return {"claims": len(items), "matches": len(rows), "signals": signals}


def _load_coordination(store: Store, folder: Path) -> dict[str, int]:
    """The job's groups into the store as the stage writes its own: stable ids (a group that
    matches an active one keeps its id), members with the store's facts about their sources,
    co-actions citing the stored documents, one signal per group, a run record."""
    import orjson
    import pyarrow.parquet as pq

    from fimiscope.core.ids import new_id
    from fimiscope.detect.coordination import Group, group_row, group_signal
    from fimiscope.index.coaction import stable_group_ids
    from fimiscope.store import coordination as db
    from fimiscope.store import signals as signal_store

    (run,) = [orjson.loads(r["run"]) for r in pq.read_table(folder / "run").to_pylist()]
    stored = [orjson.loads(r["group"]) for r in sorted(pq.read_table(folder / "groups").to_pylist(),
                                                       key=lambda r: r["rank"])]
    names: list[str] = []
    code: dict[str, int] = {}
    keys = sorted({x["post"] for g in stored for it in g["items"] for x in it["actions"]})
    ids = _ids(store, set(keys))
    row_of = {key: i for i, key in enumerate(keys)}
    refs = [ids.get(key, "") for key in keys]

    def c(name: str) -> int:
        if name not in code:
            code[name] = len(names)
            names.append(name)
        return code[name]

    groups = [
        Group(members=[c(m) for m in g["members"]], score=g["score"], density=g["density"],
              edges=[{**e, "a": c(e["a"]), "b": c(e["b"])} for e in g["edges"]],
              items=[{**it, "actions": [{**x, "account": c(x["account"]), "post": row_of[x["post"]]}
                                        for x in it["actions"]]} for it in g["items"]],
              kinds=g["kinds"], fastest_s=g["fastest_s"], median_s=g["median_s"], first_at=g["first_at"],
              last_at=g["last_at"], hijacked=[c(m) for m in g["hijacked"]], platforms=g["platforms"],
              languages=g["languages"])
        for g in stored
    ]
    with store.transaction() as conn:
        facts = db.source_facts(conn, [names[m] for g in groups for m in g.members])
        member_sets = [{names[m] for m in g.members} for g in groups]
        gids = stable_group_ids(member_sets, db.active_groups(conn), lambda: new_id("grp_"))
        rows = [group_row(gid, g, names, run["windows"], run["parameters"], refs, facts)
                for gid, g in zip(gids, groups, strict=True)]
        db.write_groups(conn, rows)
        signals = [group_signal(row) for row in rows]
        if signals:
            signal_store.upsert_signals(conn, signals)
        for row, sig in zip(rows, signals, strict=True):
            db.set_signal(conn, row["id"], sig.id)
        db.record_run(conn, run)
    return {"groups": len(rows), "signals": len(signals)}
