"""Hostile files through the real CLI (a subprocess): a bad row never sinks an import, and an
absurd STIX or DISARM file is one `error:` line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from fimiscope.store import Store
from fimiscope.store.tables import documents

GOOD = [
    {"url": "https://good.example/1", "text": "First good row.", "published_at": "2024-05-01T10:00:00Z"},
    {"url": "https://good.example/2", "text": "Second good row."},
]


def fimiscope(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIMISCOPE_")}
    return subprocess.run([sys.executable, "-m", "fimiscope", "--database-url", database_url, *args],
                          env=env, capture_output=True, text=True, timeout=300)


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_rejected_with_line_and_field_and_the_rest_lands(database_url: str, tmp_path: Path) -> None:
    deep = '{"url": "https://bad.example/deep", "text": "deep", "extra": ' + "[" * 500 + "]" * 500 + "}"
    lines = [
        json.dumps(GOOD[0]),
        deep,
        json.dumps({"url": "https://bad.example/future", "text": "far future", "published_at": 1e20}),
        json.dumps({"url": "https://bad.example/past", "text": "far past", "published_at": -1e12}),
        json.dumps({"url": "https://bad.example/year", "text": "year 9000", "published_at": "9000-01-01T00:00:00Z"}),
        json.dumps({"url": "https://nul.example/1", "text": "a NUL \u0000 inside", "title": "t\u0000",
                    "meta": {"k\u0000": ["v\u0000"]}}),
        json.dumps(GOOD[1]),
    ]
    path = _write_jsonl(tmp_path / "hostile.jsonl", lines)
    done = fimiscope(database_url, "import", "jsonl", str(path), "--format", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["new"] == 3  # both good rows and the NUL row, cleaned
    rejected = {(r["line"], r["field"]): r["reason"] for r in report["rejections"]}
    assert set(rejected) == {(2, "extra"), (3, "published_at"), (4, "published_at"), (5, "published_at")}
    assert "nested deeper" in rejected[(2, "extra")]
    assert "out of range" in rejected[(3, "published_at")]
    assert "out of range" in rejected[(4, "published_at")]
    assert {(n["line"], n["field"]) for n in report["notes"]} == {(6, "text"), (6, "title"), (6, "meta")}

    store = Store.open(database_url)
    try:
        with store.connect() as conn:
            rows = conn.execute(sa.select(documents.c.url, documents.c.text, documents.c.title,
                                          documents.c.metadata)).all()
    finally:
        store.close()
    by_url = {r.url: r for r in rows}
    assert set(by_url) == {"https://good.example/1", "https://good.example/2", "https://nul.example/1"}
    cleaned = by_url["https://nul.example/1"]
    assert (cleaned.text, cleaned.title, cleaned.metadata["meta"]) == ("a NUL  inside", "t", {"k": ["v"]})
    # Importing the same file again adds nothing and still rejects the same rows.
    again = json.loads(fimiscope(database_url, "import", "jsonl", str(path), "--format", "json").stdout)
    assert again["new"] == 0 and again["unchanged"] == 3 and again["rejected"] == 4


@pytest.mark.parametrize("command", [("import", "stix"), ("disarm", "import")])
def test_a_file_nested_100000_deep_is_one_error_line(database_url: str, tmp_path: Path, command: tuple[str, str]
                                                     ) -> None:
    path = tmp_path / "DISARM-v1.7.json"
    path.write_text('{"type": "bundle", "id": "bundle--0d9c7ad6-2a0b-4d4e-9c5a-2d7f0e1b1c11", "objects": ['
                    + "[" * 100_000 + "]" * 100_000 + "]}", encoding="utf-8")
    done = fimiscope(database_url, *command, str(path))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "too deeply" in lines[0], done.stderr[-2000:]


def _identity(**over: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "identity", "spec_version": "2.1", "id": "identity--5a3c8c2e-6f1b-4b7e-9d3a-0c4e2b1a9f77",
        "created": "2024-02-01T00:00:00.000Z", "modified": "2024-03-01T00:00:00.000Z",
        "name": "Example partner", "identity_class": "organization",
    }
    obj.update(over)
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_identity(modified="2024-01-01T00:00:00.000Z"), "is before created"),
        (_identity(x_deep=json.loads("[" * 300 + "]" * 300)), "nested deeper than"),
    ],
    ids=["modified-before-created", "nested-300-deep"],
)
def test_stix_objects_that_cannot_be_right_are_rejected(database_url: str, tmp_path: Path,
                                                        obj: dict[str, object], expected: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--6b0f4a7e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
                                "objects": [obj]}), encoding="utf-8")
    done = fimiscope(database_url, "import", "stix", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:") and expected in done.stderr
