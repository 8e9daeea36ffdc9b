"""`fimiscope import`: every bad row is rejected with its line and field; the rest goes in;
nothing already stored is touched."""

import json
from pathlib import Path

import orjson
from tests.conftest import Cli


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _good(i: int, **extra: object) -> bytes:
    return orjson.dumps({"url": f"https://site.example/{i}", "text": f"Story {i} text.", **extra})


def test_jsonl_bad_rows_are_rejected_with_reasons_and_the_rest_imported(cli: Cli, tmp_path: Path) -> None:
    lines = [
        _good(1, title="first", published_at="2024-03-01T10:00:00Z", views=12),
        b"{not json",
        orjson.dumps({"url": "https://site.example/2"}),  # no text
        orjson.dumps({"url": "https://site.example/3", "text": 42}),  # wrong type
        b'{"url": "https://site.example/4", "text": "caf\xe9"}',  # invalid UTF-8
        _good(5, published_at="31.12.2023"),  # odd but valid date
        _good(6, published_at="the day after"),  # unparseable date
        _good(1, title="dup"),  # duplicate id within the file
        orjson.dumps({"text": "no url, no id"}),
        orjson.dumps({"url": "ftp://site.example/x", "text": "bad scheme"}),
        orjson.dumps([1, 2, 3]),
        _good(7, links="https://one.example/"),
        _good(8, links=[1, 2]),
    ]
    path = _write(tmp_path / "docs.jsonl", lines)
    result = cli("import", "jsonl", str(path), "--format", "json")
    report = json.loads(result.stdout)
    assert report["new"] == 3
    reasons = {r["line"]: (r["field"], r["reason"]) for r in report["rejections"]}
    assert reasons[2][1].startswith("invalid JSON")
    assert reasons[3] == ("text", "missing (required)")
    assert reasons[4] == ("text", "expected a string, got int")
    assert reasons[5][1].startswith("invalid UTF-8")
    assert reasons[7][0] == "published_at"
    assert reasons[8] == ("url", "duplicate of line 1 in this file")
    assert reasons[9][0] == "url"
    assert reasons[10][0] == "url"
    assert reasons[11][1].startswith("expected a JSON object")
    assert reasons[13][0] == "links"
    assert report["rejected"] == 10

    stats = json.loads(cli("stats", "--format", "json").stdout)
    assert stats["documents"] == 3
    found = json.loads(cli("search", "Story", "--format", "json").stdout)
    first = next(d for d in found if d["url"] == "https://site.example/1")
    shown = json.loads(cli("documents", "show", first["id"], "--format", "json").stdout)
    assert shown["metadata"] == {"views": 12}  # unknown fields kept as metadata
    assert shown["published_at"] == "2024-03-01T10:00:00+00:00"
    dated = next(d for d in found if d["url"] == "https://site.example/5")
    assert dated["published_at"].startswith("2023-12-31")


def test_a_50mb_line_is_rejected_without_loading_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        f.write(_good(1) + b"\n")
        f.write(b'{"url": "https://site.example/big", "text": "' + b"a" * (50 * 1024 * 1024) + b'"}\n')
        f.write(_good(2) + b"\n")
    report = json.loads(cli("import", "jsonl", str(path), "--format", "json").stdout)
    assert report["new"] == 2
    assert report["rejections"][0]["line"] == 2
    assert "longer than" in report["rejections"][0]["reason"]


def test_reimport_adds_nothing_and_a_bad_file_touches_nothing_stored(cli: Cli, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.jsonl", [_good(i) for i in range(50)])
    assert json.loads(cli("import", "jsonl", str(good), "--format", "json").stdout)["new"] == 50
    again = json.loads(cli("import", "jsonl", str(good), "--format", "json").stdout)
    assert (again["new"], again["unchanged"]) == (0, 50)
    bad = _write(tmp_path / "bad.jsonl", [b"garbage", b"\xff\xfe", b"[]"])
    result = cli("import", "jsonl", str(bad), ok=False)
    assert result.exit_code == 1
    assert "no row of the file could be imported" in result.stderr
    assert json.loads(cli("stats", "--format", "json").stdout)["documents"] == 50


def test_changed_item_keeps_its_history(cli: Cli, tmp_path: Path) -> None:
    cli("import", "jsonl", str(_write(tmp_path / "v1.jsonl", [_good(1, title="v1")])))
    edited = orjson.dumps({"url": "https://site.example/1", "text": "Story 1, corrected.", "title": "v2"})
    report = json.loads(cli("import", "jsonl", str(_write(tmp_path / "v2.jsonl", [edited])), "--format", "json").stdout)
    assert report["updated"] == 1
    doc_id = json.loads(cli("search", "corrected", "--format", "json").stdout)[0]["id"]
    shown = json.loads(cli("documents", "show", doc_id, "--format", "json").stdout)
    assert shown["version"] == 2
    assert shown["earlier_versions"][0]["title"] == "v1"


def test_csv_with_column_mapping_and_bad_rows(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(
        b"link,body,headline,date,channel\n"
        b"https://site.example/1,Text one,One,2024-01-02,site.example\n"
        b"https://site.example/2,,Two,2024-01-02,site.example\n"
        b"https://site.example/3,Text three,Three,not a date,site.example\n"
        b"https://site.example/4,Text four\n"
        + b"https://site.example/5,caf\xe9,Five,2024-01-02,site.example\n"
        + b"https://site.example/6,\"Multi\nline, quoted\",Six,2024-01-03,site.example\n"
    )
    result = cli(
        "import", "csv", str(path), "--map", "url=link", "--map", "text=body", "--map", "title=headline",
        "--map", "published_at=date", "--map", "source=channel", "--format", "json",
    )
    report = json.loads(result.stdout)
    assert report["new"] == 2
    reasons = {r["line"]: (r["field"], r["reason"]) for r in report["rejections"]}
    assert reasons[3] == ("text", "missing (required)")
    assert reasons[4][0] == "published_at"
    assert "columns" in reasons[5][1]
    assert reasons[6] == ("text", "invalid UTF-8")


def test_csv_mapping_errors_are_clear(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    result = cli("import", "csv", str(path), "--map", "text=nope", ok=False)
    assert result.exit_code == 2
    assert "not in the CSV header" in result.stderr
    result = cli("import", "csv", str(path), "--map", "body", ok=False)
    assert "FIELD=COLUMN" in result.stderr
    result = cli("import", "jsonl", str(tmp_path / "missing.jsonl"), ok=False)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_a_csv_given_to_import_jsonl_points_at_import_csv(cli: Cli, tmp_path: Path) -> None:
    rows = b"url,text\nhttps://site.example/1,hello there\n"
    for name in ("posts.csv", "posts.txt"):
        path = tmp_path / name
        path.write_bytes(rows)
        out = cli("import", "jsonl", str(path), ok=False)
        assert out.exit_code != 0
        assert out.stderr.count("error:") == 1 and "fimiscope import csv" in out.stderr


def test_a_reading_command_with_no_store_says_where_it_looked(tmp_path: Path) -> None:
    import subprocess
    import sys

    where = tmp_path / "nothing-here"
    done = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--data-dir", str(where), "signals", "list"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 3 and done.stderr.count("error:") == 1
    assert str(where) in done.stderr and "--data-dir" in done.stderr
    assert not where.exists()  # nothing was created
