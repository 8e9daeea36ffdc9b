"""Stored vectors on both backends: keyed by kind, model and item; a changed text gets a new row."""

from __future__ import annotations

import numpy as np

from fimiscope.store import Store
from fimiscope.store import vectors as vector_store


def _rows(n: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_put_get_iterate_and_forget(store: Store) -> None:
    x = _rows(3)
    sentences = _rows(5, seed=1)
    with store.transaction() as conn:
        vector_store.put_vectors(conn, "claim", "m@1", [(f"c{i}", f"d{i}", x[i : i + 1]) for i in range(3)])
        vector_store.put_vectors(conn, "sentences", "m@1", [("doc1", "dd", sentences)])
        vector_store.put_vectors(conn, "claim", "m@2", [("c0", "d0", x[:1])])  # another model: its own row
    with store.connect() as conn:
        (batch,) = list(vector_store.iter_vectors(conn, "claim", "m@1"))
        assert batch.ids == ["c0", "c1", "c2"] and np.array_equal(batch.matrix, x)
        assert list(batch.pks) == sorted(batch.pks)
        later = list(vector_store.iter_vectors(conn, "claim", "m@1", after_pk=int(batch.pks[0])))
        assert [b.ids for b in later] == [["c1", "c2"]]
        got = vector_store.get_matrices(conn, "sentences", "m@1", ["doc1", "nope"])
        assert set(got) == {"doc1"} and got["doc1"][0] == "dd" and np.array_equal(got["doc1"][1], sentences)
        assert vector_store.live_labels(conn, "claim", "m@1") == dict(zip(batch.pks.tolist(), batch.ids, strict=True))
        models = vector_store.list_models(conn)
    assert models == [
        {"kind": "claim", "model": "m@1", "items": 3, "vectors": 3, "dim": 4},
        {"kind": "claim", "model": "m@2", "items": 1, "vectors": 1, "dim": 4},
        {"kind": "sentences", "model": "m@1", "items": 1, "vectors": 5, "dim": 4},
    ]
    assert store.write(vector_store.forget_model, "m@1", "claim") == 3
    assert [m["model"] for m in store.read(vector_store.list_models)] == ["m@2", "m@1"]


def test_a_changed_text_replaces_the_row_and_the_same_text_is_kept(store: Store) -> None:
    x = _rows(2)
    with store.transaction() as conn:
        vector_store.put_vectors(conn, "claim", "m@1", [("c0", "old", x[:1])])
    before = store.read(vector_store.live_labels, "claim", "m@1")
    with store.transaction() as conn:
        vector_store.put_vectors(conn, "claim", "m@1", [("c0", "old", x[1:])])  # same digest: nothing to do
    assert store.read(vector_store.live_labels, "claim", "m@1") == before
    with store.transaction() as conn:
        vector_store.put_vectors(conn, "claim", "m@1", [("c0", "new", x[1:])])
    after = store.read(vector_store.live_labels, "claim", "m@1")
    assert list(after.values()) == ["c0"] and min(after) > max(before)  # a new label for the ANN index
    got = store.read(vector_store.get_matrices, "claim", "m@1", ["c0"])
    assert got["c0"][0] == "new" and np.array_equal(got["c0"][1], x[1:])


def test_encode_missing_encodes_each_text_once_per_model(store: Store) -> None:
    seen: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return _rows(len(texts), seed=len(seen))

    steps: list[tuple[int, int]] = []
    items = [(f"c{i}", f"claim number {i}") for i in range(7)]
    assert vector_store.encode_missing(store, "claim", "m@1", items, encode, batch=3,
                                       progress=lambda d, t: steps.append((d, t))) == 7
    assert steps == [(0, 7), (3, 7), (6, 7), (7, 7)] and len(seen) == 7
    assert vector_store.encode_missing(store, "claim", "m@1", items, encode) == 0  # a restart: nothing to encode
    changed = [*items[:6], ("c6", "claim number six, reworded")]
    assert vector_store.encode_missing(store, "claim", "m@1", changed, encode) == 1
    assert vector_store.encode_missing(store, "claim", "m@2", items, encode) == 7  # a new model: all again
    assert len(seen) == 15


def test_vectors_cli_lists_and_forgets(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    import json

    with store.transaction() as conn:
        vector_store.put_vectors(conn, "claim", "m@1", [("c0", "d0", _rows(1))])
    listed = json.loads(cli("vectors", "list", "--format", "json").stdout)
    assert listed == [{"kind": "claim", "model": "m@1", "items": 1, "vectors": 1, "dim": 4}]
    assert "m@1" in cli("vectors", "list").stdout
    forgot = json.loads(cli("vectors", "forget", "m@1", "--format", "json").stdout)
    assert forgot == {"model": "m@1", "kind": None, "deleted": 1}
    assert json.loads(cli("vectors", "list", "--format", "json").stdout) == []
    missing = cli("vectors", "forget", "m@1", ok=False)
    assert missing.exit_code == 3 and "no vectors of model" in missing.stderr
