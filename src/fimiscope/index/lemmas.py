"""Lemmas: every inflected form of a word reduced to its dictionary form, by language.

Czech ``obilím``, ``obilí`` and Russian ``зерном``, ``зерна`` each meet at one lemma, so a
search for one form finds the others. Dictionary look-ups from simplemma (54 languages, the
dictionaries ship inside the package; nothing is downloaded); a word it does not know, and
every word of a language it does not cover, stays as it is (lower-cased).

The same functions lemmatise what is stored (``lemma_text``) and what is asked
(``query_lemmas``), so the two always agree. Storage-free: the store calls them for its
full-text column, the matchers for their analyzers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["LANGUAGES", "lemma_text", "lemma_tokens", "lemmatize", "query_lemmas", "supported"]

# simplemma 2.0.0's dictionaries (pinned in pyproject.toml): ISO 639-1 codes, plus a few 639-3
# where no two-letter code exists (ast, enm, grc, hbs for Serbo-Croatian).
LANGUAGES = frozenset(
    "ar ast bg ca cs cy da de el en enm eo es et fa fi fr ga gd gl grc gv hbs he hi hu hy id is it ka la lb lt "
    "lv mk ml ms nb nl nn pl pt ro ru se sk sl sq sv sw tl tr uk".split()
)
# Languages whose two-letter code simplemma files under another name.
_ALIASES = {"sr": "hbs", "hr": "hbs", "bs": "hbs", "no": "nb"}
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_TOKEN = 40  # longer "words" (hashes, URLs run together) are kept as they are


def supported(language: str | None) -> str | None:
    """simplemma's code for ``language`` (an ISO 639-1 code, perhaps with a region), or None."""
    if not language:
        return None
    code = language.lower().replace("_", "-").split("-")[0]
    code = _ALIASES.get(code, code)
    return code if code in LANGUAGES else None


@lru_cache(maxsize=500_000)
def lemmatize(token: str, language: str) -> str:
    """The lemma of one token in a supported language (``supported(...)``), lower-cased."""
    from simplemma import lemmatize as _lemmatize

    if len(token) > _MAX_TOKEN or token.isdigit():
        return token.lower()
    return str(_lemmatize(token, lang=language)).lower()


# Per language, word -> lemma: a plain dict read with ``map`` at C speed (bulk import lemmatises
# every stored word: 4x faster than a call per word through the lru_cache). Cleared when full.
_TABLES: dict[str, dict[str, str]] = {}
_TABLE_MAX = 1_000_000


def _table(lang: str) -> dict[str, str]:
    table = _TABLES.get(lang)
    if table is None or len(table) > _TABLE_MAX:
        table = _TABLES[lang] = {}
    return table


def _known(words: list[str], lang: str) -> dict[str, str]:
    """``lang``'s table with every one of ``words`` in it."""
    table = _table(lang)
    for word in words:
        if word not in table:
            table[word] = lemmatize(word, lang)
    return table


def lemma_tokens(text: str, language: str | None) -> list[str]:
    """The lemmas of ``text``'s words, in order; lower-cased words where the language is unknown."""
    lang = supported(language)
    words = _WORD.findall(text)
    if lang is None:
        return list(map(str.lower, words))
    table = _table(lang)
    try:
        return list(map(table.__getitem__, words))
    except KeyError:  # a word not seen yet
        return list(map(_known(words, lang).__getitem__, words))


def lemma_text(text: str, language: str | None) -> str:
    """``lemma_tokens`` joined by spaces: the column the full-text index reads. Joined straight
    from the table's look-ups (bulk import calls this for every stored document)."""
    lang = supported(language)
    words = _WORD.findall(text)
    if lang is None:
        return " ".join(map(str.lower, words))
    table = _table(lang)
    try:
        return " ".join(map(table.__getitem__, words))
    except KeyError:  # a word not seen yet
        return " ".join(map(_known(words, lang).__getitem__, words))


def query_lemmas(word: str, languages: Iterable[str | None]) -> list[str]:
    """The lemmas a query word may stand for: its lemma in each of ``languages`` and the word itself.

    A query seldom says its language, and a short one cannot be identified reliably, so a word
    is looked up in every language the store holds and matches any of its readings.
    """
    out = {word.lower()}
    for language in languages:
        lang = supported(language)
        if lang is not None:
            out.add(lemmatize(word, lang))
    return sorted(out)
