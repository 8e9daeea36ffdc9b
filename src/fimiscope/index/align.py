"""Sentence alignment of a copy against its origin, so an analyst can check a finding at a glance.

Same language: sentences are paired one-to-one by word overlap (Dice over normalised word
sets, best pairs first, so moved paragraphs still pair); a pair is ``shared`` (nearly verbatim)
or ``edited``; a copy sentence left over was ``added`` (framing, "share before it is
deleted!"), an origin sentence left over was ``dropped`` (the attribution, a paragraph).

Translation: words do not survive, so sentences are paired by the anchors they share (numbers,
names, quoted names, links: ``index/anchors.py``) with a preference for the same relative
position; each pair lists its anchors with their spans on both sides and their Latin
transliteration, so a reader without both languages can see why two sentences were paired.
Sentences left over are ``unaligned`` (a translation is freer than a copy: not a claim that
they were added or dropped).

Spans are character offsets into each document's own text. Pure functions, no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fimiscope.index.anchors import anchor_spans
from fimiscope.index.minhash import tokens, transliterate
from fimiscope.index.sentences import Sentence, split_sentences

__all__ = ["align"]

SHARED = 0.9  # Dice at or above: the same sentence (a word or two changed at most)
EDITED = 0.5  # Dice at or above: the same sentence, edited
_MAX_SENTENCES = 400  # per side: alignment is quadratic, and a reader does not read more


def _sentences(text: str) -> list[Sentence]:
    out = [s for s in split_sentences(text) if s.text.strip()]
    return out[:_MAX_SENTENCES]


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _pair(scores: list[tuple[float, float, int, int]]) -> dict[int, tuple[int, float]]:
    """One-to-one pairs, best first: copy index -> (origin index, score)."""
    used_o: set[int] = set()
    out: dict[int, tuple[int, float]] = {}
    for score, _pos, j, i in sorted(scores, key=lambda x: (-x[0], x[1], x[2], x[3])):
        if j in out or i in used_o:
            continue
        out[j] = (i, score)
        used_o.add(i)
    return out


def _rows(
    origin: list[Sentence], copy: list[Sentence], pairs: dict[int, tuple[int, float]], kind_of: Any, left: str
) -> list[dict[str, Any]]:
    """Rows in the copy's order; an origin sentence with no partner goes right after the row of
    the nearest paired origin sentence before it (or first), so the reading order of both sides
    is kept as well as one column allows."""
    paired_origin = {i: j for j, (i, _s) in pairs.items()}
    rows: list[dict[str, Any]] = []
    placed: set[int] = set()

    def leftovers_before(limit: int) -> None:
        for i in range(limit):
            if i not in paired_origin and i not in placed:
                rows.append({"kind": f"{left}", "origin": [origin[i].start, origin[i].end], "copy": None, "score": 0.0})
                placed.add(i)

    for j, s in enumerate(copy):
        if j in pairs:
            i, score = pairs[j]
            leftovers_before(i)
            rows.append(
                {"kind": kind_of(score), "origin": [origin[i].start, origin[i].end], "copy": [s.start, s.end],
                 "score": round(score, 3)}
            )
        else:
            rows.append({"kind": "added" if left == "dropped" else "unaligned", "origin": None,
                         "copy": [s.start, s.end], "score": 0.0})
    leftovers_before(len(origin))
    return rows


def _same_language(origin_text: str, copy_text: str) -> list[dict[str, Any]]:
    origin, copy = _sentences(origin_text), _sentences(copy_text)
    ow = [set(tokens(s.text)) for s in origin]
    cw = [set(tokens(s.text)) for s in copy]
    scores = []
    for j, b in enumerate(cw):
        for i, a in enumerate(ow):
            d = _dice(a, b)
            if d >= EDITED:
                scores.append((d, abs(i / max(len(ow), 1) - j / max(len(cw), 1)), j, i))
    pairs = _pair(scores)
    return _rows(origin, copy, pairs, lambda s: "shared" if s >= SHARED else "edited", "dropped")


def _anchors_in(text: str, s: Sentence) -> dict[str, list[list[int]]]:
    out: dict[str, list[list[int]]] = {}
    for start, end, key in anchor_spans(s.text):
        out.setdefault(key, []).append([s.start + start, s.start + end])
    return out


def _translation(origin_text: str, copy_text: str) -> list[dict[str, Any]]:
    origin, copy = _sentences(origin_text), _sentences(copy_text)
    oa = [_anchors_in(origin_text, s) for s in origin]
    ca = [_anchors_in(copy_text, s) for s in copy]
    scores = []
    for j, b in enumerate(ca):
        for i, a in enumerate(oa):
            shared = set(a) & set(b)
            if not shared:
                continue
            pos = abs(i / max(len(oa), 1) - j / max(len(ca), 1))
            # shared anchors over the smaller set, discounted by distance in the text: two
            # sentences naming the same town far apart in their articles are weak evidence
            score = len(shared) / max(min(len(a), len(b)), 1) * (1.0 - min(pos, 0.9))
            if score >= 0.25:
                scores.append((score, pos, j, i))
    pairs = _pair(scores)
    rows = _rows(origin, copy, pairs, lambda _s: "aligned", "unaligned")
    index_o = {(s.start, s.end): i for i, s in enumerate(origin)}
    index_c = {(s.start, s.end): j for j, s in enumerate(copy)}
    for row in rows:
        if row["origin"] is None or row["copy"] is None:
            continue
        a, b = oa[index_o[tuple(row["origin"])]], ca[index_c[tuple(row["copy"])]]
        row["anchors"] = [
            {
                "key": key,
                "origin": a[key],
                "copy": b[key],
                "origin_text": origin_text[a[key][0][0] : a[key][0][1]],
                "copy_text": copy_text[b[key][0][0] : b[key][0][1]],
                "latin": transliterate(copy_text[b[key][0][0] : b[key][0][1]].casefold()),
            }
            for key in sorted(set(a) & set(b))
        ]
    return rows


def align(origin_text: str, copy_text: str, *, translation: bool) -> dict[str, Any]:
    """Rows pairing the copy's sentences with the origin's; see the module's docstring."""
    rows = _translation(origin_text, copy_text) if translation else _same_language(origin_text, copy_text)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    return {"mode": "translation" if translation else "same language", "rows": rows, "counts": counts}


def spans_of(rows: Sequence[dict[str, Any]], side: str, kinds: Sequence[str]) -> list[list[int]]:
    """The ``side`` spans of rows of these kinds (for highlighting one text)."""
    return [r[side] for r in rows if r["kind"] in kinds and r[side] is not None]

