"""Probes of a hostile client and a hostile file against real servers on loopback.

The demo scenario is built once per session by the real `fimiscope demo` command; every probe
then talks to `fimiscope serve` running as a subprocess over that store (`Served` below), or
runs the CLI in a subprocess. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fimiscope.store import Store
from fimiscope.store import users as user_store

PASSWORD = "correct horse battery"


@dataclass
class Demo:
    data: Path
    token: str  # ana's API token (analyst)
    partner_token: str  # partner "beta", max TLP green, may read the shared collection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full = {**os.environ, "FIMISCOPE_DATA_DIR": str(data), **(env or {})}
    full.pop("FIMISCOPE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "fimiscope", *args], env=full, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    data = tmp_path_factory.mktemp("security") / "demo"
    done = run_cli(data, "demo", "--scale", "0.2", "--format", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    store = Store.open(None, data)
    try:
        user_store.add_user(store, "ana", PASSWORD, "analyst")
        token = user_store.create_token(store, "ana")[0]
    finally:
        store.close()
    added = run_cli(data, "partners", "add", "beta", "--max-tlp", "green", "--format", "json")
    assert added.returncode == 0, added.stderr[-2000:]
    import json

    partner_token = json.loads(added.stdout).get("token", "")
    return Demo(data=data, token=token, partner_token=partner_token)


@contextlib.contextmanager
def served(data: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`fimiscope serve --no-worker` over ``data`` on a free loopback port; yields its URL."""
    port = free_port()
    full = {**os.environ, "FIMISCOPE_DATA_DIR": str(data), **(env or {})}
    full.pop("FIMISCOPE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fimiscope", "serve", "--no-worker", "--port", str(port)],
        env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"fimiscope serve exited: {proc.stderr.read()[-2000:] if proc.stderr else ''}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "fimiscope serve did not answer within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[str]:
    """One server over the demo for the probes that change nothing it keeps."""
    with served(demo.data) as url:
        yield url


def login(client: httpx.Client, name: str = "ana", password: str = PASSWORD, headers: dict[str, str] | None = None
          ) -> httpx.Response:
    """Post the login form as a browser does (its CSRF cookie and field); returns the answer."""
    form = client.get("/login")
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert m, "no CSRF field on the login form"
    return client.post("/login", data={"name": name, "password": password, "csrf_token": m.group(1), "next": "/"},
                       headers=headers or {})
