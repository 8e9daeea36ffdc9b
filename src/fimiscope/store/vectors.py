"""Stored encoder vectors: a claim's vector and a document's sentence vectors, keyed by
(kind, model ``name@version``, item id), so every text is encoded once per model.

A row keeps the digest of the text it was made from; when the text changes, the row is
replaced (with a new ``pk``). ``pk`` only grows, which is what lets an ANN index on disk catch
up: it adds the rows past the highest ``pk`` it holds and ignores labels that are gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import URL, Connection

from fimiscope.core.clock import utcnow
from fimiscope.index.ann import AnnIndex
from fimiscope.store import Store
from fimiscope.store.sql import chunks, insert_ignore
from fimiscope.store.tables_vectors import vectors

__all__ = [
    "CaughtUp",
    "VectorRows",
    "caught_up_index",
    "embedding_type",
    "encode_missing",
    "forget_model",
    "get_matrices",
    "index_path",
    "iter_vectors",
    "list_models",
    "live_labels",
    "put_vectors",
    "stored_digests",
    "text_digest",
    "vector_literal",
]

_BATCH = 500


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def index_path(url: URL, folder: Path | None, prefix: str, model: str) -> Path | None:
    """Where a detector keeps the ANN index over its stored vectors: ``vectors/`` beside an
    SQLite file, else ``folder`` (a database server's, named by its URL so two stores never
    share one file); None (no folder for a server): the caller keeps it in memory."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent / "vectors"
    if folder is None:
        return None
    where = hashlib.blake2b(url.render_as_string(hide_password=True).encode(), digest_size=6).hexdigest()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)
    return folder / f"{prefix}-{slug}-{where}.ann"  # the index's note says which library wrote it


def _pack(matrix: NDArray[np.float32]) -> bytes:
    return np.ascontiguousarray(matrix, dtype="<f4").tobytes()


def _unpack(data: bytes, size: int, dim: int) -> NDArray[np.float32]:
    return np.frombuffer(data, dtype="<f4").reshape(size, dim).astype(np.float32, copy=False)


def embedding_type(conn: Connection) -> str | None:
    """pgvector's type, schema-qualified, when this store's ``vectors`` table has the
    ``embedding`` column (PostgreSQL with the extension, migration ``vectors_0002``); else None."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(
        sa.text(
            "SELECT format('%I.%I', tn.nspname, t.typname) FROM pg_attribute a "
            "JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace "
            "WHERE a.attrelid = to_regclass('vectors') AND a.attname = 'embedding' AND NOT a.attisdropped"
        )
    ).scalar()


def vector_literal(vector: NDArray[np.float32]) -> str:
    """pgvector's text form of one vector (shortest decimals that read back as the same float32)."""
    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector, dtype=np.float32).ravel()) + "]"


def put_vectors(
    conn: Connection, kind: str, model: str, items: Sequence[tuple[str, str, NDArray[np.float32]]]
) -> None:
    """Store ``(item id, text digest, matrix)`` rows, replacing an item's older row. On a server
    with pgvector a claim's vector is written to ``embedding`` as well."""
    if not items:
        return
    now = utcnow()
    pgvector = embedding_type(conn)
    for batch in chunks(items, _BATCH):
        # A changed text's row goes (its pk with it: the ANN index drops that label); an unchanged
        # one stays. Two workers storing the same item at once: the second insert is ignored.
        have = stored_digests(conn, kind, model, [item_id for item_id, _, _ in batch])
        changed = [item_id for item_id, digest, _ in batch if have.get(item_id, digest) != digest]
        if changed:
            conn.execute(
                vectors.delete().where(vectors.c.kind == kind, vectors.c.model == model, vectors.c.item_id.in_(changed))
            )
        batch = [item for item in batch if have.get(item[0]) != item[1]]
        if not batch:
            continue
        conn.execute(
            insert_ignore(conn, vectors),
            [
                {
                    "kind": kind,
                    "model": model,
                    "item_id": item_id,
                    "digest": digest,
                    "size": int(matrix.shape[0]),
                    "dim": int(matrix.shape[1]) if matrix.ndim == 2 else 0,
                    "data": _pack(matrix),
                    "created_at": now,
                }
                for item_id, digest, matrix in batch
            ],
        )
        claims = pgvector is not None and kind == "claim"
        singles = [(item_id, matrix) for item_id, _, matrix in batch if claims and matrix.shape[0] == 1]
        if singles:
            conn.execute(
                sa.text(f"UPDATE vectors SET embedding = CAST(:e AS {pgvector}) "
                        "WHERE kind = :kind AND model = :model AND item_id = :item AND embedding IS NULL"),
                [{"e": vector_literal(m[0]), "kind": kind, "model": model, "item": i} for i, m in singles],
            )


