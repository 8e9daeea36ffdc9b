"""An incident created on the command line without a TLP is AMBER, and its export marks every
object with it (the real CLI in a subprocess, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fimiscope.share.markings import TLP2_IDS, object_tlp
from fimiscope.share.stix import organisation_identity

ROOT = Path(__file__).resolve().parents[2]


def _fimiscope(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--database-url", url, *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.returncode == 0, f"fimiscope {' '.join(args)} exited {out.returncode}: {out.stderr}"
    return out


def test_cli_incident_without_tlp_is_amber_and_exports_marked(database_url: str, tmp_path: Path) -> None:
    created = json.loads(_fimiscope(
        database_url, "incidents", "create", "--title", "No TLP given", "--technique", "T0049",
        "--channel", "domain:mirror-news.example", "--channel", "url:https://mirror-news.example/a",
        "--channel", "outlet:rt.com", "--threat-actor", "Storm-1516", "--format", "json",
    ).stdout)
    assert created["tlp"] == "amber"
    shown = json.loads(_fimiscope(database_url, "incidents", "show", created["id"], "--format", "json").stdout)
    assert shown["tlp"] == "amber"
    out = tmp_path / "bundle.json"
    _fimiscope(database_url, "export", "stix", "--incident", created["id"], "-o", str(out))
    objects = json.loads(out.read_text())["objects"]
    assert {"domain-name", "url"} <= {o["type"] for o in objects}
    org = organisation_identity()["id"]
    for obj in objects:
        if obj["type"] != "marking-definition" and obj["id"] != org:
            assert obj.get("object_marking_refs") == [TLP2_IDS["amber"]], obj["type"]
            assert object_tlp(obj) == "amber"
