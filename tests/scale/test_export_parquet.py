"""`fimiscope export parquet`: the store's tables as Parquet that other tools read back
(pyarrow and DuckDB here), on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from tests.conftest import Cli
from tests.detect.test_laundering import STORY, UNRELATED

pa = pytest.importorskip("pyarrow", reason="the parquet extra (pyarrow) is not installed")
pq = pytest.importorskip("pyarrow.parquet", reason="the parquet extra (pyarrow) is not installed")


def _corpus(path: Path) -> Path:
    rows = []
    for i, site in enumerate(["origin.example", "copy-one.example", "copy-two.example"]):
        rows.append({"url": f"https://{site}/story", "source": site, "title": "Exercise", "language": "en",
                     "text": "\n\n".join(STORY), "published_at": f"2025-03-0{i + 1}T08:00:00Z",
                     "views": i})
    rows.append({"url": "https://bakery.example/news", "source": "bakery.example", "language": "en",
                 "text": "\n\n".join(UNRELATED), "published_at": "2025-03-02T08:00:00Z"})
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_export_parquet_is_read_back_by_pyarrow_and_duckdb(cli: Cli, tmp_path: Path) -> None:
    cli("import", "jsonl", str(_corpus(tmp_path / "docs.jsonl")))
    cli("run", "--stage", "laundering")
    out = tmp_path / "export"
    written = json.loads(cli("export", "parquet", str(out), "--format", "json").stdout)
    rows = {w["table"]: w["rows"] for w in written}
    assert rows["documents"] == 4 and rows["laundering_members"] == 3 and rows["laundering_clusters"] == 1
    assert {"signals", "evidence", "coordination_groups", "incidents", "sources"} <= set(rows)

    docs = pq.read_table(out / "documents.parquet")
    assert docs.num_rows == 4
    assert docs.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert docs.schema.field("seq").type == pa.int64()
    meta = [json.loads(m) for m in docs.column("metadata").to_pylist()]
    assert sorted(m.get("views", -1) for m in meta) == [-1, 0, 1, 2]  # JSON columns as JSON text

    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (only the read-back check needs it)")
    con = duckdb.connect()
    joined = con.execute(
        f"SELECT count(*), count(DISTINCT m.cluster_id) FROM '{out / 'laundering_members.parquet'}' m "
        f"JOIN '{out / 'documents.parquet'}' d ON d.id = m.document_id WHERE d.text LIKE '%Colonel Ivan Petrov%'"
    ).fetchone()
    assert joined == (3, 1)
    typed = con.execute(f"SELECT max(published_at) FROM '{out / 'documents.parquet'}'").fetchone()[0]
    assert typed.year == 2025


def test_export_parquet_only_and_unknown(cli: Cli, tmp_path: Path) -> None:
    written = json.loads(cli("export", "parquet", str(tmp_path / "o"), "--only", "incidents",
                             "--format", "json").stdout)
    assert [w["table"] for w in written] == ["incidents", "incident_signals"]
    assert pq.read_table(written[0]["path"]).num_rows == 0  # an empty store exports empty, typed files
    bad = cli("export", "parquet", str(tmp_path / "o"), "--only", "nope", ok=False)
    assert bad.exit_code == 2 and "unknown export" in bad.stderr
