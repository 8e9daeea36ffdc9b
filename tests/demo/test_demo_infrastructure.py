"""The demo's network shares a planted analytics id and theme (and, for three sites, the
state-linked outlet's AdSense publisher): `fimiscope demo` groups it and raises the signals."""

from __future__ import annotations

import json

from tests.conftest import Cli

from fimiscope.demo.scenario import INFRASTRUCTURE_TRUTH, NETWORK_SITES, infrastructure_head, render_article_html
from fimiscope.extract.fingerprints import fingerprint_page


def test_served_pages_carry_the_planted_infrastructure():
    from fimiscope.core.model import Document

    doc = Document(text="x", url="https://ceske-ozveny.example/a", source="ceske-ozveny.example", title="t")
    got = fingerprint_page(render_article_html(doc).encode(), doc.url)
    values = {(f.kind, f.value) for f in got.fingerprints}
    assert ("ga", INFRASTRUCTURE_TRUTH["analytics"]) in values and ("theme", INFRASTRUCTURE_TRUTH["theme"]) in values
    assert "ca-pub" not in infrastructure_head("ceske-ozveny.example")  # not one of the AdSense sites
    assert "ga(" not in infrastructure_head("prague-morning.example")


def test_demo_groups_the_network(tmp_path) -> None:
    # SQLite only: `fimiscope demo` on PostgreSQL is tests/cli/test_demo.py's; this checks the
    # planted infrastructure, which does not depend on the backend (and a demo run costs seconds).
    cli = Cli(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    out = json.loads(cli("demo", "--scale", "0.05", "--format", "json").stdout)
    assert "detect.infrastructure" in {s["stage"] for s in out["stages"]}
    groups = json.loads(cli("infrastructure", "groups", "--format", "json").stdout)
    network = {d for d, _ in NETWORK_SITES}
    grouped = [g for g in groups if network & set(g["sites"])]
    assert len(grouped) == 1, groups  # one group, not one per site
    members = set(grouped[0]["sites"])
    assert members <= set(INFRASTRUCTURE_TRUTH["group"]) and len(members & network) >= 5
    assert grouped[0]["tier"] == "conclusive"
    detail = json.loads(cli("infrastructure", "show", grouped[0]["id"], "--format", "json").stdout)
    shared = {(i["kind"], i["value"]) for i in detail["indicators"]}
    assert {("ga", INFRASTRUCTURE_TRUTH["analytics"]), ("theme", INFRASTRUCTURE_TRUTH["theme"])} <= shared
    common = [i for i in detail["indicators"] if i["value"] in ("cdn.jsdelivr.net", "fonts.googleapis.com")]
    assert common and all(i["tier"] == "tertiary" and i["weight"] < 0.1 for i in common)  # everyone loads them
    sigs = json.loads(cli("signals", "list", "--type", "infrastructure", "--format", "json").stdout)
    assert sigs and all("eurasia-review.example (state-linked)" in s["title"] for s in sigs)
