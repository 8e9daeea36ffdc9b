"""A real workbench on a loopback port (uvicorn in a thread) over a seeded SQLite store, and
Debian's Chromium driven by Playwright. Never downloads a browser."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.web.ui_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHRASE, TEXT, Live

from fimiscope.core.model import Affiliation, Document, Evidence, Provenance, Reliability, Signal, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import users as user_store


def _seed(store: Store) -> tuple[list[str], list[str]]:
    with store.transaction() as c:
        source_store.add_source(c, Source(name="rt.com", display_name="RT", country="RU", language="en",
                                          affiliation=Affiliation.STATE_CONTROLLED, reliability=Reliability.E,
                                          provenance=[Provenance(by="EEAS FIMI report", when="2024")],
                                          lists=["eeas-fimi"]))
        source_store.add_source(c, Source(name="news-front.info", affiliation=Affiliation.STATE_LINKED,
                                          reliability=Reliability.D))
        source_store.add_source(c, Source(name="daily-example.org", affiliation=Affiliation.INDEPENDENT,
                                          reliability=Reliability.B))
    now = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    docs = [Document(text=TEXT, url="https://rt.com/news/1", source="rt.com", title="Biolabs in Ukraine",
                     language="en", published_at=now - timedelta(days=3))]
    langs = ["en", "de", "fr", "ru", "en", "en"]
    srcs = ["news-front.info", "daily-example.org", "rt.com"]
    for i in range(24):
        docs.append(Document(
            text=f"Report {i}: regional news about harbours, elections and the weather. " * 3,
            url=f"https://{srcs[i % 3]}/story/{i}", source=srcs[i % 3], title=f"Regional story {i}",
            language=langs[i % len(langs)], published_at=now - timedelta(days=i % 12)))
    ids = store.write(document_store.upsert_documents, docs).ids
    start = TEXT.index(PHRASE)
    sigs = [
        Signal(type="laundering", title="RT biolab story republished without attribution", score=0.93,
               detector="laundering", detector_version="1", key="ui-1",
               summary="The RT paragraph reappears on news-front.info within 4 hours, attribution stripped.",
               evidence=[Evidence(document_id=ids[0], role="origin", span_start=start, span_end=start + len(PHRASE),
                                  score=0.97),
                         Evidence(document_id=ids[1], role="copy", score=0.88)]),
        Signal(type="claim", title="Debunked claim: secret biolabs", score=0.74, detector="claims",
               detector_version="1", key="ui-2",
               evidence=[Evidence(document_id=ids[0], role="match", span_start=start, span_end=start + len(PHRASE),
                                  score=0.74)]),
        Signal(type="coordination", title="Five accounts posted the same link within a minute", score=0.41,
               detector="coordination", detector_version="1", key="ui-3",
               evidence=[Evidence(document_id=ids[2], role="member")]),
    ]
    store.write(signal_store.upsert_signals, sigs)
    return ids, [s.id for s in sigs if s.id]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(store: Store, data_dir: Path) -> Iterator[str]:
    """The real app over ``store`` on a free loopback port (uvicorn in a thread); yields its URL."""
    import uvicorn

    from fimiscope.app import create_app
    from fimiscope.config import Settings

    app = create_app(Settings(data_dir=data_dir), store=store, worker=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    store = Store.open(None, tmp_path / "data")
    user_store.add_user(store, "ana", PASSWORD, "analyst")
    user_store.add_user(store, "vic", PASSWORD, "viewer")
    doc_ids, sig_ids = _seed(store)
    try:
        with serving(store, tmp_path / "data") as url:
            yield Live(url=url, store=store, doc_ids=doc_ids, signal_ids=sig_ids)
    finally:
        store.close()


@pytest.fixture
def demo_live(tmp_path: Path) -> Iterator[Live]:
    """The fictional demo scenario, built by the real `fimiscope demo` command (collection over
    loopback, every detector), served with an analyst login."""
    data = tmp_path / "demo"
    env = {**os.environ, "FIMISCOPE_DATA_DIR": str(data)}
    env.pop("FIMISCOPE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "fimiscope", "demo", "--scale", "0.2", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    store = Store.open(None, data)
    user_store.add_user(store, "ana", PASSWORD, "analyst")
    try:
        with serving(store, data) as url:
            yield Live(url=url, store=store, doc_ids=[], signal_ids=[])
    finally:
        store.close()


@pytest.fixture
def page() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        pg = context.new_page()
        try:
            yield pg
        finally:
            context.close()
            browser.close()
