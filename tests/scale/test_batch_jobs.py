"""`fimiscope batch claims` and `fimiscope batch coordination` (PySpark, local[2]) find what the
single-machine `detect.claims` and `detect.coordination` stages find on the same corpus, and
`fimiscope import batch` loads it into a store as the stages write their own. Skipped, saying
why, without the `spark` extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from tests.detect import coordination_story as story
from tests.detect.test_claims import ARTICLE, CLAIMS, UNRELATED

from fimiscope.store import Store
from fimiscope.store import coordination as db
from fimiscope.store import signals as signal_store

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed: pip install 'fimiscope[spark]'")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17+: no java on PATH and no JAVA_HOME", allow_module_level=True)


def _fimiscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fimiscope", *args], capture_output=True, text=True, check=True,
                          timeout=600)


def _keys(store: Store) -> dict[str, str]:
    with store.connect() as c:
        return {i: k for i, k in c.execute(sa.text("SELECT id, key FROM documents")).all()}


# -- claims ---------------------------------------------------------------------------------------


def _claims_corpus(tmp: Path) -> tuple[Path, Path]:
    claims = tmp / "claims.json"
    claims.write_text(json.dumps([
        {k: v for k, v in {"text": c.text, "title": c.title, "debunk": c.debunk, "debunk_url": c.debunk_url,
                           "verdict": c.verdict}.items() if v}
        for c in CLAIMS
    ]))
    texts = [
        ("article", ARTICLE),
        ("sports", UNRELATED),
        ("brussels", "Markets were calm on Monday. Brussels plans to ban Christmas celebrations in every member "
                     "state of the Union. The weather stays mild."),
        ("chips", "A viral post says that the vaccines against COVID-19 contain microchips which track people. "
                  "Doctors laughed at it."),
    ]
    corpus = tmp / "claims-corpus.jsonl"
    with corpus.open("wb") as f:
        for name, text in texts:
            f.write(orjson.dumps({"url": f"https://news.example/{name}", "title": name, "language": "en",
                                  "text": text, "published_at": "2025-03-01T08:00:00Z"}) + b"\n")
    return claims, corpus


def _claim_matches(url: str) -> set[tuple[str, str, int, int, float]]:
    """(document key, claim text, span start, span end, score) of every claim_match signal."""
    store = Store.open(url)
    keys = _keys(store)
    with store.connect() as c:
        sigs = [signal_store.get_signal(c, s.id) for s in signal_store.list_signals(c, type="claim_match", limit=500)
                if s.id]
    store.close()
    return {(keys[s.evidence[0].document_id], s.details["claim_text"], s.details["span_start"], s.details["span_end"],
             s.score) for s in sigs}


@pytest.mark.slow
def test_spark_claims_job_finds_the_stage_matches_and_imports(tmp_path: Path) -> None:
    claims, corpus = _claims_corpus(tmp_path)
    single = f"sqlite:///{tmp_path / 'single.sqlite3'}"
    _fimiscope("--database-url", single, "claims", "import", "json", str(claims))
    _fimiscope("--database-url", single, "import", "jsonl", str(corpus))
    _fimiscope("--database-url", single, "run", "--stage", "claims")
    stage = _claim_matches(single)
    assert len(stage) >= 3 and len({m[0] for m in stage}) >= 3  # the test means something

    out = tmp_path / "batch"
    counts = json.loads(_fimiscope("batch", "claims", str(corpus), "--claims", str(claims), "--out", str(out),
                                   "--master", "local[2]", "--format", "json").stdout)
    assert counts["documents"] == 4 and counts["claims"] == 3 and counts["matches"] == len(stage)
    text_of = {r["claim_key"]: orjson.loads(r["claim"])["text"] for r in pq.read_table(out / "claims").to_pylist()}
    spark = {(r["document_key"], text_of[r["claim_key"]], r["span_start"], r["span_end"], round(r["probability"], 4))
             for r in pq.read_table(out / "claim_matches").to_pylist()}
    assert spark == stage

    loaded = f"sqlite:///{tmp_path / 'loaded.sqlite3'}"
    report = json.loads(_fimiscope("--database-url", loaded, "import", "batch", str(out), "--format", "json").stdout)
    assert report["documents"] == 4 and report["claims"] == 3 and report["signals"] == len(stage)
    assert _claim_matches(loaded) == stage
    # the stage on the loaded store adds nothing: its signals are the ones the import wrote
    again = json.loads(_fimiscope("--database-url", loaded, "run", "--stage", "claims", "--format", "json").stdout)
    assert sum(r["signals"] for r in again) == 0


def test_batch_claims_refuses_no_claims(tmp_path: Path) -> None:
    _claims, corpus = _claims_corpus(tmp_path)
    res = subprocess.run([sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{tmp_path / 'e.sqlite3'}",
                          "batch", "claims", str(corpus), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr == "error: no claims to match: give --claims FILE, or import claims into the store first\n"


# -- coordination ---------------------------------------------------------------------------------


def _coordination_corpus(tmp: Path) -> Path:
    path = tmp / "posts.jsonl"
    docs = sorted(story.bursts(story.BOTS, range(6)) + story.organic(), key=lambda d: d.published_at)  # type: ignore[arg-type,return-value]
    with path.open("wb") as f:
        for d in docs:
            assert d.published_at is not None
            row: dict[str, Any] = {"id": d.external_id, "source": d.source, "platform": d.platform, "text": d.text,
                                   "published_at": d.published_at.isoformat(), "links": d.links}
            if d.language:
                row["language"] = d.language
            if d.shared_from:
                row["shared_from"] = d.shared_from
            f.write(orjson.dumps(row) + b"\n")
    return path


def _norm_group(g: dict[str, Any], key_of: Any) -> tuple[Any, ...]:
    return (
        tuple(sorted(g["accounts"])), g["score"], g["density"], tuple(sorted(g["kinds"].items())),
        g["fastest_s"], g["median_s"],
        tuple(sorted((e["account_a"], e["account_b"], e["kind"], e["count"], e["episodes"], e["weight"])
                     for e in g["edges"])),
        tuple((it["kind"], it["item"], tuple(sorted((a["account"], key_of(a), a["delay_s"]) for a in it["actions"])))
              for it in g["items"]),
    )


def _store_groups(url: str) -> set[tuple[Any, ...]]:
    store = Store.open(url)
    keys = _keys(store)
    with store.connect() as c:
        groups = [db.get_group(c, g["id"]) for g in db.list_groups(c)]
        sigs = signal_store.list_signals(c, type="coordination", limit=100)
    store.close()
    assert len(sigs) == len(groups)
    return {_norm_group(g, lambda a: keys[a["document_id"]]) for g in groups}


def _parquet_groups(out: Path) -> set[tuple[Any, ...]]:
    found = set()
    for r in pq.read_table(out / "groups").to_pylist():
        g = orjson.loads(r["group"])
        n = len(g["members"])
        g["accounts"] = g["members"]
        g["edges"] = [{**e, "account_a": min(e["a"], e["b"]), "account_b": max(e["a"], e["b"])} for e in g["edges"]]
        assert r["size"] == n
        found.add(_norm_group(g, lambda a: a["post"]))
    return found


@pytest.mark.slow
def test_spark_coordination_job_finds_the_stage_groups_and_imports(tmp_path: Path) -> None:
    corpus = _coordination_corpus(tmp_path)
    single = f"sqlite:///{tmp_path / 'single.sqlite3'}"
    _fimiscope("--database-url", single, "import", "jsonl", str(corpus))
    _fimiscope("--database-url", single, "run", "--stage", "coordination")
    stage = _store_groups(single)
    assert len(stage) == 1  # the planted group, nothing else
    (planted,) = stage
    assert set(planted[0]) == set(story.BOTS)

    out = tmp_path / "batch"
    counts = json.loads(_fimiscope("batch", "coordination", str(corpus), "--out", str(out), "--master", "local[2]",
                                   "--format", "json").stdout)
    assert counts["groups"] == 1 and counts["accounts"] == len(story.BOTS) + len(story.USERS)
    assert _parquet_groups(out) == stage
    pairs = pq.read_table(out / "pairs_coordination").to_pylist()
    assert {(p["account_a"], p["account_b"]) for p in pairs} <= {(a, b) for a in story.BOTS for b in story.BOTS}

    loaded = f"sqlite:///{tmp_path / 'loaded.sqlite3'}"
    report = json.loads(_fimiscope("--database-url", loaded, "import", "batch", str(out), "--format", "json").stdout)
    assert report["groups"] == 1 and report["signals"] == 1
    assert _store_groups(loaded) == stage
    # the workbench's view of it: the CLI lists the group from the loaded store
    listed = json.loads(_fimiscope("--database-url", loaded, "coordination", "groups", "--format", "json").stdout)
    assert [sorted(g["accounts"]) for g in listed] == [sorted(story.BOTS)]
