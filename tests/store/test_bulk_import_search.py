"""Search is right as soon as a bulk import returns: every batch's documents are in the
full-text index (FTS5 on SQLite, the generated tsvectors and their GIN indexes on
PostgreSQL), with their lemmas, and a re-import changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fimiscope.store import Store
from fimiscope.store import search as search_store

N = 10_050  # three import batches of 5,000


def _write(path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(N):
            lang = "cs" if i % 2 else "en"
            words = f"zprava{i} obilím" if lang == "cs" else f"report{i} harvest"
            f.write(json.dumps({"url": f"https://bulk.example/{i}", "text": f"{words} item number {i}",
                                "language": lang}) + "\n")


@pytest.mark.slow
def test_search_finds_every_batch_right_after_a_bulk_import(cli, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bulk.jsonl"
    _write(path)
    out = json.loads(cli("import", "jsonl", str(path), "--format", "json").stdout)
    assert out["new"] == N
    for i in (0, 4_999, 5_001, N - 1):  # first batch, its end, the second, the last (partial) batch
        word = f"zprava{i}" if i % 2 else f"report{i}"
        hits = json.loads(cli("search", word, "--format", "json").stdout)
        assert [h["url"] for h in hits] == [f"https://bulk.example/{i}"], word
    store = Store.open(database_url)
    try:
        # lemmas of the last batch: "obilí" finds the Czech "obilím" forms
        found = store.read(search_store.search, "obilí", language="cs", limit=N)
        assert len(found) == N // 2
    finally:
        store.close()
    again = json.loads(cli("import", "jsonl", str(path), "--format", "json").stdout)
    assert again["new"] == 0 and again["unchanged"] == N
