"""The raw-content archive: every collected item's bytes, content-addressed and compressed,
so extraction can be re-run later with a better extractor."""

from __future__ import annotations

import hashlib

import zstandard

_LEVEL = 3  # zstd's default: fast enough for bulk import, ~3-4x on HTML and JSON
_compressor = zstandard.ZstdCompressor(level=_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


def raw_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def pack(data: bytes) -> tuple[str, bytes]:
    return raw_hash(data), _compressor.compress(data)


def unpack(codec: str, data: bytes) -> bytes:
    if codec == "zstd":
        return _decompressor.decompress(data)
    if codec == "none":
        return data
    raise ValueError(f"unknown archive codec {codec!r}")
