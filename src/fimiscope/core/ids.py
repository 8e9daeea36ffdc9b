"""Time-sortable identifiers (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32).

Hand-written because bulk import creates one per document and the libraries build an
object per id; this is a plain string formatter over ``os.urandom``.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# Two base32 digits per lookup: id creation is on the bulk-import path.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]


def _encode(value: int, length: int) -> str:
    """``length`` (even) Crockford base32 digits of ``value``, most significant first."""
    chars = []
    for _ in range(length // 2):
        chars.append(_PAIRS[value & 1023])
        value >>= 10
    return "".join(reversed(chars))


def new_id(prefix: str = "", at_ms: int | None = None) -> str:
    """A 26-character ULID, optionally prefixed (``sig_01J...``) so ids say what they are."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    rand = int.from_bytes(os.urandom(10), "big")
    ulid = _encode(ms, 10) + _encode(rand, 16)
    return f"{prefix}{ulid}" if prefix else ulid


def id_time_ms(ulid: str) -> int:
    """Milliseconds since the epoch encoded in a ULID (prefix allowed)."""
    body = ulid[-26:]
    value = 0
    for ch in body[:10]:
        value = value * 32 + _ALPHABET.index(ch)
    return value


_B32_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def new_ids(prefix: str, count: int, at_ms: int | None = None) -> list[str]:
    """``count`` ULIDs sharing one millisecond, made in a few C calls (bulk import): each id is
    four zero bytes + 6 bytes of time + 10 random bytes, base32-encoded as one 32-character
    block whose first six characters are zero bits."""
    import base64

    ms = int(time.time() * 1000) if at_ms is None else at_ms
    head = b"\0\0\0\0" + ms.to_bytes(6, "big")
    rand = os.urandom(10 * count)
    blob = b"".join(head + rand[i : i + 10] for i in range(0, 10 * count, 10))
    text = base64.b32encode(blob).translate(_B32_TO_CROCKFORD).decode("ascii")
    return [prefix + text[i + 6 : i + 32] for i in range(0, 32 * count, 32)]
