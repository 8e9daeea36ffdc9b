"""The generic document schema (docs/formats.md): JSONL, one object a line, or CSV with a
column mapping. Bad rows are rejected with their line number, field and reason; the rest of
the file goes through. A row is checked here for everything the store would choke on (nesting
past ``MAX_NESTING``, timestamps outside ``EARLIEST``..``LATEST``), so no row can sink the batch it
travels in; NUL characters, which PostgreSQL cannot store in text, are removed and noted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document, document_key
from fimiscope.core.serialize import has_nul, nested_deeper, without_nul

MAX_LINE_BYTES = 8 * 1024 * 1024  # one document's JSON; a 50 MB line is rejected, not loaded
_READ_CHUNK = 1024 * 1024
MAX_NESTING = 32  # arrays/objects within one row; real dumps nest under 10, the JSON encoder stops at 255
EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

KNOWN_FIELDS = (
    "id",
    "url",
    "source",
    "platform",
    "title",
    "text",
    "language",
    "published_at",
    "author",
    "links",
    "shared_from",
    "canonical_url",
)


@dataclass(slots=True)
class Rejection:
    line: int
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class Note:
    """Something changed in a row that was still imported (e.g. NUL characters removed)."""

    line: int
    field: str | None
    note: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.note}"


class RowError(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _opt_str(obj: Mapping[str, Any], name: str, max_len: int = 100_000) -> str | None:
    value = obj.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and name in ("id", "shared_from"):
        return str(value)  # numeric post ids are common in dumps
    if not isinstance(value, str):
        raise RowError(name, f"expected a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise RowError(name, f"longer than {max_len} characters")
    return value


def document_from_mapping(
    obj: Mapping[str, Any],
    *,
    default_source: str | None = None,
    stripped: list[str] | None = None,
    nul_free: bool = False,
) -> Document:
    """Validate one generic-schema object. Raises RowError naming the field at fault.

    NUL characters are removed (PostgreSQL stores none); the fields they were removed from
    are appended to ``stripped`` when given. ``nul_free`` says the caller knows there are none
    (a JSON line without a ``\\u0000`` escape), which skips the search.
    """
    if not isinstance(obj, Mapping):
        raise RowError(None, f"expected a JSON object, got {type(obj).__name__}")
    for name, value in obj.items():
        if isinstance(value, dict | list) and nested_deeper(value, MAX_NESTING - 1):
            raise RowError(str(name)[:80], f"nested deeper than {MAX_NESTING} levels")
    if not nul_free and any(has_nul(k) or has_nul(v) for k, v in obj.items()):
        fields = [str(without_nul(k))[:80] for k, v in obj.items() if has_nul(k) or has_nul(v)]
        if stripped is not None:
            stripped.extend(fields)
        obj = without_nul(dict(obj))
    text = obj.get("text")
    if text is None or text == "":
        raise RowError("text", "missing (required)")
    if not isinstance(text, str):
        raise RowError("text", f"expected a string, got {type(text).__name__}")
    ext_id = _opt_str(obj, "id", 500)
    url = _opt_str(obj, "url", 4000)
    if not url and not ext_id:
        raise RowError("url", "missing: a document needs a url or an id")
    if url and not url.lower().startswith(("http://", "https://")):
        raise RowError("url", f"not an http(s) URL: {url[:80]!r}")
    published = obj.get("published_at")
    published_at = None
    if published not in (None, ""):
        try:
            published_at = parse_time(published)
        except InvalidInput as exc:
            raise RowError("published_at", str(exc)) from None
        if not EARLIEST <= published_at < LATEST:
            raise RowError(
                "published_at", f"{published_at.isoformat()} is outside {EARLIEST.year}..{LATEST.year - 1}"
            )
    links = obj.get("links") or []
    if isinstance(links, str):
        links = [links]
    if not isinstance(links, list) or not all(isinstance(u, str) for u in links):
        raise RowError("links", "expected a list of URL strings")
    platform = _opt_str(obj, "platform", 40) or "web"
    source = _opt_str(obj, "source", 300) or default_source
    language = _opt_str(obj, "language", 16)
    metadata = {k: v for k, v in obj.items() if k not in KNOWN_FIELDS}
    return Document(
        text=text,
        url=url,
        external_id=ext_id,
        source=source,
        platform=platform.lower(),
        title=_opt_str(obj, "title", 5000),
        language=language.lower() if language else None,
        published_at=published_at,
        author=_opt_str(obj, "author", 500),
        canonical_url=_opt_str(obj, "canonical_url", 4000),
        links=links,
        shared_from=_opt_str(obj, "shared_from", 4000),
        metadata=metadata,
    )


@dataclass(slots=True)
class ReadStats:
    bytes_read: int = 0
    rows: int = 0
    notes: list[Note] = field(default_factory=list)

    def note_stripped(self, line: int, fields: list[str]) -> None:
        self.notes.extend(Note(line, f, "NUL characters removed") for f in fields)


def _lines(stream: BinaryIO, stats: ReadStats) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes) without ever holding more than MAX_LINE_BYTES of one line.
    A longer line yields (number, None) and is skipped to its end."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        stats.bytes_read += len(line)
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(_READ_CHUNK)
                stats.bytes_read += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line


class DuplicateTracker:
    """Rejects a second row with the same identity in one file, naming the first line."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def check(self, doc: Document, line: int) -> None:
        key = document_key(doc.source, doc.external_id, doc.url)
        first = self.seen.get(key)
        if first is not None:
            field = "id" if doc.external_id else "url"
            raise RowError(field, f"duplicate of line {first} in this file")
        self.seen[key] = line


