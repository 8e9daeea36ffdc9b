"""Row validation of the generic schema (collect/generic.py): every field's length limit, type and
format, enforced with the field and the limit named; one bad row never stops the file.

The limits are pinned here at the exact edge (the limit passes, one more is refused), through
the readers and once through `fimiscope import jsonl` in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fimiscope.collect.generic import (
    KNOWN_FIELDS,
    DuplicateTracker,
    Rejection,
    RowError,
    document_from_mapping,
    parse_mapping,
    read_csv,
    read_jsonl,
)
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document

ROOT = Path(__file__).resolve().parents[2]

LIMITS = {
    "id": 500,
    "url": 4000,
    "platform": 40,
    "source": 300,
    "language": 16,
    "title": 5000,
    "author": 500,
    "canonical_url": 4000,
    "shared_from": 4000,
}


def _value(field: str, length: int) -> str:
    if field in ("url", "canonical_url", "shared_from"):
        return "https://example.org/" + "a" * (length - len("https://example.org/"))
    return "x" * length


def _row(**fields: Any) -> dict[str, Any]:
    return {"text": "some text", "url": "https://example.org/1", **fields}


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_each_length_limit_at_its_edge(field: str) -> None:
    limit = LIMITS[field]
    doc = document_from_mapping(_row(**{field: _value(field, limit)}))
    assert isinstance(doc, Document)
    with pytest.raises(RowError) as err:
        document_from_mapping(_row(**{field: _value(field, limit + 1)}))
    assert err.value.field == field
    assert err.value.reason.startswith("longer than") and str(limit) in err.value.reason


def test_field_values_land_where_they_belong() -> None:
    doc = document_from_mapping(
        {
            "text": "body", "url": "HTTPS://example.org/a", "id": 42, "source": "Example", "platform": "Telegram",
            "title": "T", "language": "EN", "published_at": "2025-01-02T03:04:05Z", "author": "someone",
            "links": "https://example.org/l", "shared_from": 7, "canonical_url": "https://example.org/c",
            "extra": {"k": 1},
        },
        default_source="fallback",
    )
    assert (doc.text, doc.url, doc.external_id, doc.source, doc.platform, doc.title) == (
        "body", "HTTPS://example.org/a", "42", "Example", "telegram", "T")
    assert (doc.language, doc.author, doc.links, doc.shared_from, doc.canonical_url) == (
        "en", "someone", ["https://example.org/l"], "7", "https://example.org/c")
    assert doc.published_at is not None and doc.published_at.isoformat().startswith("2025-01-02T03:04:05")
    assert doc.metadata == {"extra": {"k": 1}}
    bare = document_from_mapping({"text": "t", "id": "only-an-id"}, default_source="fallback")
    assert (bare.url, bare.external_id, bare.source, bare.platform, bare.language, bare.title) == (
        None, "only-an-id", "fallback", "web", None, None)
    assert (bare.links, bare.published_at, bare.metadata, bare.author) == ([], None, {}, None)
    assert document_from_mapping(_row(source="", title="", links=None)).source is None


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"url": "https://example.org/1"}, "text", "missing"),
        ({"text": "", "url": "https://example.org/1"}, "text", "missing"),
        ({"text": 5, "url": "https://example.org/1"}, "text", "expected a string, got int"),
        ({"text": "t"}, "url", "missing"),
        ({"text": "t", "url": "", "id": ""}, "url", "missing"),
        ({"text": "t", "url": "ftp://example.org/1"}, "url", "not an http(s) URL"),
        ({"text": "t", "url": "javascript:alert(1)"}, "url", "not an http(s) URL"),
        ({"text": "t", "url": 5}, "url", "expected a string, got int"),
        ({"text": "t", "id": True}, "id", "expected a string, got bool"),
        ({"text": "t", "id": 1.5, "title": 3}, "title", "expected a string, got int"),
        ({"text": "t", "id": "a", "source": 4}, "source", "expected a string, got int"),
        ({"text": "t", "id": "a", "published_at": "not a date"}, "published_at", "unrecognised date 'not a date'"),
        ({"text": "t", "id": "a", "links": [1, 2]}, "links", "expected a list of URL strings"),
        ({"text": "t", "id": "a", "links": {"a": 1}}, "links", "expected a list of URL strings"),
        ({"text": "t", "id": "a", "author": ["x"]}, "author", "expected a string, got list"),
    ],
)
def test_bad_fields_are_named(row: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(RowError) as err:
        document_from_mapping(row)
    assert err.value.field == field
    assert err.value.reason.startswith(words)
    assert str(err.value) == err.value.reason


def test_a_row_that_is_not_an_object() -> None:
    for row in ([1, 2], "text", 3):
        with pytest.raises(RowError) as err:
            document_from_mapping(row)  # type: ignore[arg-type]
        assert err.value.field is None and "JSON object" in err.value.reason


def test_jsonl_keeps_going_past_bad_rows_and_names_line_and_field() -> None:
    lines = [
        json.dumps(_row(title="fine")),
        json.dumps(_row(url="https://example.org/2", title="x" * 5001)),
        "{not json",
        "",
        json.dumps(_row(url="https://example.org/3", language="x" * 17)),
        json.dumps(_row(title="duplicate of line 1")),
        json.dumps(_row(url="https://example.org/4")),
    ]
    out = list(read_jsonl(io.BytesIO("\n".join(lines).encode())))
    docs = [o for o in out if isinstance(o, Document)]
    rejected = [o for o in out if isinstance(o, Rejection)]
    assert [d.url for d in docs] == ["https://example.org/1", "https://example.org/4"]
    assert [(r.line, r.field) for r in rejected] == [(2, "title"), (3, None), (5, "language"), (6, "url")]
    assert "5000" in rejected[0].reason and "16" in rejected[2].reason and "line 1" in rejected[3].reason
    assert str(rejected[0]).startswith("line 2, field 'title': ") and str(rejected[1]).startswith("line 3: ")


def test_csv_limits_and_mapping() -> None:
    text = "body,link,headline\nhello,https://example.org/1,ok\nhi,https://example.org/2," + "x" * 5001 + "\n"
    out = list(read_csv(io.BytesIO(text.encode()), mapping={"text": "body", "url": "link", "title": "headline"}))
    assert isinstance(out[0], Document) and out[0].title == "ok"
    assert isinstance(out[1], Rejection) and (out[1].line, out[1].field) == (3, "title") and "5000" in out[1].reason


def test_duplicates_are_named_by_id_or_url() -> None:
    dupes = DuplicateTracker()
    dupes.check(document_from_mapping({"text": "t", "id": "a"}), 1)
    with pytest.raises(RowError) as err:
        dupes.check(document_from_mapping({"text": "t", "id": "a"}), 2)
    assert err.value.field == "id" and "line 1" in err.value.reason
    dupes.check(document_from_mapping(_row()), 3)
    with pytest.raises(RowError) as err:
        dupes.check(document_from_mapping(_row()), 4)
    assert err.value.field == "url" and "line 3" in err.value.reason
    dupes.check(document_from_mapping({"text": "t", "id": "a", "source": "elsewhere"}), 5)  # another source's id


def test_column_mappings() -> None:
    assert parse_mapping(["text=body", " title = headline "]) == {"text": "body", "title": "headline"}
    assert parse_mapping(["url=a=b"]) == {"url": "a=b"}
    with pytest.raises(InvalidInput, match="FIELD=COLUMN"):
        parse_mapping(["text"])
    with pytest.raises(InvalidInput) as err:
        parse_mapping(["body=text"])
    assert "'body'" in str(err.value) and ", ".join(KNOWN_FIELDS) in str(err.value)


def test_import_names_the_field_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join([
        json.dumps(_row(title="fine")),
        json.dumps(_row(url="https://example.org/2", author="a" * 501)),
        json.dumps(_row(url="https://example.org/3", id="i" * 501)),
    ]) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{tmp_path / 'db.sqlite3'}",
         "import", "jsonl", str(path), "--format", "json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["new"] == 1 and report["rejected"] == 2
    by_field = {r["field"]: r for r in report["rejections"]}
    assert by_field["author"]["line"] == 2 and "500" in by_field["author"]["reason"]
    assert by_field["id"]["line"] == 3 and "500" in by_field["id"]["reason"]


def test_nesting_limit_at_its_edge() -> None:
    from fimiscope.collect.generic import MAX_NESTING

    def deep(levels: int) -> Any:
        value: Any = "leaf"
        for _ in range(levels):
            value = [value]
        return value

    # the row itself is one level: a field may nest MAX_NESTING - 1 more
    assert document_from_mapping(_row(extra=deep(MAX_NESTING - 1))).metadata["extra"] == deep(MAX_NESTING - 1)
    with pytest.raises(RowError) as err:
        document_from_mapping(_row(extra=deep(MAX_NESTING)))
    assert err.value.field == "extra" and err.value.reason == f"nested deeper than {MAX_NESTING} levels"


def test_nul_characters_are_removed_and_their_fields_named() -> None:
    stripped: list[str] = []
    row = _row(title="ti\x00tle", extra={"k\x00": ["v\x00"]}, author="clean")
    row["we\x00ird"] = "x"
    doc = document_from_mapping(row, stripped=stripped)
    assert sorted(stripped) == ["extra", "title", "weird"]
    assert doc.title == "title" and doc.author == "clean"
    assert doc.metadata == {"extra": {"k": ["v"]}, "weird": "x"}
    assert document_from_mapping(_row(title="fine"), stripped=stripped).title == "fine"
    assert len(stripped) == 3  # a clean row adds nothing
    assert document_from_mapping(row).title == "title"  # without a list to report into, still removed
    only_values: list[str] = []  # NUL in a value only, no key touched
    assert document_from_mapping(_row(title="a\x00b"), stripped=only_values).title == "ab"
    assert only_values == ["title"]
