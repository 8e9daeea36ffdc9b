"""The persisted ANN index: close to exact search, saved and loaded, grown and pruned in place."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fimiscope.index.ann import BACKENDS, AnnIndex, available_backends
from fimiscope.index.encoders import VectorIndex

# Both libraries behind the interface are tested; the [test] extra installs both.
backends = pytest.mark.parametrize(
    "backend",
    [b if b in available_backends() else pytest.param(b, marks=pytest.mark.skip(reason=f"{b} is not installed "
     "(the [test] extra installs faiss-cpu and usearch)")) for b in BACKENDS],
)


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@backends
def test_ann_finds_what_exact_search_finds_and_survives_a_restart(tmp_path, backend) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    x, q = _unit(rng, 3000), _unit(rng, 50)
    ann = AnnIndex(32, model="m@1", backend=backend)
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

    path = tmp_path / "claims.ann"
    ann.tag = "2000:c2000"
    ann.save(path)
    note = json.loads((tmp_path / "claims.ann.json").read_text())
    assert note["library"] == backend and note["size"] == 2000 and note["max_label"] == 2000
    other = next(b for b in BACKENDS if b != backend)
    assert AnnIndex.load(path, dim=32, model="m@1", backend=other) is None  # the other library's file
    loaded = AnnIndex.load(path, dim=32, model="m@1", backend=backend)
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
    assert len(loaded) == 2999 and int(truth[0][0]) not in loaded.labels().tolist()
    # the removal is saved too
    loaded.save(path)
    again = AnnIndex.load(path, dim=32, model="m@1", backend=backend)
    assert again is not None and len(again) == 2999
    assert np.array_equal(again.search(q, 10)[0], labels2)

    assert AnnIndex.load(path, dim=64, model="m@1", backend=backend) is None  # another dimension
    assert AnnIndex.load(path, dim=32, model="m@2", backend=backend) is None  # another model
    assert AnnIndex.load(tmp_path / "none.ann", dim=32, backend=backend) is None
    (tmp_path / "claims.ann.json").unlink()  # a torn save: no note, no trust
    assert AnnIndex.load(path, dim=32, model="m@1", backend=backend) is None


@backends
def test_removing_many_labels_and_adding_one_back(backend: str) -> None:
    rng = np.random.default_rng(2)
    x = _unit(rng, 400)
    ann = AnnIndex(32, backend=backend)
    ann.add(np.arange(1, 401), x)
    gone = list(range(1, 201))  # half the graph: faiss rebuilds it from the vectors it holds
    ann.remove(gone)
    assert len(ann) == 200 and sorted(ann.labels().tolist()) == list(range(201, 401))
    labels, scores = ann.search(x[:5], 3)
    assert not set(labels.ravel().tolist()) & set(gone)
    assert labels[:, 0].tolist() != list(range(1, 6))
    ann.remove([300])
    ann.add([300], x[300:301] * 0 + x[0:1])  # a removed label comes back with another vector
    labels, scores = ann.search(x[0:1], 1)
    assert labels[0, 0] == 300 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert len(ann) == 200


@backends
def test_empty_index_and_short_results(backend: str) -> None:
    ann = AnnIndex(8, backend=backend)
    labels, scores = ann.search(np.ones((2, 8), dtype=np.float32) / np.sqrt(8), 3)
    assert labels.tolist() == [[-1] * 3] * 2 and np.isinf(scores).all()
    ann.add([5, 9], np.eye(8, dtype=np.float32)[:2])
    labels, _ = ann.search(np.eye(8, dtype=np.float32)[:1], 5)
    assert labels[0, 0] == 5 and sorted(labels[0].tolist()) == [-1, -1, -1, 5, 9]
    with pytest.raises(ValueError):
        ann.add([1], np.ones((2, 8), dtype=np.float32))


def test_exact_search_runs_on_one_blas_thread_and_gives_the_threads_back() -> None:
    from threadpoolctl import threadpool_info

    from fimiscope.index import encoders

    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    x = _unit(np.random.default_rng(3), 500)
    index = VectorIndex(32)
    index.add([str(i) for i in range(500)], x)
    hits = index.search(x[:4], 3)
    assert [h[0][0] for h in hits] == ["0", "1", "2", "3"] and all(len(h) == 3 for h in hits)
    assert encoders.SEARCH_BLAS_THREADS == 1
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before