def read_jsonl(
    stream: BinaryIO, *, stats: ReadStats | None = None, default_source: str | None = None
) -> Iterator[Document | Rejection]:
    stats = stats or ReadStats()
    dupes = DuplicateTracker()
    for number, line in _lines(stream, stats):
        if line is None:
            yield Rejection(number, f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MB; skipped")
            continue
        if not line.strip():
            continue
        stats.rows += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Rejection(number, f"invalid UTF-8 at byte {exc.start}")
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejection(number, f"invalid JSON: {exc}")
            continue
        stripped: list[str] = []
        try:
            # A NUL can reach a decoded string only through the \u0000 escape (JSON forbids raw
            # control characters in strings): without one, the per-value search is skipped.
            doc = document_from_mapping(obj, default_source=default_source, stripped=stripped,
                                        nul_free=b"\\u0000" not in line)
            dupes.check(doc, number)
        except RowError as exc:
            yield Rejection(number, exc.reason, exc.field)
            continue
        if stripped:
            stats.note_stripped(number, stripped)
        doc.raw = line.rstrip(b"\r\n")
        yield doc


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["text=body", "title=headline"]`` -> {"text": "body", ...} (our field = their column)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidInput(f"column mapping {pair!r} should look like FIELD=COLUMN, e.g. text=body")
        ours, theirs = (p.strip() for p in pair.split("=", 1))
        if ours not in KNOWN_FIELDS:
            raise InvalidInput(f"{ours!r} is not a document field; fields are: {', '.join(KNOWN_FIELDS)}")
        mapping[ours] = theirs
    return mapping


def read_csv(
    stream: BinaryIO,
    *,
    mapping: Mapping[str, str] | None = None,
    stats: ReadStats | None = None,
    default_source: str | None = None,
    delimiter: str = ",",
) -> Iterator[Document | Rejection]:
    """CSV with a header row. ``mapping`` maps our fields to the file's columns; unmapped
    columns whose names are our fields are taken as they are, the rest become metadata."""
    stats = stats or ReadStats()
    csv.field_size_limit(MAX_LINE_BYTES)
    # surrogateescape keeps undecodable bytes visible per row, so one bad row is rejected
    # and the rest of the file still reads.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (UnicodeDecodeError, csv.Error) as exc:
        yield Rejection(1, f"unreadable header: {exc}")
        return
    mapping = dict(mapping or {})
    missing = [col for col in mapping.values() if col not in header]
    if missing:
        raise InvalidInput(f"column(s) {', '.join(missing)} not in the CSV header ({', '.join(header)})")
    rename = {theirs: ours for ours, theirs in mapping.items()}
    dupes = DuplicateTracker()
    rows = iter(reader)
    while True:
        line = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Rejection(line, f"malformed CSV: {exc}")
            continue
        stats.rows += 1
        if not any(cell.strip() for cell in row):
            continue
        bad = next((i for i, cell in enumerate(row) if not _is_utf8(cell)), None)
        if bad is not None:
            col = header[bad] if bad < len(header) else f"column {bad + 1}"
            yield Rejection(line, "invalid UTF-8", rename.get(col, col))
            continue
        if len(row) != len(header):
            yield Rejection(line, f"has {len(row)} columns, the header has {len(header)}")
            continue
        obj: dict[str, Any] = {rename.get(col, col): cell for col, cell in zip(header, row, strict=True)}
        if isinstance(obj.get("links"), str):
            obj["links"] = [u for u in obj["links"].split() if u]
        stripped: list[str] = []
        try:
            doc = document_from_mapping(obj, default_source=default_source, stripped=stripped)
            dupes.check(doc, line)
        except RowError as exc:
            yield Rejection(line, exc.reason, exc.field)
            continue
        stats.note_stripped(line, stripped)
        doc.raw = orjson.dumps(dict(zip(header, row, strict=True)))
        yield doc


def _is_utf8(cell: str) -> bool:
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def open_input(path: Path) -> BinaryIO:
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")
