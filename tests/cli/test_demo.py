"""`fimiscope demo`: stores the scenario, collects its outlets over loopback, runs every
stage, summarises; a second run adds nothing."""

import json

from tests.conftest import Cli


def test_demo_runs_end_to_end_and_is_idempotent(cli: Cli) -> None:
    first = json.loads(cli("demo", "--scale", "0.2", "--format", "json").stdout)
    assert set(first) >= {"data", "loaded", "stages", "documents", "documents_by_language", "sources",
                          "sources_by_affiliation", "signals", "signals_by_type", "top_signals"}
    assert first["loaded"]["collected_over_http"] > 10
    assert first["loaded"]["collect_errors"] == 0
    assert {"en", "cs", "ru"} <= set(first["documents_by_language"])
    assert first["signals_by_type"].get("laundering", 0) >= 5
    assert first["signals_by_type"].get("claim_match", 0) >= 5
    assert first["loaded"]["claims"] == 6
    assert {s["type"] for s in first["top_signals"]} >= {"laundering", "claim_match"}
    # the planted narratives: a surge, a state origin reaching independents, a new language
    assert {"narrative_surge", "narrative_reach", "narrative_new_language"} <= set(first["signals_by_type"])
    assert first["loaded"]["narratives"] == 1
    assert {s["stage"] for s in first["stages"]} >= {"extract.language", "detect.laundering", "detect.claims",
                                                     "detect.narratives", "detect.narrative_signals",
                                                     "detect.coordination"}
    # the planted coordinated groups are found, each whole, and nothing else is flagged as coordinated
    from fimiscope.demo.scenario import build_scenario

    planted = sorted(sorted(g) for g in build_scenario(scale=0.2).truth["coordinated_groups"])
    groups = json.loads(cli("coordination", "groups", "--format", "json").stdout)
    assert sorted(g["accounts"] for g in groups) == planted
    assert first["signals_by_type"]["coordination"] == len(planted)
    top = first["top_signals"][0]
    shown = json.loads(cli("signals", "show", top["id"], "--format", "json").stdout)
    assert shown["evidence"]

    second = json.loads(cli("demo", "--scale", "0.2", "--format", "json").stdout)
    assert second["loaded"]["documents_new"] == 0
    assert second["documents"] == first["documents"]
    assert second["signals"] == first["signals"]


def test_demo_table_summary_says_it_is_fictional_and_where_to_look(cli: Cli) -> None:
    out = cli("demo", "--scale", "0.05").stdout
    assert "FICTIONAL" in out
    assert "where to look next" in out and "signals list" in out