def stored_digests(conn: Connection, kind: str, model: str, ids: Sequence[str]) -> dict[str, str]:
    """item id -> digest of the text its stored vectors were made from."""
    out: dict[str, str] = {}
    for batch in chunks(ids, _BATCH):
        rows = conn.execute(
            sa.select(vectors.c.item_id, vectors.c.digest).where(
                vectors.c.kind == kind, vectors.c.model == model, vectors.c.item_id.in_(batch)
            )
        )
        out.update({r.item_id: r.digest for r in rows})
    return out


def get_matrices(
    conn: Connection, kind: str, model: str, ids: Sequence[str]
) -> dict[str, tuple[str, NDArray[np.float32]]]:
    """item id -> (digest, matrix) for the ids that have vectors of ``model``."""
    out: dict[str, tuple[str, NDArray[np.float32]]] = {}
    for batch in chunks(ids, _BATCH):
        rows = conn.execute(
            sa.select(vectors.c.item_id, vectors.c.digest, vectors.c.size, vectors.c.dim, vectors.c.data).where(
                vectors.c.kind == kind, vectors.c.model == model, vectors.c.item_id.in_(batch)
            )
        )
        for r in rows:
            out[r.item_id] = (r.digest, _unpack(r.data, r.size, r.dim))
    return out


@dataclass(slots=True)
class VectorRows:
    """A run of single-vector rows in ``pk`` order: the labels, item ids and vectors."""

    pks: NDArray[np.int64]
    ids: list[str]
    matrix: NDArray[np.float32]


def iter_vectors(
    conn: Connection, kind: str, model: str, *, after_pk: int = 0, batch: int = 20_000
) -> Iterator[VectorRows]:
    """Single-vector rows (claims) of ``model`` past ``after_pk``, in ``pk`` order, in batches."""
    last = after_pk
    while True:
        rows = conn.execute(
            sa.select(vectors.c.pk, vectors.c.item_id, vectors.c.dim, vectors.c.data)
            .where(vectors.c.kind == kind, vectors.c.model == model, vectors.c.pk > last)
            .order_by(vectors.c.pk)
            .limit(batch)
        ).all()
        if not rows:
            return
        dim = rows[0].dim
        matrix = np.frombuffer(b"".join(r.data for r in rows), dtype="<f4").reshape(len(rows), dim)
        yield VectorRows(
            pks=np.fromiter((r.pk for r in rows), dtype=np.int64, count=len(rows)),
            ids=[r.item_id for r in rows],
            matrix=matrix.astype(np.float32, copy=False),
        )
        last = rows[-1].pk


def live_labels(conn: Connection, kind: str, model: str) -> dict[int, str]:
    """pk -> item id of every row of ``model``: what an ANN index's labels mean now."""
    rows = conn.execute(
        sa.select(vectors.c.pk, vectors.c.item_id).where(vectors.c.kind == kind, vectors.c.model == model)
    )
    return {int(r.pk): r.item_id for r in rows}


@dataclass
class CaughtUp:
    """An ANN index over every stored vector of one kind and model, what its labels mean now
    (``pk`` -> item id) and how it was had: ``kept`` (the caller's, caught up), ``loaded`` (from
    disk), ``built`` (from the rows: there was none) or ``rebuilt`` (the one held or saved
    belonged to other rows)."""

    ann: AnnIndex | None
    labels: dict[int, str]
    origin: str


