"""The persisted ANN index: close to exact search, saved and loaded, grown and pruned in place."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fimiscope.index.ann import AnnIndex
from fimiscope.index.encoders import VectorIndex

pytest.importorskip("usearch", reason="usearch (the ANN library) comes with the [multilingual] and [test] extras")


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ann_finds_what_exact_search_finds_and_survives_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    x, q = _unit(rng, 3000), _unit(rng, 50)
    ann = AnnIndex(32, model="m@1")
    ann.add(np.arange(1, 2001), x[:2000])
    assert len(ann) == 2000 and ann.max_label == 2000
    exact = VectorIndex(32)
    exact.add([str(i) for i in range(1, 3001)], x)
    labels, scores = ann.search(q, 10)
    first = VectorIndex(32)
    first.add([str(i) for i in range(1, 2001)], x[:2000])
    truth = [[int(i) for i, _ in hits] for hits in first.search(q, 10)]
    hit = np.mean([len(set(row) & set(t)) / 10 for row, t in zip(labels.tolist(), truth, strict=True)])
    assert hit >= 0.95
    assert np.allclose(scores[:, 0], [x[labels[i, 0] - 1] @ q[i] for i in range(len(q))], atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first

    path = tmp_path / "claims.usearch"
    ann.tag = "2000:c2000"
    ann.save(path)
    note = json.loads((tmp_path / "claims.usearch.json").read_text())
    assert note["library"] == "usearch" and note["size"] == 2000 and note["max_label"] == 2000
    loaded = AnnIndex.load(path, dim=32, model="m@1")
    assert loaded is not None and len(loaded) == 2000 and loaded.tag == "2000:c2000"
    assert np.array_equal(loaded.search(q, 10)[0], labels)
    # incremental: only the new rows are added to the loaded index; removed labels never come back
    loaded.add(np.arange(2001, 3001), x[2000:])
    loaded.remove([int(truth[0][0])])
    labels2, _ = loaded.search(q, 10)
    assert int(truth[0][0]) not in labels2[0].tolist()
    all_truth = [[int(i) for i, _ in hits] for hits in exact.search(q, 10)]
    hit2 = np.mean([len(set(row) & set(t)) / 10 for row, t in zip(labels2.tolist()[1:], all_truth[1:], strict=True)])
    assert hit2 >= 0.95 and loaded.max_label == 3000

    assert AnnIndex.load(path, dim=64, model="m@1") is None  # another dimension
    assert AnnIndex.load(path, dim=32, model="m@2") is None  # another model
    assert AnnIndex.load(tmp_path / "none.usearch", dim=32) is None
    (tmp_path / "claims.usearch.json").unlink()  # a torn save: no note, no trust
    assert AnnIndex.load(path, dim=32, model="m@1") is None


def test_empty_index_and_short_results() -> None:
    ann = AnnIndex(8)
    labels, scores = ann.search(np.ones((2, 8), dtype=np.float32) / np.sqrt(8), 3)
    assert labels.tolist() == [[-1] * 3] * 2 and np.isinf(scores).all()
    ann.add([5, 9], np.eye(8, dtype=np.float32)[:2])
    labels, _ = ann.search(np.eye(8, dtype=np.float32)[:1], 5)
    assert labels[0, 0] == 5 and sorted(labels[0].tolist()) == [-1, -1, -1, 5, 9]
    with pytest.raises(ValueError):
        ann.add([1], np.ones((2, 8), dtype=np.float32))
