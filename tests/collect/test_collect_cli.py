"""`fimiscope sources add --kind/--option`, `fimiscope collect`, `fimiscope sources status` in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.collect.webserver import LOREM, Reply, Site, article, site  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIMISCOPE_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("FIMISCOPE_FETCH_DELAY", "0")


def test_add_collect_status(cli: Any, site: Site) -> None:
    site["/a"] = article("A", LOREM)
    bad = cli("sources", "add", "x", "--kind", "gopher", "--location", "y", ok=False)
    assert bad.exit_code == 2 and "unknown --kind 'gopher'" in bad.stderr and "rss" in bad.stderr
    cli("sources", "add", "one", "--kind", "page", "--location", site.url("/a"), "--interval", "15m",
        "--option", "depth=2", "--option", 'include=["/news/"]')
    shown = json.loads(cli("sources", "show", "one", "--format", "json").stdout)
    assert shown["metadata"] == {"depth": 2, "include": ["/news/"]} and shown["interval_s"] == 900
    site["/gone"] = Reply("no", 404, "text/plain")
    cli("sources", "add", "broken", "--kind", "rss", "--location", site.url("/gone"))
    out = json.loads(cli("collect", "--format", "json").stdout)
    by = {r["source"]: r for r in out}
    assert by["one"]["new"] == 1 and by["one"]["status"] == "ok"
    assert by["broken"]["status"] == "error" and "HTTP 404" in by["broken"]["error"]
    only = json.loads(cli("collect", "--source", "one", "--format", "json").stdout)
    assert [r["source"] for r in only] == ["one"] and only[0]["new"] == 0
    status = {r["name"]: r for r in json.loads(cli("sources", "status", "--format", "json").stdout)}
    assert status["broken"]["failures"] == 1 and "HTTP 404" in status["broken"]["last_error"]
    assert status["one"]["items_total"] == 2 and status["one"]["last_success_at"]
    table = cli("sources", "status").stdout
    assert "broken" in table and "HTTP 404" in table
