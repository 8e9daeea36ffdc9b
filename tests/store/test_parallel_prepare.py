"""An import that prepares its batches in worker processes (hashes, zstd, lemmas) stores the
same rows, raw archive and full-text index as one that prepares them in its own thread;
re-importing changes nothing, a changed document is versioned, rejections are kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from fimiscope.collect.generic import Rejection
from fimiscope.core.model import Document
from fimiscope.pipeline import ingest
from fimiscope.store import Store
from fimiscope.store import search as search_store
from fimiscope.store.tables import documents, raw_blobs

N = 60
BATCH = 7  # eight batches: two in the reading thread, then several in flight in two processes


def _items(edited: int | None = None) -> Iterator[Document | Rejection]:
    for i in range(N):
        if i % 13 == 5:
            yield Rejection(line=i + 1, reason="not a document", field="url")
            continue
        lang = ("cs", "en", "ru", None)[i % 4]
        text = {"cs": f"zpráva {i} o obilím a volbách", "en": f"report {i} on the harvests and elections",
                "ru": f"сообщение {i} о зерном и выборах", None: f"note {i} plain words"}[lang]
        if i == edited:
            text += " (corrected)"
        if i % 11 == 3:
            text += " with a \x00 NUL"
        yield Document(text=text, url=f"https://par.example/{i}", source="par.example", title=f"Title {i}",
                       language=lang, published_at=datetime(2024, 1, 1 + i % 28, tzinfo=UTC),
                       raw=f'{{"n": {i}, "text": "{text}"}}'.encode(), links=[f"https://x.example/{i}"])


def _stored(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    cols = [documents.c.key, documents.c.seq, documents.c.title, documents.c.text, documents.c.lemmas,
            documents.c.language, documents.c.content_hash, documents.c.raw_hash, documents.c.version,
            documents.c.links]
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(documents.c.seq))]
        blobs = [tuple(r) for r in conn.execute(
            sa.select(raw_blobs.c.hash, raw_blobs.c.size, raw_blobs.c.data).order_by(raw_blobs.c.hash))]
    return rows, blobs


def test_worker_processes_store_what_one_thread_stores(store: Store, sqlite_store: Store) -> None:
    serial = ingest(sqlite_store, _items(), batch_size=BATCH, processes=0)
    parallel = ingest(store, _items(), batch_size=BATCH, processes=2)
    assert (parallel.new, parallel.updated, parallel.unchanged) == (serial.new, 0, 0) == (N - 5, 0, 0)
    assert [r.line for r in parallel.rejected] == [r.line for r in serial.rejected] == [6, 19, 32, 45, 58]
    assert _stored(store) == _stored(sqlite_store)
    rows, _ = _stored(store)
    assert all("\x00" not in r[3] for r in rows)
    for word in ("obilí", "harvest", "зерно", "plain"):  # lemmas and exact forms, all batches
        hits = store.read(search_store.search, word, limit=N)
        assert len(hits) == len(sqlite_store.read(search_store.search, word, limit=N)) > 0, word

    again = ingest(store, _items(), batch_size=BATCH, processes=2)
    assert (again.new, again.updated, again.unchanged) == (0, 0, N - 5)
    assert _stored(store)[0] == rows

    edited = ingest(store, _items(edited=40), batch_size=BATCH, processes=2)
    assert (edited.new, edited.updated, edited.unchanged) == (0, 1, N - 6)
    assert store.read(search_store.search, "corrected")[0][0].url == "https://par.example/40"
