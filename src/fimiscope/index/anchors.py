"""Language-independent anchors: what survives translation, for cross-lingual candidate matching.

A translated copy shares almost no word shingles with its origin, but it keeps numbers and
dates, the names of people and places (transliterated to Latin they often agree), quoted
names, links and image URLs. ``anchors`` extracts them as short strings with a kind prefix;
``anchor_similarity`` compares two anchor sets weighted by how rare each anchor is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping

from fimiscope.index.minhash import transliterate

_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d[\d\s.,]*\d(?![\w])|(?<![\w.,])\d(?![\w])")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_QUOTED = re.compile(r"[«“„\"]([^«»“”„\"]{3,80})[»”\"]")
_SENTENCE_END = re.compile(r"[.!?:;…]\s*$")

# kind -> weight multiplier: a shared link or quoted name says more than a shared number.
KIND_WEIGHT = {"u": 2.0, "q": 1.5, "n": 1.0, "e": 1.0, "i": 2.0}
STEM = 5  # prefix length: "Putina"/"Putin" and "Zelenskogo"/"Zelensky" meet


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKC", word).casefold()
    word = transliterate(word)
    word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", word)


def _number(raw: str) -> str | None:
    digits = re.sub(r"[\s.,]", "", raw)
    if not digits or len(digits) > 12:
        return None
    value = digits.lstrip("0") or "0"
    if len(value) == 1:  # 1-9 appear everywhere and are often spelt out
        return None
    return value


def anchors(text: str, links: Iterable[str] = (), images: Iterable[str] = ()) -> set[str]:
    """Anchor strings of a text: ``n:`` numbers, ``e:`` capitalised names (stem, Latin),
    ``q:`` quoted names, ``u:`` link host+path, ``i:`` image file names."""
    out: set[str] = set()
    for url in [*_URL.findall(text), *links]:
        u = url.lower().split("#", 1)[0].rstrip("/.,")
        u = re.sub(r"^https?://(www\.)?", "", u)
        if u:
            out.add("u:" + u[:200])
    for img in images:
        name = img.lower().split("?", 1)[0].rsplit("/", 1)[-1]
        if name:
            out.add("i:" + name[:200])
    body = _URL.sub(" ", text)
    for m in _NUMBER.finditer(body):
        value = _number(m.group())
        if value:
            out.add("n:" + value)
    for m in _QUOTED.finditer(body):
        words = [_fold(w)[:STEM] for w in _WORD.findall(m.group(1))]
        words = [w for w in words if w]
        if 1 <= len(words) <= 6:
            out.add("q:" + " ".join(words))
    prev_end = 0
    for m in _WORD.finditer(body):
        word = m.group()
        before = body[prev_end : m.start()]
        prev_end = m.end()
        at_start = m.start() == 0 or bool(_SENTENCE_END.search(body[: m.start()].rstrip()[-2:] or "."))
        if "\n" in before:
            at_start = True
        if word[0].isupper() and not at_start and len(word) > 2:
            folded = _fold(word)[:STEM]
            if len(folded) >= 3:
                out.add("e:" + folded)
    return out


def anchor_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, anchor) for each anchor occurrence in ``text``: the same anchors as
    ``anchors`` finds in running text (links, numbers, quoted names, capitalised names), with
    where they stand, so a reader can be shown them."""
    out: list[tuple[int, int, str]] = []
    for m in _URL.finditer(text):
        u = re.sub(r"^https?://(www\.)?", "", m.group().lower().split("#", 1)[0].rstrip("/.,"))
        if u:
            out.append((m.start(), m.end(), "u:" + u[:200]))
    body = _URL.sub(lambda m: " " * len(m.group()), text)
    for m in _NUMBER.finditer(body):
        value = _number(m.group())
        if value:
            raw = m.group().rstrip()
            out.append((m.start(), m.start() + len(raw), "n:" + value))
    for m in _QUOTED.finditer(body):
        words = [w for w in (_fold(x)[:STEM] for x in _WORD.findall(m.group(1))) if w]
        if 1 <= len(words) <= 6:
            out.append((m.start(1), m.end(1), "q:" + " ".join(words)))
    prev_end = 0
    for m in _WORD.finditer(body):
        word = m.group()
        before = body[prev_end : m.start()]
        prev_end = m.end()
        at_start = m.start() == 0 or bool(_SENTENCE_END.search(body[: m.start()].rstrip()[-2:] or "."))
        if "\n" in before:
            at_start = True
        if word[0].isupper() and not at_start and len(word) > 2:
            folded = _fold(word)[:STEM]
            if len(folded) >= 3:
                out.append((m.start(), m.end(), "e:" + folded))
    return sorted(out)


def idf(df: int, n_docs: int) -> float:
    return math.log((n_docs + 1) / (df + 1)) + 1.0


def anchor_weight(anchor: str, df: Mapping[str, int], n_docs: int) -> float:
    return KIND_WEIGHT.get(anchor[:1], 1.0) * idf(df.get(anchor, 0), n_docs)


def anchor_similarity(a: set[str], b: set[str], df: Mapping[str, int], n_docs: int) -> tuple[float, list[str]]:
    """Weighted overlap: weight of shared anchors over the weight of the smaller set (a
    translation may drop a few names; an unrelated text shares few rare ones)."""
    shared = a & b
    if not shared:
        return 0.0, []
    w = {x: anchor_weight(x, df, n_docs) for x in a | b}
    wa = sum(w[x] for x in a)
    wb = sum(w[x] for x in b)
    ws = sum(w[x] for x in shared)
    return ws / max(min(wa, wb), 1e-9) * (ws / max(max(wa, wb), 1e-9)) ** 0.5, sorted(shared)
