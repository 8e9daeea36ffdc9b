"""`fimiscope users ...`, `fimiscope serve` on a real loopback port, and the pipeline worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fimiscope.app import PipelineWorker
from fimiscope.config import Settings
from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import documents as document_store


def test_users_cli(cli) -> None:  # type: ignore[no-untyped-def]
    cli("users", "add", "alice", "--role", "admin", "--password", "s3cret-enough")
    cli("users", "add", "bob", "--role", "viewer", "--password", "s3cret-enough")
    listed = json.loads(cli("users", "list", "--format", "json").stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "admin"), ("bob", "viewer")]
    dup = cli("users", "add", "alice", "--password", "s3cret-enough", ok=False)
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    bad = cli("users", "add", "carol", "--role", "boss", "--password", "s3cret-enough", ok=False)
    assert bad.exit_code == 2 and "unknown role" in bad.stderr
    short = cli("users", "add", "carol", "--password", "short", ok=False)
    assert short.exit_code == 2 and "8 characters" in short.stderr
    tok = json.loads(cli("users", "token", "bob", "--format", "json").stdout)
    assert tok["token"].startswith("fimi_") and tok["user"] == "bob"
    cli("users", "set-role", "bob", "analyst")
    cli("users", "remove", "bob")
    assert [u["name"] for u in json.loads(cli("users", "list", "--format", "json").stdout)] == ["alice"]
    gone = cli("users", "remove", "bob", ok=False)
    assert gone.exit_code == 3


FIMISCOPE = [sys.executable, "-c", "from fimiscope.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_uvicorn_and_stops_cleanly(tmp_path: Path, workers: int) -> None:
    port = _free_port()
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(tmp_path / "data"), "FIMISCOPE_WORKER_INTERVAL_S": "0.2"}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    subprocess.run(
        [*FIMISCOPE, "users", "add", "ops", "--role", "admin", "--password", "pass-word-1"],
        env=env, check=True, capture_output=True,
    )
    proc = subprocess.Popen(
        [*FIMISCOPE, "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not come up")
        assert httpx.get(f"{base}/api/signals").status_code == 401
        time.sleep(0.5)  # let the worker run a few times
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "Application shutdown complete" in text and "Traceback" not in text
    assert text.count("Started server process") == workers


def test_pipeline_worker_runs_periodically_and_stops(sqlite_store: Store) -> None:
    sqlite_store.write(document_store.upsert_documents, [Document(text="hello world", url="https://example.org/1")])
    worker = PipelineWorker(sqlite_store, Settings(), interval=0.05)
    worker.start()
    deadline = time.monotonic() + 10
    while worker.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert worker.runs >= 2 and worker.last_error is None
    assert not worker.alive
