"""Inputs of the batch jobs: JSONL (.gz) in the generic schema (docs/formats.md), Parquet with
the same columns, or WARC (.gz) whose HTML responses are extracted with ``extract.html``
(resiliparse: the fast engine, for corpus scale). Each document gets ``pos``, its place in
input order (files in the order given, lines in file order), which stands in for the store's
``seq``: the earlier of two documents is the one read first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import document_key

SCHEMA = (
    "pos long, key string, url string, source string, external_id string, title string, text string, "
    "language string, published_at string, author string, platform string, links array<string>, "
    "shared_from string"
)
_MAX_TEXT = 2_000_000


def _source(url: str | None, source: str | None) -> str | None:
    if source:
        return source
    host = (urlsplit(url or "").hostname or "").removeprefix("www.")
    return host or None


def row_from_mapping(pos: int, obj: Any) -> tuple[Any, ...] | None:
    """One generic-schema object as a row of ``SCHEMA``; None for a row without text or identity
    (the single-machine import rejects it with a reason; here it is counted out)."""
    if not isinstance(obj, dict):
        return None
    text, url, ext = obj.get("text"), obj.get("url"), obj.get("id")
    if not isinstance(text, str) or not text.strip() or len(text) > _MAX_TEXT:
        return None
    url = url if isinstance(url, str) and url else None
    ext = str(ext) if isinstance(ext, str | int) and not isinstance(ext, bool) and ext != "" else None
    if not url and not ext:
        return None
    source = _source(url, obj.get("source") if isinstance(obj.get("source"), str) else None)
    try:
        key = document_key(obj.get("source") if isinstance(obj.get("source"), str) else None, ext, url)
    except InvalidInput:
        return None

    def s(name: str) -> str | None:
        v = obj.get(name)
        return str(v) if v not in (None, "") else None

    links = obj.get("links") or []
    if isinstance(links, str):
        links = [links]
    links = [u for u in links if isinstance(u, str)] if isinstance(links, list) else []
    platform = (s("platform") or "web").lower()
    return (pos, key, url, source, ext, s("title"), text, s("language"), s("published_at"), s("author"),
            platform, links, s("shared_from"))


def _jsonl_rows(indexed: Iterator[tuple[str, int]]) -> Iterator[tuple[Any, ...]]:
    for line, pos in indexed:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        row = row_from_mapping(pos, obj)
        if row is not None:
            yield row


def _warc_rows(item: tuple[str, bytes]) -> Iterator[dict[str, Any]]:
    import io

    from warcio.archiveiterator import ArchiveIterator

    from fimiscope.extract.html import extract

    _path, data = item
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            ctype = (record.http_headers.get_header("Content-Type") or "").lower()
            if not ctype.startswith(("text/html", "application/xhtml")):
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            try:
                page = extract(record.content_stream().read(10 * 1024 * 1024), url, engine="resiliparse")
            except InvalidInput:
                continue
            yield {"url": url, "text": page.text, "title": page.title,
                   "published_at": record.rec_headers.get_header("WARC-Date")}
    except (OSError, ValueError, EOFError):
        return  # a damaged archive: what was read stays


def input_kind(inputs: list[str]) -> str:
    """jsonl, parquet or warc, by the files' extensions; InvalidInput for a mix or anything else."""
    if inputs and all(p.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")) for p in inputs):
        return "jsonl"
    if inputs and all(p.rstrip("/").endswith(".parquet") for p in inputs):
        return "parquet"
    if inputs and all(p.endswith((".warc", ".warc.gz")) for p in inputs):
        return "warc"
    raise InvalidInput("inputs must all be JSONL (.jsonl, .jsonl.gz), Parquet (.parquet) or WARC (.warc, .warc.gz)")


def read_documents(spark: Any, inputs: list[str]) -> Any:
    """A DataFrame of ``SCHEMA`` from the input files (kind by extension)."""
    sc = spark.sparkContext
    kind = input_kind(inputs)
    if kind == "jsonl":
        rdd = sc.textFile(",".join(inputs)).zipWithIndex().mapPartitions(_jsonl_rows)
    elif kind == "parquet":
        frame = spark.read.parquet(*inputs)
        cols = set(frame.columns)
        rdd = frame.rdd.zipWithIndex().map(
            lambda x: row_from_mapping(x[1], {k: x[0][k] for k in cols})
        ).filter(lambda r: r is not None)
    else:
        objs = sc.binaryFiles(",".join(inputs)).flatMap(_warc_rows).zipWithIndex()
        rdd = objs.map(lambda x: row_from_mapping(x[1], x[0])).filter(lambda r: r is not None)
    return spark.createDataFrame(rdd, SCHEMA)
