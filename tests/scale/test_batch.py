"""`fimiscope batch laundering` (PySpark, local[2]) finds the same pairs and clusters as the
single-machine `detect.laundering` stage on the same corpus, and `fimiscope import batch`
loads them into a store. Skipped, saying why, without the `spark` extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from tests.detect.test_laundering import OTHER_ARTICLE, STORY, UNRELATED

from fimiscope.store import Store

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed: pip install 'fimiscope[spark]'")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17+: no java on PATH and no JAVA_HOME", allow_module_level=True)

FILLER = [
    "In other news, the city council approved a new budget for public transport that includes more buses for "
    "the suburbs and a modest increase in the price of monthly passes from the beginning of next year.",
    "Meanwhile the national football team lost its friendly match against a much stronger opponent, and the "
    "coach said the young players had learned a lot from the experience despite the disappointing score.",
]


def _corpus(path: Path) -> Path:
    rows = [
        ("origin.example", STORY, "2025-03-01T08:00:00Z"),
        ("copy-one.example", STORY, "2025-03-01T10:00:00Z"),  # verbatim
        ("copy-two.example", [*STORY[:3], "Subscribe to our newsletter for more."], "2025-03-02T08:00:00Z"),
        ("partial.example", [FILLER[0], STORY[1], STORY[2], FILLER[1]], "2025-03-03T08:00:00Z"),  # two paragraphs
        ("bakery.example", UNRELATED, "2025-03-01T09:00:00Z"),
        ("farm.example", OTHER_ARTICLE, "2025-03-04T08:00:00Z"),
        ("farm-copy.example", [*OTHER_ARTICLE, "Photo: a dry field near the river, taken by a reader."],
         "2025-03-05T08:00:00Z"),
    ]
    with path.open("wb") as f:
        for site, paras, when in rows:
            f.write(orjson.dumps({"url": f"https://{site}/a", "source": site, "title": "T", "language": "en",
                                  "text": "\n\n".join(paras), "published_at": when}) + b"\n")
    return path


def _fimiscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fimiscope", *args], capture_output=True, text=True, check=True,
                          timeout=600)


def _store_results(url: str) -> tuple[dict[frozenset[str], str], set[frozenset[str]]]:
    store = Store.open(url)
    with store.connect() as c:
        edges = c.execute(sa.text(
            "SELECT a.key, b.key, e.method FROM laundering_edges e JOIN documents a ON a.id = e.copier_document_id "
            "JOIN documents b ON b.id = e.copied_document_id")).all()
        members = c.execute(sa.text(
            "SELECT m.cluster_id, d.key FROM laundering_members m JOIN documents d ON d.id = m.document_id")).all()
    store.close()
    clusters: dict[str, set[str]] = {}
    for cid, key in members:
        clusters.setdefault(cid, set()).add(key)
    return {frozenset((a, b)): m for a, b, m in edges}, {frozenset(m) for m in clusters.values()}


@pytest.mark.slow
def test_spark_job_finds_the_stage_pairs_and_clusters_and_imports(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    single = f"sqlite:///{tmp_path / 'single.sqlite3'}"
    _fimiscope("--database-url", single, "import", "jsonl", str(corpus))
    _fimiscope("--database-url", single, "run", "--stage", "laundering")
    stage_pairs, stage_clusters = _store_results(single)
    assert len(stage_clusters) == 2 and len(stage_pairs) >= 5  # the test means something

    out = tmp_path / "batch"
    res = _fimiscope("batch", "laundering", str(corpus), "--out", str(out), "--master", "local[2]", "--format", "json")
    counts = json.loads(res.stdout)
    assert counts["documents"] == 7
    pairs = pq.read_table(out / "pairs").to_pylist()
    spark_pairs = {frozenset((r["a_key"], r["b_key"])): r["method"] for r in pairs}
    assert spark_pairs == stage_pairs
    members = pq.read_table(out / "cluster_members").to_pylist()
    spark_clusters: dict[str, set[str]] = {}
    for r in members:
        spark_clusters.setdefault(r["cluster_id"], set()).add(r["key"])
    assert {frozenset(m) for m in spark_clusters.values()} == stage_clusters

    loaded = f"sqlite:///{tmp_path / 'loaded.sqlite3'}"
    report = json.loads(_fimiscope("--database-url", loaded, "import", "batch", str(out), "--format", "json").stdout)
    assert report["documents"] == 7 and report["pairs"] == len(pairs)
    assert _store_results(loaded) == (stage_pairs, stage_clusters)  # edges with the same direction and method


def test_batch_job_refuses_unknown_input(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    res = subprocess.run([sys.executable, "-m", "fimiscope", "batch", "laundering", str(bad), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr == ("error: inputs must all be JSONL (.jsonl, .jsonl.gz), Parquet (.parquet) "
                          "or WARC (.warc, .warc.gz)\n")  # one line, before Spark starts
