"""`fimiscope narratives ...` and `fimiscope detect narratives` in a subprocess, as a user runs
them (both backends): JSON shapes of docs/cli.md, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fimiscope.demo.scenario import build_scenario
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store


def _run(database_url: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIMISCOPE_DATABASE_URL": database_url}
    env.pop("FIMISCOPE_DATA_DIR", None)
    done = subprocess.run([sys.executable, "-m", "fimiscope", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == code, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _semeval_folder(tmp: Path) -> Path:
    en = tmp / "semeval" / "EN"
    (en / "raw-documents").mkdir(parents=True)
    (en / "raw-documents" / "EN_1.txt").write_text("Ukraine's army is collapsing, deserters say.")
    (en / "raw-documents" / "EN_2.txt").write_text("Climate activists are hypocrites flying to summits.")
    (en / "subtask-2-annotations.txt").write_text(
        "EN_1.txt\tURW: Discrediting Ukraine\tURW: Discrediting Ukraine: Discrediting Ukrainian military\n"
        "EN_2.txt\tCC: Criticism of climate movement\tCC: Criticism of climate movement: Ad hominem attacks on key "
        "activists\n"
        "a line that is not tab separated\n"
        "EN_3.txt\tOther\tOther\n"
    )
    return tmp / "semeval"


def test_narratives_cli_end_to_end(database_url: str, tmp_path: Path) -> None:
    store = Store.open(database_url)
    s = build_scenario(seed=7, scale=0.05)
    for src in s.sources:
        store.write(source_store.add_source, src, replace=True)
    store.write(document_store.upsert_documents, s.documents)
    store.close()

    imported = json.loads(_run(database_url, "narratives", "import", "semeval", str(_semeval_folder(tmp_path)),
                               "--examples", "1", "--format", "json").stdout)
    assert imported["created"] == 4 and imported["rejected"] == 1
    assert imported["rejections"][0]["line"] == 3
    again = json.loads(_run(database_url, "narratives", "import", "semeval", str(tmp_path / "semeval"),
                            "--format", "json").stdout)
    assert again["created"] == 0 and again["existing"] == 4

    added = json.loads(_run(database_url, "narratives", "add", "Sanctions hurt Europe more than Russia",
                            "--description", "Sanctions ruin European families while Russia grows.",
                            "-e", "The sanctions are ruining ordinary Europeans while Russia's economy keeps growing.",
                            "-e", "Санкции разоряют простых европейцев, а российская экономика продолжает расти.",
                            "-e", "Sankce ničí obyčejné Evropany, zatímco ruská ekonomika dál roste.",
                            "--debunked", "--format", "json").stdout)
    assert set(added) == {"id", "name"}

    _run(database_url, "detect", "coordination")  # the groups a narrative page names (issue 14, item 3)
    reports = json.loads(_run(database_url, "detect", "narratives", "--format", "json").stdout)
    assert [r["stage"] for r in reports] == ["detect.narratives", "detect.narrative_signals"]
    assert reports[0]["processed"] == len(s.documents) and reports[1]["signals"] >= 3

    listed = json.loads(_run(database_url, "narratives", "list", "--format", "json").stdout)
    keys = {"id", "kind", "status", "name", "description", "keywords", "parent_id", "debunked", "defined_by",
            "merged_into", "labels", "representatives", "size", "first_seen_at", "last_seen_at",
            "origin_document_id", "recent", "surge", "new_this_week"}
    assert listed and all(set(r) == keys for r in listed)
    known = next(r for r in listed if r["id"] == added["id"])
    assert known["size"] >= 15 and known["debunked"]

    shown = json.loads(_run(database_url, "narratives", "show", added["id"], "--format", "json").stdout)
    assert set(shown) >= keys - {"recent", "surge", "new_this_week"} | {"volumes", "origin", "documents", "lineage",
                                                                        "clusters", "examples", "children"}
    assert set(shown["volumes"]["by_language"]) == {"en", "ru", "cs"}
    assert set(shown["bursts"]) == {"method", "parameters", "bursts"} and "Kleinberg" in shown["bursts"]["method"]
    burst_keys = {"start", "end", "documents", "share", "baseline", "weight"}
    assert all(set(b) == burst_keys for b in shown["bursts"]["bursts"])
    assert shown["origin"][0]["source"] == "ministry-press.example"
    assert all(d["sentences"] for d in shown["documents"])
    table = _run(database_url, "narratives", "show", added["id"]).stdout
    assert "Sanctions hurt Europe" in table and "> " in table
    assert shown["groups"] == []  # no coordinated account tells the sanctions story in the demo

    # The planted weapons story is pushed in Russian by one account of each coordinated group: the
    # Russian emerging narrative names the three groups, and which of their accounts carry it.
    planted = {a: sorted(g) for g in s.truth["coordinated_groups"] for a in g}
    carried = []
    for r in listed:
        if r["kind"] != "candidate":
            continue
        got = json.loads(_run(database_url, "narratives", "show", r["id"], "--documents", "500", "--format",
                              "json").stdout)
        by_account = {d["source"] for d in got["documents"] if d["source"] in planted}
        assert {a for g in got["groups"] for a in g["members_carrying"]} == by_account
        for g in got["groups"]:
            assert set(g) == {"id", "size", "score", "kinds", "platforms", "shared_documents", "members_carrying",
                              "signal_id", "first_at", "last_at"}
            assert g["id"].startswith("grp_") and g["size"] == 4 and g["shared_documents"] >= len(g["members_carrying"])
        if "перепрода" in r["name"] or any("перепрода" in w for w in (r["labels"] or {}).get("ru", [])):
            carried.append(got)
    assert carried and sorted(a for g in carried[0]["groups"] for a in g["members_carrying"]) == [
        "telegram:truth_hub_03", "telegram:truth_hub_06", "telegram:truth_hub_09"]
    table = _run(database_url, "narratives", "show", carried[0]["id"]).stdout
    assert "coordinated group: grp_" in table and "telegram:truth_hub_03" in table

    candidate = next(r for r in listed if r["kind"] == "candidate")
    promoted = json.loads(_run(database_url, "narratives", "promote", candidate["id"], "--name", "Promoted",
                               "--format", "json").stdout)
    assert promoted == {"id": candidate["id"], "kind": "known", "name": "Promoted"}
    other = next(r for r in listed if r["kind"] == "candidate" and r["id"] != candidate["id"])
    merged = json.loads(_run(database_url, "narratives", "merge", other["id"], candidate["id"], "--format",
                             "json").stdout)
    assert merged["documents_moved"] == other["size"]

    # errors: one line on stderr, meaningful exit codes
    missing = _run(database_url, "narratives", "show", "nar_nope", code=3)
    assert missing.stderr.strip().count("\n") == 0 and "no narrative" in missing.stderr
    dup = _run(database_url, "narratives", "merge", other["id"], candidate["id"], code=2)
    assert "already merged" in dup.stderr
    bad = _run(database_url, "narratives", "import", "nonsense", str(tmp_path), code=2)
    assert "semeval or euvsdisinfo" in bad.stderr
    _run(database_url, "narratives", "list", "--kind", "weird", code=2)
