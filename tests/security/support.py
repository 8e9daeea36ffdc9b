"""Helpers of the security probes: `fimiscope serve` as a subprocess, the CLI, a browser-like login."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

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


def run_cli(
    data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    full = {**os.environ, "FIMISCOPE_DATA_DIR": str(data), **(env or {})}
    full.pop("FIMISCOPE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "fimiscope", *args], env=full, capture_output=True, text=True,
                          timeout=timeout)


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


def login(client: httpx.Client, name: str = "ana", password: str = PASSWORD, headers: dict[str, str] | None = None
          ) -> httpx.Response:
    """Post the login form as a browser does (its CSRF cookie and field); returns the answer."""
    form = client.get("/login")
    m = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert m, "no CSRF field on the login form"
    return client.post("/login", data={"name": name, "password": password, "csrf_token": m.group(1), "next": "/"},
                       headers=headers or {})
