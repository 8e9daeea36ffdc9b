"""`fimiscope detect persuasion` and `fimiscope persuasion ...` in a subprocess, as a user runs
them (both backends): the JSON shapes of docs/cli.md, the technique filter of search and
signals, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.detect.persuasion_story import LOADED, plant

from fimiscope.store import Store


def _run(database_url: str, *args: str, code: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIMISCOPE_DATABASE_URL": database_url}
    env.pop("FIMISCOPE_DATA_DIR", None)
    done = subprocess.run([sys.executable, "-m", "fimiscope", *args], env=env, capture_output=True, text=True,
                          timeout=300, input=stdin)
    assert done.returncode == code, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def test_persuasion_cli_end_to_end(database_url: str) -> None:
    store = Store.open(database_url)
    ids = plant(store)
    store.close()
    state = ids["https://statenews.example/a1"]

    # not classified yet: not found, one line
    done = _run(database_url, "persuasion", "show", state, code=3)
    assert done.stderr.startswith("error: ") and "detect persuasion" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    report = json.loads(_run(database_url, "detect", "persuasion", "--format", "json").stdout)
    assert report["processed"] == 3 and report["signals"] == 1

    shown = json.loads(_run(database_url, "persuasion", "show", state, "--format", "json").stdout)
    assert shown["document_id"] == state and shown["n_paragraphs"] == len(LOADED) + 1 and shown["model_version"]
    assert set(shown) >= {"title", "language", "counts", "n_with_techniques", "paragraphs"}
    para = shown["paragraphs"][0]
    assert set(para) == {"index", "start", "end", "text", "techniques", "scores", "spans"}
    assert para["text"] in LOADED
    assert all(set(sp) == {"start", "end", "technique", "source", "text"} for sp in para["spans"])
    table = _run(database_url, "persuasion", "show", state).stdout
    assert "¶" in table and "spans:" in table

    technique = next(iter(shown["counts"]))
    hits = json.loads(_run(database_url, "search", "experts", "--technique", technique, "--format", "json").stdout)
    assert state in {h["id"] for h in hits}
    sigs = json.loads(_run(database_url, "signals", "list", "--technique", technique, "--format", "json").stdout)
    assert len(sigs) == 1 and sigs[0]["type"] == "persuasion"
    bad = _run(database_url, "search", "experts", "--technique", "astrology", code=2)
    assert bad.stderr.startswith("error: unknown technique")

    prof = json.loads(_run(database_url, "persuasion", "profile", "--source", "statenews.example", "--weeks", "520",
                           "--format", "json").stdout)
    assert prof["documents"] == 2 and prof["weeks"] and technique in prof["totals"]
    _run(database_url, "persuasion", "profile", code=2)

    # per narrative: the documents the narrative detector assigned to it
    from fimiscope.store import narratives as narrative_store

    store = Store.open(database_url)
    with store.transaction() as conn:
        nid = narrative_store.create(conn, name="Enemies everywhere", keywords=["traitors"])
        narrative_store.replace_assignments(conn, "known", [state], [
            {"narrative_id": nid, "document_id": state, "score": 0.9}])
    store.close()
    nprof = json.loads(_run(database_url, "persuasion", "profile", "--narrative", nid, "--format", "json").stdout)
    assert nprof["narrative_id"] == nid and nprof["documents"] == 1 and technique in nprof["totals"]
    shown_n = json.loads(_run(database_url, "narratives", "show", nid, "--format", "json").stdout)
    assert shown_n["techniques"]["totals"] == nprof["totals"] and shown_n["techniques"]["weeks"]

    techs = json.loads(_run(database_url, "persuasion", "techniques", "--format", "json").stdout)
    assert len(techs) == 23
    assert {"technique", "group", "disarm", "decision_threshold", "signal_threshold"} <= set(techs[0])

    classified = json.loads(_run(database_url, "persuasion", "classify", "--language", "en", "--format", "json",
                                 stdin="\n".join(LOADED)).stdout)
    assert classified["n_paragraphs"] == len(LOADED) and classified["paragraphs"]
