"""Parallel pipeline workers on PostgreSQL: batches leased with FOR UPDATE SKIP LOCKED; a
worker killed with SIGKILL mid-batch loses nothing (its batch goes back to the queue) and the
results are those of one worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import batches as batch_store
from fimiscope.store import documents as document_store

SENTENCES = [
    "The ministry published a statement about the elections and the way they were run.",
    "Ministerstvo zveřejnilo prohlášení k volbám a k jejich průběhu v celé zemi.",
    "Министерство опубликовало заявление о выборах и их ходе по всей стране.",
    "Le ministère a publié une déclaration sur les élections et leur déroulement.",
]


def _corpus(n: int) -> list[Document]:
    return [Document(text=f"{SENTENCES[i % 4]} ({i})", url=f"https://w.example/{i}") for i in range(n)]


def _languages(store: Store) -> dict[str, str | None]:
    with store.connect() as c:
        return {k: lang for k, lang in c.execute(sa.text("SELECT key, language FROM documents"))}


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(p) for p in (task / "children").read_text().split()]
    return [p for p in out if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_leases_skip_locked_batches_and_return_on_rollback(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("leases are PostgreSQL row locks (FOR UPDATE SKIP LOCKED); SQLite has one writer")
    store.write(document_store.upsert_documents, _corpus(10))
    with store.transaction() as conn:
        assert batch_store.plan(conn, "extract.language", 4) == 3  # 4 + 4 + 2 documents
    with store.engine.connect() as first, store.engine.connect() as second:
        one = batch_store.take(first, "extract.language")
        two = batch_store.take(second, "extract.language")
        assert one is not None and two is not None and one.lo != two.lo  # the locked one is skipped
        first.rollback()  # a worker that dies: its lease ends with its transaction
        again = batch_store.take(first, "extract.language")
        assert again is not None and again.lo == one.lo
        first.rollback()
        second.rollback()


@pytest.mark.slow
def test_worker_killed_mid_batch_results_identical_to_one_worker(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("parallel workers need PostgreSQL; on SQLite --workers is refused (see test below)")
    n = 8000  # 400 batches: the spawned workers (seconds to start) take some before the queue empties
    store = Store.open(database_url)
    store.write(document_store.upsert_documents, _corpus(n))
    cmd = [sys.executable, "-m", "fimiscope", "--database-url", database_url, "run", "--stage", "language",
           "--workers", "3", "--batch-size", "20", "--format", "json"]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed = None
    working: set[int] = set()  # pids that finished a batch; done rows are forgotten as the watermark passes
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and killed is None:
        with store.connect() as c:
            names = c.execute(sa.text("SELECT DISTINCT worker FROM pipeline_batches WHERE worker IS NOT NULL"))
            working |= {int(name.rsplit(":", 1)[1]) for (name,) in names}
        kids = _children(proc.pid)
        busy = [k for k in kids if k in working]
        if len(kids) == 2 and busy:
            killed = busy[0]  # a worker seen taking batches: killed while in its loop, most likely mid-batch
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    assert killed is not None, "the run finished before a worker could be killed; raise n"
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    report = json.loads(out)[0]
    assert report["details"]["workers_lost"] == 1 and "died" in err
    assert report["watermark"] == n
    with store.connect() as c:
        assert batch_store.counts(c, "extract.language") == {}  # every batch done and forgotten
    parallel = _languages(store)
    assert None not in parallel.values()

    single = Store.open(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    single.write(document_store.upsert_documents, _corpus(n))
    subprocess.run([sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{tmp_path / 'one.sqlite3'}",
                    "run", "--stage", "language", "--batch-size", "20"], check=True, capture_output=True)
    assert _languages(single) == parallel
    again = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert json.loads(again.stdout)[0]["processed"] == 0
    store.close()


def test_workers_refused_on_sqlite(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "fimiscope", "--data-dir", str(tmp_path), "run", "--workers", "2"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.startswith("error: --workers needs PostgreSQL")
