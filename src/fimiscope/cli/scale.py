"""Commands for scale: `fimiscope export parquet` (the store as Parquet for DuckDB, pandas,
polars or Spark), `fimiscope batch laundering` (a Spark job over a corpus) and `fimiscope import
batch` (its output into the store). docs/scale.md."""

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
    missing = [i for i in inputs if "://" not in i and not Path(i).exists()]
    if missing:
        raise InvalidInput(f"no such input: {missing[0]}")
    from fimiscope.batch import laundering as job
    from fimiscope.batch.inputs import input_kind
    from fimiscope.batch.spark import session

    input_kind(inputs)  # before Spark starts: a wrong file fails in a second, with one line

    spark = session(master, "fimiscope batch laundering")
    try:
        counts = job.run(spark, [str(Path(i).resolve()) if "://" not in i else i for i in inputs],
                         str(out.resolve()))
    finally:
        spark.stop()
    if fmt == "json":
        emit_json({**counts, "out": str(out)})
        return
    emit_record({**counts, "out": str(out)}, "table", title="batch laundering")


@import_app.command("batch")
def import_batch(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="The --out folder of `fimiscope batch laundering`."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Load a batch job's Parquet output into the store: its documents, then its pairs as
    laundering edges, clusters and signals (as the laundering stage writes its own)."""
    check_format(fmt)
    if not (folder / "documents").is_dir() or not (folder / "pairs").is_dir():
        raise InvalidInput(f"{folder} is not the output of a batch job (no documents/ and pairs/ folders)")
    report = _load_batch(open_store(ctx), folder, settings(ctx))
    if fmt == "json":
        emit_json(report)
        return
    emit_record(report, "table", title=f"import batch {folder}")


def _load_batch(store: Store, folder: Path, cfg: Settings) -> dict[str, int]:
    import orjson
    import pyarrow.parquet as pq

    from fimiscope.core.clock import parse_time
    from fimiscope.core.errors import InvalidInput as Bad
    from fimiscope.detect.laundering import LaunderingStage, Match
    from fimiscope.pipeline import ingest
    from fimiscope.store import documents as document_store

    def when(value: str | None) -> Any:
        try:
            return parse_time(value) if value else None
        except Bad:
            return None

    rows = sorted(pq.read_table(folder / "documents").to_pylist(), key=lambda r: r["pos"])
    docs = [
        Document(text=r["text"], url=r["url"], external_id=r["external_id"], source=r["source"], title=r["title"],
                 language=r["language"], published_at=when(r["published_at"]), author=r["author"])
        for r in rows
    ]
    imported = ingest(store, iter(docs))
    pairs = pq.read_table(folder / "pairs").to_pylist()
    keys = sorted({r["a_key"] for r in pairs} | {r["b_key"] for r in pairs})
    with store.connect() as conn:
        ids = document_store.ids_for_keys(conn, keys)
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
    return {"documents": len(docs), "new": imported.new, "pairs": len(pairs), "signals": signals}
