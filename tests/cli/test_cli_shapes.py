"""Scriptable CLI: JSON shapes documented in docs/cli.md, exit codes with one-line reasons."""

import json
from pathlib import Path

from tests.conftest import Cli

from fimiscope.core.model import Document, Evidence, Signal
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store

SOURCE_KEYS = {
    "id", "name", "platform", "domain", "handle", "display_name", "country", "language", "affiliation",
    "provenance", "reliability", "lists", "kind", "location", "interval_s", "metadata", "flagged",
}


def test_sources_add_list_show_remove(cli: Cli) -> None:
    added = json.loads(
        cli("sources", "add", "statenews.example", "--affiliation", "state-controlled", "--country", "ru",
            "--reliability", "E", "--provenance-by", "EEAS", "--provenance-where", "https://example.org/r",
            "--list", "watch", "--kind", "rss", "--location", "https://statenews.example/rss",
            "--interval", "15m", "--format", "json").stdout
    )
    assert set(added) == SOURCE_KEYS
    assert added["flagged"] is True and added["interval_s"] == 900 and added["country"] == "RU"
    cli("sources", "add", "telegram:channel_x")
    listed = json.loads(cli("sources", "list", "--format", "json").stdout)
    assert [s["name"] for s in listed] == ["statenews.example", "telegram:channel_x"]
    flagged = json.loads(cli("sources", "list", "--flagged", "--format", "json").stdout)
    assert [s["name"] for s in flagged] == ["statenews.example"]
    shown = json.loads(cli("sources", "show", "statenews.example", "--format", "json").stdout)
    assert shown["provenance"] == [{"by": "EEAS", "where": "https://example.org/r", "when": ""}]
    table = cli("sources", "show", "statenews.example").stdout
    assert "unreliable" in table

    dup = cli("sources", "add", "statenews.example", ok=False)
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    noprov = cli("sources", "add", "x.example", "--affiliation", "state_linked", ok=False)
    assert noprov.exit_code == 2 and "provenance" in noprov.stderr
    badint = cli("sources", "add", "y.example", "--interval", "soon", ok=False)
    assert badint.exit_code == 2 and "interval" in badint.stderr
    removed = json.loads(cli("sources", "remove", "telegram:channel_x", "--format", "json").stdout)
    assert removed["removed"] == "telegram:channel_x"
    missing = cli("sources", "show", "telegram:channel_x", ok=False)
    assert missing.exit_code == 3 and missing.stderr.strip().startswith("error: no source named")


def test_sources_import_registry_is_idempotent_and_rejects_bad_rows(cli: Cli, tmp_path: Path) -> None:
    reg = tmp_path / "registry.csv"
    reg.write_text(
        "name,affiliation,country,reliability,lists,provenance_by,provenance_where,provenance_when\n"
        "statenews.example,state_controlled,RU,E,eeas;watch,EEAS,https://example.org/r,2024-01-01\n"
        "friendly.example,independent,CZ,B,,,,\n"
        "noprov.example,state_linked,RU,,,,,\n"
        ",independent,,,,,,\n",
        encoding="utf-8",
    )
    first = json.loads(cli("sources", "import", str(reg), "--format", "json").stdout)
    assert (first["created"], first["updated"], first["rejected"]) == (2, 0, 2)
    assert {r["row"] for r in first["rejections"]} == {4, 5}
    again = json.loads(cli("sources", "import", str(reg), "--format", "json").stdout)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    src = json.loads(cli("sources", "show", "statenews.example", "--format", "json").stdout)
    assert src["lists"] == ["eeas", "watch"] and src["affiliation"] == "state_controlled"

    js = tmp_path / "registry.json"
    js.write_text(json.dumps({"sources": [{"name": "telegram:stat", "affiliation": "state_aligned",
                                            "provenance": [{"by": "Analyst team", "when": "2024-05"}]}]}))
    assert json.loads(cli("sources", "import", str(js), "--format", "json").stdout)["created"] == 1
    weird = tmp_path / "reg.txt"
    weird.write_text("x")
    res = cli("sources", "import", str(weird), ok=False)
    assert res.exit_code == 2 and "--registry-format" in res.stderr


def test_signals_list_show_set_status(cli: Cli, database_url: str) -> None:
    store = Store.open(database_url)
    doc_id = store.write(document_store.upsert_documents, [Document(text="Some text", url="https://s.example/1")]).ids[0]
    store.write(signal_store.upsert_signals, [
        Signal(type="laundering", title="strong", score=0.9, detector="t", detector_version="1", key="a",
               evidence=[Evidence(document_id=doc_id, span_start=0, span_end=4, score=0.9)]),
        Signal(type="claim_match", title="weak", score=0.2, detector="t", detector_version="1", key="b"),
    ])
    rows = json.loads(cli("signals", "list", "--format", "json").stdout)
    assert [r["title"] for r in rows] == ["strong", "weak"]
    assert set(rows[0]) >= {"id", "type", "title", "summary", "score", "status", "detector", "detector_version",
                            "parameters", "details", "evidence", "key"}
    jsonl = cli("signals", "list", "--type", "laundering", "--format", "jsonl").stdout.strip().splitlines()
    assert len(jsonl) == 1 and json.loads(jsonl[0])["type"] == "laundering"
    shown = json.loads(cli("signals", "show", rows[0]["id"], "--format", "json").stdout)
    assert shown["evidence"][0]["document_id"] == doc_id
    changed = json.loads(cli("signals", "set-status", "dismissed", rows[1]["id"], "--format", "json").stdout)
    assert changed == {"status": "dismissed", "changed": 1}
    assert json.loads(cli("signals", "list", "--status", "dismissed", "--format", "json").stdout)[0]["title"] == "weak"
    bad = cli("signals", "set-status", "maybe", rows[1]["id"], ok=False)
    assert bad.exit_code == 2 and "maybe" in bad.stderr
    badfmt = cli("signals", "list", "--format", "xml", ok=False)
    assert badfmt.exit_code == 2
    store.close()


def test_stats_and_run_json(cli: Cli) -> None:
    stats = json.loads(cli("stats", "--format", "json").stdout)
    assert set(stats) == {"database", "documents", "document_versions", "raw_blobs", "sources", "signals",
                          "documents_by_language", "signals_by_type", "sources_by_affiliation", "watermarks"}
    run = json.loads(cli("run", "--format", "json").stdout)
    assert {r["stage"] for r in run} >= {"extract.language"}
    unknown = cli("run", "--stage", "nope", ok=False)
    assert unknown.exit_code == 2 and "unknown stage" in unknown.stderr
