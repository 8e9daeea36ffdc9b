"""PostgreSQL ``tsvector`` values built in Python, for the lemma column's full-text vector.

``to_tsvector('simple', lemmas)`` on the server was a third of PostgreSQL's work per imported
document (docs/benchmarks.md, "import, sixth pass"). The lemma column is already
tokenised (``index/lemmas.py``: words joined by single spaces, lower-cased), so the client can
build the same vector and hand it over as a literal, which the server only parses.

The result must be exactly what PostgreSQL's parser and the ``simple`` dictionary would store,
or searches would silently miss. ``lemma_vector`` therefore builds a vector only for text whose
every token the parser is known to take whole and unchanged (letters, ASCII digits, not
starting like a number in exponent notation, under the length limits) and returns None for
anything else: the server then computes it as before (a trigger, migration 0006). The tests
compare the two forms on PostgreSQL (tests/store/test_lemma_vector.py).
"""

from __future__ import annotations

import re
from collections import defaultdict, deque

__all__ = ["lemma_vector", "tsvector_literal"]

# PostgreSQL's limits (src/include/tsearch/ts_type.h, ts_public.h): positions above 16383 are
# clamped, a lexeme keeps at most 255 positions, a word of 2047 bytes or more is not indexed.
_MAX_POS = 16383
_MAX_POSITIONS = 255
_MAX_WORD_BYTES = 2047
# Text longer than this is left to the server (a tsvector holds at most 1 MB of lexemes).
_MAX_TEXT = 200_000
_ASCII_DIGITS = re.compile("[0-9]+")
# "1e5abc" is parsed as the number "1e5" then the word "abc": tokens that start like that are
# left to the server.
_EXPONENT = re.compile(r"(?:^| )[0-9]+e[0-9]")


def lemma_vector(lemmas: str | None) -> str | None:
    """``to_tsvector('simple', lemmas)`` as a tsvector literal, or None where the text holds
    anything whose parsing is not certain (the server computes those)."""
    if not lemmas:
        return ""
    if len(lemmas) > _MAX_TEXT or lemmas != lemmas.lower():
        return None
    tokens = lemmas.split(" ")
    if "" in tokens:  # leading, trailing or double spaces: PostgreSQL skips them too
        tokens = [t for t in tokens if t]
        if not tokens:
            return ""
    if len(tokens) > _MAX_POS:
        return None
    joined = "".join(tokens)
    if not joined.isalpha():  # digits, or something else: letters and ASCII digits only
        letters = _ASCII_DIGITS.sub("", joined)
        if (letters and not letters.isalpha()) or _EXPONENT.search(lemmas):
            return None
    if max(map(len, tokens)) * 4 >= _MAX_WORD_BYTES and any(len(t.encode()) >= _MAX_WORD_BYTES for t in tokens):
        return None
    # Positions per lexeme, collected at C speed: each token's list, appended its position.
    positions: defaultdict[str, list[int]] = defaultdict(list)
    deque(map(list.append, map(positions.__getitem__, tokens), range(1, len(tokens) + 1)), maxlen=0)
    if max(map(len, positions.values())) > _MAX_POSITIONS:
        for seen in positions.values():
            del seen[_MAX_POSITIONS:]
    # Sorted as PostgreSQL keeps lexemes (bytewise, which is code-point order in UTF-8), so the
    # server's sort finds them in order. Lexemes of letters and digits need no quoting, so the
    # lists' own text form can be rewritten in one pass: "'a':[1, 5]" -> "'a':1,5".
    keys = sorted(positions)
    text = " ".join(map("'{}':{}".format, keys, map(positions.__getitem__, keys)))
    return text.replace(", ", ",").replace("[", "").replace("]", "")


def tsvector_literal(lexemes: dict[str, list[int]]) -> str:
    """A tsvector literal of any lexemes (quotes doubled, backslashes escaped) with their
    positions (1..16383; at most 255 kept each, as PostgreSQL keeps them)."""
    parts = []
    for lexeme in sorted(lexemes):
        quoted = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
        pos = sorted({min(p, _MAX_POS) for p in lexemes[lexeme]})[:_MAX_POSITIONS]
        parts.append(quoted + (":" + ",".join(map(str, pos)) if pos else ""))
    return " ".join(parts)
