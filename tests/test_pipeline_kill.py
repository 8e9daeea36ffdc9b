"""`fimiscope run` killed with SIGKILL half-way loses nothing committed and resumes where it stopped."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import watermarks as watermark_store

STAGE = "extract.language"
SENTENCES = [
    "The ministry published a statement about the elections.",
    "Ministerstvo zveřejnilo prohlášení k volbám a k jejich průběhu.",
    "Министерство опубликовало заявление о выборах и их ходе.",
]


def _languages_done(store: Store, up_to: int) -> tuple[int, int]:
    with store.connect() as c:
        done = c.execute(
            sa.text("SELECT count(*) FROM documents WHERE seq <= :w AND language IS NOT NULL"), {"w": up_to}
        ).scalar_one()
        total = c.execute(sa.text("SELECT count(*) FROM documents WHERE seq <= :w"), {"w": up_to}).scalar_one()
    return int(done), int(total)


@pytest.mark.slow
def test_sigkill_mid_run_loses_nothing_and_resumes(database_url: str) -> None:
    store = Store.open(database_url)
    n = 12_000
    store.write(document_store.upsert_documents,
                [Document(text=f"{SENTENCES[i % 3]} ({i})", url=f"https://k.example/{i}") for i in range(n)])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "fimiscope", "--database-url", database_url, "run", "--stage", STAGE,
           "--batch-size", "25", "--format", "json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    mark = 0
    while time.monotonic() < deadline and proc.poll() is None:
        mark = store.read(watermark_store.watermark, STAGE)
        if mark >= 1_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; raise n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    killed_at = store.read(watermark_store.watermark, STAGE)
    assert 0 < killed_at < n
    done, total = _languages_done(store, killed_at)
    assert done == total == killed_at  # every committed batch is complete
    with store.connect() as c:
        after = c.execute(
            sa.text("SELECT count(*) FROM documents WHERE seq > :w AND language IS NOT NULL"), {"w": killed_at}
        ).scalar_one()
    assert after == 0  # the batch in flight was rolled back whole

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(rerun.stdout)[0]
    assert report["processed"] == n - killed_at  # resumed, not restarted
    assert report["watermark"] == n
    done, total = _languages_done(store, n)
    assert done == total == n
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(again.stdout)[0]["processed"] == 0
    store.close()
