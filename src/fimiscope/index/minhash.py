"""MinHash/LSH near-duplicate kernel: text normalisation, word shingles, batch signatures, banding.

Free of storage: everything here works on NumPy arrays, so the store can persist the
signatures and band keys (``LSHIndex.to_bytes`` / ``band_keys``) and the coordination
detector can reuse the same kernel.

Two signature schemes, chosen by ``benchmarks/minhash_bench.py``:

* ``"oph"`` (default): one-permutation hashing with rotation densification (Li, Owen & Zhang
  2012; Shrivastava & Li 2014). One 64-bit hash per shingle; its top bits pick one of
  ``num_perm`` bins and the minimum per bin is the signature. Cost O(shingles) instead of
  O(shingles x num_perm), with the same collision probability (= Jaccard) per slot.
* ``"classic"``: ``num_perm`` universal hash functions (multiply-shift ``(a*x + b) >> 32``
  over the 32-bit shingle hashes), vectorised min over shingles.

Signatures of the two schemes are not comparable with each other; a persisted index records
its scheme, seed and num_perm.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

U64 = np.uint64
_MASK32 = np.uint64(0xFFFFFFFF)
EMPTY = np.uint32(0xFFFFFFFF)  # slot value of a document with no shingles

# --- normalisation ----------------------------------------------------------------------------

# Scholarly-ish transliteration that keeps ru/uk/bg/sr copies comparable with Latin-script ones
# (names, places); the goal is matching, not a reversible romanisation.
_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "e", "є": "ye",
    "ж": "zh", "з": "z", "ѕ": "dz", "и": "i", "і": "i", "ї": "yi", "й": "y", "ј": "j", "к": "k", "л": "l",
    "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c",
    "у": "u", "ў": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "џ": "dzh", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_TRANSLIT = str.maketrans(_CYR)
_NON_WORD = re.compile(r"[^\w]+|_+")


def transliterate(text: str) -> str:
    """Cyrillic to Latin on casefolded text (other scripts pass through)."""
    return text.translate(_TRANSLIT)


def normalize(text: str) -> str:
    """NFKC, casefold, Cyrillic transliterated to Latin, punctuation to spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = transliterate(text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()


# --- shingles ---------------------------------------------------------------------------------


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64 finaliser: a fast, well-spread bijection on uint64 (wraps on purpose)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> U64(30))
        x = x * U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> U64(27))
        x = x * U64(0x94D049BB133111EB)
        return x ^ (x >> U64(31))


_P = 0x100000001B3  # odd, so invertible modulo 2**64
_P_INV = pow(_P, -1, 2**64)
_SPACE, _NEWLINE = 32, 10
_pow_cache: dict[str, NDArray[np.uint64]] = {}


