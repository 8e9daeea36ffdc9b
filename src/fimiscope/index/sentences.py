"""Sentences with their character spans: the unit claims and narratives are matched on (a
kernel free of storage, shared by the claims and narratives detectors).

Handles abbreviations (Dr., např., т.е.) and initials (A. Babiš) in English, Czech and Russian;
not a full segmenter. Paragraph breaks and list bullets always end a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]


_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k no nos fig jan feb mar apr jun jul aug sep sept
    oct nov dec gen col lt sgt gov sen rep inc ltd co corp dept est approx
    např tzv atd mj resp str č mld mil tj ing mgr doc sv tel kč p pí ul nám odst písm
    т.е т.д т.п т.к г гг им ул млн млрд тыс руб др см проф стр с пос обл кв
    """.split()
)
# End of a sentence: terminal punctuation, closing quotes/brackets, whitespace, then something
# that can start one. Paragraph breaks always end a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+(?=[\"'«„“(\[]?[0-9A-ZÀ-ÞĀ-ŽА-ЯЁЄІЇҐ])|\n\s*\n|\n(?=\s*[-•*])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their character spans in ``text``. Handles abbreviations (Dr., např.,
    т.е.) and initials (A. Babiš) in English, Czech and Russian; not a full segmenter."""
    out: list[Sentence] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        head = text[start : m.start() + 1]
        if text[m.start()] == ".":
            before = _WORD_BEFORE.search(head)
            if before:
                word = before.group(1).casefold()
                if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
        _add_sentence(out, text, start, m.end())
        start = m.end()
    _add_sentence(out, text, start, len(text))
    return out


def _add_sentence(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    s = start + (len(piece) - len(piece.lstrip()))
    out.append(Sentence(s, s + len(stripped), stripped))
