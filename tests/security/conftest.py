"""Probes of a hostile client and a hostile file against real servers on loopback.

The demo scenario is built once per session by the real `fimiscope demo` command; every probe
then talks to `fimiscope serve` running as a subprocess over that store (`support.served`), or
runs the CLI in a subprocess. Nothing is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.security.support import PASSWORD, Demo, run_cli, served

from fimiscope.store import Store
from fimiscope.store import users as user_store


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    data = tmp_path_factory.mktemp("security") / "demo"
    done = run_cli(data, "demo", "--scale", "0.2", "--format", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    store = Store.open(None, data)
    try:
        user_store.add_user(store, "ana", PASSWORD, "analyst")
        token = user_store.create_token(store, "ana")[1]
    finally:
        store.close()
    for step in (("incidents", "create", "--title", "Probe incident", "--tlp", "green"),
                 ("taxii", "collection", "add", "fimi-green"), ("taxii", "publish", "fimi-green")):
        done = run_cli(data, *step)
        assert done.returncode == 0, done.stderr[-2000:]
    added = run_cli(data, "partners", "add", "beta", "--max-tlp", "green", "--read", "fimi-green",
                    "--write", "fimi-green", "--format", "json")
    assert added.returncode == 0, added.stderr[-2000:]
    partner_token = json.loads(added.stdout).get("token", "")
    return Demo(data=data, token=token, partner_token=partner_token)


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[str]:
    """One server over the demo for the probes that change nothing it keeps."""
    with served(demo.data) as url:
        yield url
