"""`fimiscope collect --watch` in a real subprocess, stopped by real signals: the batch in hand
is committed, the schedule survives a restart, and `sources status` reports it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.collect.webserver import LOREM, Site, article, site  # noqa: F401 - fixture

from fimiscope.core.model import Source
from fimiscope.store import Store
from fimiscope.store import sources as source_store
from fimiscope.store.tables import documents

N_PAGES = 12


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FIMISCOPE_ALLOW_PRIVATE_NETWORKS="1",
        FIMISCOPE_FETCH_DELAY="0",
        FIMISCOPE_BATCH_SIZE="2",
        FIMISCOPE_FETCH_RETRIES="0",
    )
    return env


def _count(store: Store) -> int:
    with store.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one())


def _served(site: Site) -> int:
    return sum(1 for p, _ in site.hits if p.startswith("/w/"))


def _slow_page(i: int) -> Any:
    body = article(f"Watched {i}", f"Watched page {i}. " + LOREM).encode()

    def handler(h: Any) -> None:
        time.sleep(0.25)
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_watch_stops_cleanly_and_resumes(tmp_path: Path, site: Site, signum: int) -> None:
    db = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    store = Store.open(db)
    for i in range(N_PAGES):
        site[f"/w/{i}"] = _slow_page(i)
    urls = " ".join(site.url(f"/w/{i}") for i in range(N_PAGES))
    store.write(source_store.add_source, Source(name="watched", kind="page", location=urls, interval_s=3600))
    cmd = [sys.executable, "-m", "fimiscope.cli", "--database-url", db, "collect", "--watch", "--format", "json"]
    code = "import sys; from fimiscope.cli import main; sys.argv[0] = 'fimiscope'; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, *cmd[3:]], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while _count(store) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(store) >= 2, proc.stderr.read() if proc.poll() is not None else "no batch committed"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    stored = _count(store)
    assert stored == _served(site), (stored, _served(site))  # every fetched page was committed
    assert stored < N_PAGES  # it really stopped early
    [line] = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert line["status"] == "stopped"

    # a restarted watcher finds the source due again (schedule in the store) and finishes it
    proc = subprocess.Popen([sys.executable, "-c", code, *cmd[3:]], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _count(store) < N_PAGES and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert _count(store) == N_PAGES
    status = subprocess.run(
        [sys.executable, "-c", code, "--database-url", db, "sources", "status", "--format", "json"],
        env=_env(), capture_output=True, text=True, check=True,
    )
    [row] = json.loads(status.stdout)
    assert row["last_status"] == "ok" and row["last_error"] is None
    assert row["next_run_at"] > row["last_success_at"]  # next poll an interval later
    assert sum(row["items_per_day"].values()) >= N_PAGES
