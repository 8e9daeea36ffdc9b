"""The coordination commands as a user runs them: a real `fimiscope` process on both backends,
JSON shapes of docs/cli.md, the network parsed back by networkx (GEXF) and igraph (GraphML),
the STIX bundle checked by stix2-validator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import igraph
import networkx as nx
from stix2validator import ValidationOptions, validate_instance
from tests.detect.coordination_story import BOTS, bursts, organic, sources

from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

ROOT = Path(__file__).resolve().parents[2]


def _fimiscope(url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--database-url", url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if ok and out.returncode != 0:
        raise AssertionError(f"fimiscope {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out


def test_detect_list_show_and_export_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    store = Store.open(database_url)
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, [*bursts(BOTS, range(6)), *organic()])
    store.close()

    report = json.loads(_fimiscope(database_url, "detect", "coordination", "--format", "json").stdout)
    assert report["stage"] == "detect.coordination" and report["signals"] == 1
    assert set(report["details"]["windows"]) >= {"link", "share", "post"}
    table = _fimiscope(database_url, "detect", "coordination", "--window", "30", "--min-repeat", "2")
    assert "window link: 30 s (given)" in table.stderr and "1 groups" in table.stdout

    groups = json.loads(_fimiscope(database_url, "coordination", "groups", "--format", "json").stdout)
    assert len(groups) == 1
    g = groups[0]
    assert g["id"].startswith("grp_") and g["accounts"] == sorted(BOTS)
    assert {
        "size",
        "score",
        "kinds",
        "fastest_s",
        "median_s",
        "first_at",
        "last_at",
        "platforms",
        "languages",
        "affiliations",
        "signal_id",
        "status",
    } <= set(g)
    assert (
        json.loads(_fimiscope(database_url, "coordination", "groups", "--kind", "hashtag", "--format", "json").stdout)
        == []
    )
    bad = _fimiscope(database_url, "coordination", "groups", "--kind", "telepathy", ok=False)
    assert bad.returncode == 2 and "unknown kind" in bad.stderr

    shown = json.loads(_fimiscope(database_url, "coordination", "show", g["id"], "--format", "json").stdout)
    assert shown["accounts"] == sorted(BOTS) and len(shown["members"]) == 5
    assert {"account", "platform", "affiliation", "actions", "first_action_at", "hijacked", "joined_at"} <= set(
        shown["members"][0]
    )
    item = shown["items"][0]
    assert {"kind", "item", "at", "actions"} <= set(item)
    assert {"account", "document_id", "at", "delay_s"} <= set(item["actions"][0])
    assert {"account_a", "account_b", "kind", "count", "episodes", "weight", "p_value", "fastest_s", "median_s"} <= set(
        shown["edges"][0]
    )
    missing = _fimiscope(database_url, "coordination", "show", "grp_NOPE", ok=False)
    assert missing.returncode != 0 and "no coordinated group" in missing.stderr

    gexf, graphml, stix = tmp_path / "g.gexf", tmp_path / "g.graphml", tmp_path / "g.json"
    _fimiscope(
        database_url,
        "coordination",
        "export",
        g["id"],
        "--gexf",
        str(gexf),
        "--graphml",
        str(graphml),
        "--stix",
        str(stix),
    )
    net = nx.read_gexf(gexf)
    assert sorted(net.nodes) == sorted(BOTS) and net.number_of_edges() == len(
        {(e["account_a"], e["account_b"]) for e in shown["edges"]}
    )
    some = next(iter(net.edges(data=True)))
    assert some[2]["weight"] > 0 and ("link" in some[2]["kinds"] or "post" in some[2]["kinds"])
    assert net.nodes[BOTS[0]]["platform"] == "telegram"
    ig = igraph.Graph.Read_GraphML(str(graphml))
    assert sorted(ig.vs["id"]) == sorted(BOTS) and ig.ecount() == net.number_of_edges()
    bundle = json.loads(stix.read_text())
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    types = [o["type"] for o in bundle["objects"]]
    assert types.count("intrusion-set") == 1 and types.count("channel") == 5 and "report" in types
    assert all(o.get("object_marking_refs") for o in bundle["objects"] if o["type"] not in ("marking-definition",))
    nofile = _fimiscope(database_url, "coordination", "export", g["id"], ok=False)
    assert nofile.returncode == 2 and "name a file" in nofile.stderr