def _powers(n: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """P**i and P**-i (mod 2**64) for i < n, grown and cached."""
    have = _pow_cache.get("p")
    if have is None or have.size < n:
        size = max(n, 1 << 16, 0 if have is None else 2 * have.size)
        _pow_cache["p"] = np.cumprod(np.full(size, _P, dtype=np.uint64), dtype=np.uint64)
        _pow_cache["q"] = np.cumprod(np.full(size, _P_INV, dtype=np.uint64), dtype=np.uint64)
    return _pow_cache["p"][:n], _pow_cache["q"][:n]


def _token_hashes_flat(docs: Sequence[str]) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Hashes of every token of every (normalised, space-separated) document, and the number of
    tokens per document. Vectorised over the bytes of the whole batch: no Python per token.

    A token's hash is a polynomial over its bytes: summed over the batch with absolute powers
    (one ``reduceat``), then shifted back to its own origin with the inverse power."""
    n = len(docs)
    if n == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    data = np.frombuffer("\n".join(docs).encode("utf-8"), dtype=np.uint8)
    is_sep = (data == _SPACE) | (data == _NEWLINE)
    prev_sep = np.empty_like(is_sep)
    if data.size:
        prev_sep[0] = True
        prev_sep[1:] = is_sep[:-1]
    starts = np.flatnonzero(~is_sep & prev_sep)
    if starts.size == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(n, dtype=np.int64)
    pw, inv = _powers(data.size)
    with np.errstate(over="ignore"):
        contrib = data.astype(np.uint64)
        contrib += U64(1)
        contrib[is_sep] = 0
        contrib *= pw
        sums = np.add.reduceat(contrib, starts) * inv[starts]
    hashes = _mix64(sums)
    bounds = np.concatenate([[0], np.flatnonzero(data == _NEWLINE) + 1, [data.size + 1]])
    counts = np.diff(np.searchsorted(starts, bounds)).astype(np.int64)
    return hashes, counts


def _combine(th: NDArray[np.uint64], width: int, n: int) -> NDArray[np.uint64]:
    acc = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(width):
            part = th[i : i + n]
            rot = U64((7 * i + 1) % 64)  # position-dependent rotation keeps "a b" and "b a" apart
            acc ^= (part << rot) | (part >> (U64(64) - rot))
    return _mix64(acc)


def shingle_batch(docs: Sequence[str], k: int = 5) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Word k-shingle hashes of a batch of normalised documents, flat (duplicates kept), with
    the number of shingles per document. A document shorter than k words is one shingle."""
    n = len(docs)
    th, counts = _token_hashes_flat(docs)
    if th.size == 0:
        return th, np.zeros(n, dtype=np.int64)
    m = max(th.size - k + 1, 0)
    ends = np.cumsum(counts)
    begins = ends - counts
    per = np.maximum(counts - k + 1, 0)
    if m:
        windows = _combine(th, k, m)
        doc_of = np.repeat(np.arange(n), counts)
        keep = windows[doc_of[:m] == doc_of[k - 1 : k - 1 + m]]
    else:
        keep = np.empty(0, dtype=np.uint64)
    short = np.flatnonzero((counts > 0) & (counts < k))
    if short.size == 0:
        return keep, per
    # rare: a document shorter than k words gets one shingle of all its words
    offs = np.concatenate([[0], np.cumsum(per)])
    pieces: list[NDArray[np.uint64]] = []
    out_counts = per.copy()
    cursor = 0
    for d in short.tolist():
        pieces.append(keep[cursor : offs[d]])
        pieces.append(_combine(th[begins[d] : ends[d]], int(counts[d]), 1))
        out_counts[d] = 1
        cursor = int(offs[d])
    pieces.append(keep[cursor:])
    return np.concatenate(pieces), out_counts


def shingle_hashes(text_or_tokens: str | Sequence[str], k: int = 5) -> NDArray[np.uint64]:
    """Distinct 64-bit hashes of the word k-shingles (a text shorter than k is one shingle)."""
    norm = normalize(text_or_tokens) if isinstance(text_or_tokens, str) else " ".join(text_or_tokens)
    flat, _ = shingle_batch([norm], k)
    return np.unique(flat)


def jaccard(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> float:
    """Exact Jaccard of two distinct-hash arrays."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def containment(part: NDArray[np.uint64], whole: NDArray[np.uint64]) -> float:
    """Share of ``part``'s shingles found in ``whole``."""
    if part.size == 0:
        return 0.0
    return np.intersect1d(part, whole, assume_unique=True).size / part.size


# --- signatures -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinHasher:
    """Batch MinHash signatures (uint32, ``num_perm`` slots per document)."""

    num_perm: int = 128
    seed: int = 1
    scheme: str = "oph"

    def __post_init__(self) -> None:
        if self.scheme not in ("oph", "classic"):
            raise ValueError("scheme is 'oph' or 'classic'")
        if self.scheme == "oph" and (self.num_perm & (self.num_perm - 1) or self.num_perm < 2):
            raise ValueError("one-permutation hashing needs num_perm to be a power of two")

    @property
    def _params(self) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
        rng = np.random.default_rng(self.seed)
        a = rng.integers(1, 2**63, size=self.num_perm, dtype=np.uint64) | U64(1)
        b = rng.integers(0, 2**63, size=self.num_perm, dtype=np.uint64)
        return a, b

    def signatures(self, shingle_sets: Sequence[NDArray[np.uint64]]) -> NDArray[np.uint32]:
        """One row per input set; rows of empty sets are all ``EMPTY``."""
        n = len(shingle_sets)
        lengths = np.fromiter((s.size for s in shingle_sets), dtype=np.int64, count=n)
        flat = np.concatenate(shingle_sets) if n else np.empty(0, dtype=np.uint64)
        return self.signatures_flat(flat.astype(np.uint64, copy=False), lengths)

    def signatures_flat(self, flat: NDArray[np.uint64], lengths: NDArray[np.int64]) -> NDArray[np.uint32]:
        """Signatures from one flat array of shingle hashes and the count per document (the
        layout ``shingle_batch`` returns); duplicates inside a document do not matter."""
        n = lengths.size
        out = np.full((n, self.num_perm), EMPTY, dtype=np.uint32)
        if n == 0 or flat.size == 0:
            return out
        if self.scheme == "oph":
            rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
            self._oph(flat, rows, lengths, out)
        else:
            self._classic(flat, lengths, out)
        return out

    def _oph(
        self, flat: NDArray[np.uint64], rows: NDArray[np.int64], lengths: NDArray[np.int64], out: NDArray[np.uint32]
    ) -> None:
        p = self.num_perm
        bits = p.bit_length() - 1
        h = _mix64(flat ^ U64(self.seed * 0x9E3779B97F4A7C15 % 2**64))
        bins = (h >> U64(64 - bits)).astype(np.int64) if bits else np.zeros(h.size, dtype=np.int64)
        vals = (h & _MASK32).astype(np.uint32)
        flat_out = out.reshape(-1)
        np.minimum.at(flat_out, rows * p + bins, vals)
        self._densify(out, lengths)

    @staticmethod
    def _densify(out: NDArray[np.uint32], lengths: NDArray[np.int64]) -> None:
        """Rotation densification: an empty bin takes the next non-empty bin's value (circularly)
        plus an offset per step, so two similar sets borrow alike and the estimate stays unbiased."""
        empty = out == EMPTY
        if not empty.any():
            return
        p = out.shape[1]
        idx = np.where(empty, np.int64(2 * p), np.arange(p, dtype=np.int64)[None, :])
        doubled = np.concatenate([idx, idx + p], axis=1)
        doubled = np.where(doubled >= 2 * p, np.int64(4 * p), doubled)
        nxt = np.minimum.accumulate(doubled[:, ::-1], axis=1)[:, ::-1][:, :p]
        has = lengths > 0
        steps = nxt - np.arange(p)[None, :]
        src = np.where(nxt >= 2 * p, 0, nxt % p)
        borrowed = np.take_along_axis(out, src, axis=1).astype(np.uint64)
        with np.errstate(over="ignore"):
            filled = ((borrowed + steps.astype(np.uint64) * U64(0x9E3779B1)) & _MASK32).astype(np.uint32)
        filled = np.where(filled == EMPTY, np.uint32(EMPTY - 1), filled)
        mask = empty & has[:, None]
        out[mask] = filled[mask]

    def _classic(self, flat: NDArray[np.uint64], lengths: NDArray[np.int64], out: NDArray[np.uint32]) -> None:
        a, b = self._params
        x = (_mix64(flat) & _MASK32)[:, None]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        nonempty = lengths > 0
        # chunk so the (shingles x num_perm) matrix stays around 32 MB
        chunk_rows = max(1, (1 << 22) // self.num_perm)
        docs = np.flatnonzero(nonempty)
        i = 0
        while i < docs.size:
            j = i
            total = 0
            while j < docs.size and (total + lengths[docs[j]] <= chunk_rows or j == i):
                total += int(lengths[docs[j]])
                j += 1
            lo = int(starts[docs[i]])
            hi = int(starts[docs[j - 1]] + lengths[docs[j - 1]])
            with np.errstate(over="ignore"):
                hv = ((a[None, :] * x[lo:hi] + b[None, :]) >> U64(32)).astype(np.uint32)
            offs = starts[docs[i:j]] - lo
            out[docs[i:j]] = np.minimum.reduceat(hv, offs, axis=0)
            i = j

    def texts(self, texts: Iterable[str], k: int = 5) -> NDArray[np.uint32]:
        """Signatures of raw texts (normalised here), the whole batch vectorised."""
        flat, counts = shingle_batch([normalize(t) for t in texts], k)
        return self.signatures_flat(flat, counts)


def estimate_jaccard(sig_a: NDArray[np.uint32], sig_b: NDArray[np.uint32]) -> float:
    if sig_a[0] == EMPTY and (sig_a == EMPTY).all():
        return 0.0
    return float(np.mean(sig_a == sig_b))


# --- LSH banding ------------------------------------------------------------------------------


def _integrate(f: object, a: float, b: float, steps: int = 200) -> float:
    xs = np.linspace(a, b, steps + 1)
    ys = np.array([f(x) for x in xs])  # type: ignore[operator]
    return float(np.trapezoid(ys, xs))


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false-positive and false-negative areas of the
    S-curve 1 - (1 - s^r)^b around ``threshold`` (the same criterion as datasketch)."""
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        r = num_perm // b
        if r < 1:
            break
        fp = _integrate(lambda s, b=b, r=r: 1 - (1 - s**r) ** b, 0.0, threshold)
        fn = _integrate(lambda s, b=b, r=r: 1 - (1 - (1 - s**r) ** b), threshold, 1.0)
        err = fp * fp_weight + fn * fn_weight
        if err < best_err:
            best, best_err = (b, r), err
    return best


def band_keys(signatures: NDArray[np.uint32], bands: int, rows: int) -> NDArray[np.int64]:
    """One 63-bit key per (document, band); the band number is mixed in, so keys of all bands
    can share one bucket table. Signed int64 so a database BIGINT holds them."""
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.zeros((n, bands), dtype=np.uint64) + np.arange(1, bands + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        for r in range(rows):
            acc = _mix64(acc * U64(0x100000001B3) ^ sig[:, :, r])
    keys = (acc >> U64(1)).astype(np.int64)
    empty = (signatures == EMPTY).all(axis=1)
    keys[empty] = -1  # empty documents never collide
    return keys


class LSHIndex:
    """In-memory incremental LSH over integer ids: ``add`` a batch, ``query`` a batch.

    Buckets are a sorted array of band keys with their ids; additions wait in a buffer that is
    merged on the next query, so both are vectorised. ``to_bytes``/``from_bytes`` persist it.
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, bands: int | None = None) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        if bands is None:
            self.bands, self.rows = optimal_bands(threshold, num_perm)
        else:
            self.bands, self.rows = bands, num_perm // bands
        self._keys = np.empty(0, dtype=np.int64)
        self._ids = np.empty(0, dtype=np.int64)
        self._pending_keys: list[NDArray[np.int64]] = []
        self._pending_ids: list[NDArray[np.int64]] = []

    def __len__(self) -> int:
        self._merge()
        return int(self._ids.size // max(self.bands, 1))

    def keys_for(self, signatures: NDArray[np.uint32]) -> NDArray[np.int64]:
        return band_keys(signatures, self.bands, self.rows)

    def add(self, ids: Sequence[int] | NDArray[np.int64], signatures: NDArray[np.uint32]) -> None:
        keys = self.keys_for(signatures)
        ids_arr = np.asarray(ids, dtype=np.int64)
        self._pending_keys.append(keys.reshape(-1))
        self._pending_ids.append(np.repeat(ids_arr, self.bands))

    def _merge(self) -> None:
        if not self._pending_keys:
            return
        keys = np.concatenate([self._keys, *self._pending_keys])
        ids = np.concatenate([self._ids, *self._pending_ids])
        keep = keys >= 0
        keys, ids = keys[keep], ids[keep]
        order = np.argsort(keys, kind="stable")
        self._keys, self._ids = keys[order], ids[order]
        self._pending_keys.clear()
        self._pending_ids.clear()

    def query_pairs(self, signatures: NDArray[np.uint32]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Candidate pairs (query row, stored id), distinct, for a batch of signatures."""
        self._merge()
        keys = self.keys_for(signatures)
        n = keys.shape[0]
        flat = keys.reshape(-1)
        qrow = np.repeat(np.arange(n, dtype=np.int64), self.bands)
        lo = np.searchsorted(self._keys, flat, side="left")
        hi = np.searchsorted(self._keys, flat, side="right")
        counts = np.where(flat >= 0, hi - lo, 0)
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows = np.repeat(qrow, counts)
        starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        pos = starts + np.arange(total)
        found = self._ids[pos]
        span = np.int64(int(found.max()) + 1) if found.size else np.int64(1)
        if found.size and found.min() >= 0 and int(span) * n < 2**62:
            pair = np.unique(rows * span + found)
            return pair // span, pair % span
        both = np.unique(np.stack([rows, found], axis=1), axis=0)
        return both[:, 0], both[:, 1]

    def query(self, signatures: NDArray[np.uint32]) -> list[list[int]]:
        rows, found = self.query_pairs(signatures)
        out: list[list[int]] = [[] for _ in range(signatures.shape[0])]
        for r, f in zip(rows.tolist(), found.tolist(), strict=True):
            out[r].append(f)
        return out

    def to_bytes(self) -> bytes:
        self._merge()
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.array([self.bands, self.rows, self.num_perm], dtype=np.int64),
            threshold=np.array([self.threshold]),
            keys=self._keys,
            ids=self._ids,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LSHIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            bands, _rows, num_perm = (int(v) for v in z["meta"])
            idx = cls(float(z["threshold"][0]), num_perm, bands=bands)
            idx._keys, idx._ids = z["keys"].copy(), z["ids"].copy()
        return idx


def signature_to_bytes(sig: NDArray[np.uint32]) -> bytes:
    return np.ascontiguousarray(sig, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> NDArray[np.uint32]:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def hashes_to_bytes(h: NDArray[np.uint64]) -> bytes:
    return np.ascontiguousarray(h, dtype="<u8").tobytes()


def hashes_from_bytes(data: bytes) -> NDArray[np.uint64]:
    return np.frombuffer(data, dtype="<u8").astype(np.uint64)