def caught_up_index(
    conn: Connection,
    kind: str,
    model: str,
    path: Path | None,
    *,
    held: AnnIndex | None = None,
    dim: int | None = None,
    backend: str | None = None,
) -> CaughtUp:
    """The index ``held`` by the caller, else the one saved at ``path``, caught up with the rows:
    rows stored since it was saved are added (a load of rows, never an encoding), rows gone are
    removed, and it is dropped and rebuilt from every row when its highest label no longer names
    the same item (another store, or rows replaced). Saved at ``path`` again when it changed; a
    read-only folder only costs a rebuild at the next start. ``ann`` is None when there are no
    rows."""
    labels = live_labels(conn, kind, model)
    ann, origin = held, "kept"
    if ann is None:
        ann = AnnIndex.load(path, dim=dim, model=model, backend=backend) if path is not None else None
        origin = "loaded" if ann is not None else "built"
    if ann is not None and ann.max_label and ann.tag != f"{ann.max_label}:{labels.get(ann.max_label)}":
        ann, origin = None, "rebuilt"
    changed = False
    for rows in iter_vectors(conn, kind, model, after_pk=ann.max_label if ann is not None else 0):
        if ann is None:
            ann = AnnIndex(rows.matrix.shape[1], model=model, backend=backend)
        ann.add(rows.pks, rows.matrix)
        changed = True
    if ann is None:
        return CaughtUp(None, labels, origin)
    gone = [int(x) for x in ann.labels() if int(x) not in labels]
    if gone:
        ann.remove(gone)
        changed = True
    if changed:
        ann.tag = f"{ann.max_label}:{labels.get(ann.max_label)}"
        if path is not None:
            with contextlib.suppress(OSError):
                ann.save(path)
    return CaughtUp(ann, labels, origin)


def list_models(conn: Connection) -> list[dict[str, object]]:
    """Which models have vectors stored, per kind: ``{"kind", "model", "items", "vectors", "dim"}``."""
    rows = conn.execute(
        sa.select(
            vectors.c.kind,
            vectors.c.model,
            sa.func.count().label("items"),
            sa.func.sum(vectors.c.size).label("vectors"),
            sa.func.max(vectors.c.dim).label("dim"),
        )
        .group_by(vectors.c.kind, vectors.c.model)
        .order_by(vectors.c.kind, vectors.c.model)
    )
    return [
        {"kind": r.kind, "model": r.model, "items": int(r.items), "vectors": int(r.vectors or 0), "dim": int(r.dim)}
        for r in rows
    ]


def forget_model(conn: Connection, model: str, kind: str | None = None) -> int:
    """Delete a model's vectors (of one kind, or all); returns the rows deleted."""
    cond = vectors.c.model == model
    if kind is not None:
        cond = sa.and_(cond, vectors.c.kind == kind)
    return int(conn.execute(vectors.delete().where(cond)).rowcount or 0)


def encode_missing(
    store: Store,
    kind: str,
    model: str,
    items: Sequence[tuple[str, str]],
    encode: Callable[[list[str]], NDArray[np.float32]],
    *,
    batch: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode the ``(item id, text)`` items that have no vectors of ``model`` for that very text,
    ``batch`` texts at a time, each batch stored in a transaction of its own (killing the run
    loses at most the batch in flight). ``progress(done, total)`` after each batch. Returns how
    many items were encoded."""
    digests = {item_id: text_digest(text) for item_id, text in items}
    with store.connect() as conn:
        have = stored_digests(conn, kind, model, list(digests))
    todo = [(item_id, text) for item_id, text in items if have.get(item_id) != digests[item_id]]
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        vecs = encode([text for _, text in part])
        with store.transaction() as conn:
            put_vectors(conn, kind, model, [(item_id, digests[item_id], vecs[i : i + 1]) for i, (item_id, _) in
                                            enumerate(part)])
        if progress is not None:
            progress(min(start + batch, len(todo)), len(todo))
    return len(todo)
