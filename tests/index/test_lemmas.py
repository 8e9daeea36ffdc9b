"""The lemma kernel: inflected forms meet at one lemma per language; unknown languages and
words pass through; the BM25 analyzer's lemma option."""

from fimiscope.index.bm25 import Analyzer, BM25Index
from fimiscope.index.lemmas import LANGUAGES, lemma_text, lemma_tokens, query_lemmas, supported


def test_inflected_forms_meet_at_their_lemma() -> None:
    assert lemma_text("Obchodníci s obilím", "cs") == "obchodník s obilí"
    assert lemma_text("Торговля зерном", "ru") == "торговля зерно"
    assert lemma_text("Statek ze zbożem", "pl") == "statek z zboże"
    assert lemma_text("зърното", "bg") == "зърно"
    assert lemma_text("Getreides", "de") == "getreide"
    assert {"cs", "sk", "pl", "uk", "ru", "bg", "de", "en"} <= LANGUAGES


def test_unknown_language_and_words_pass_through_lowercased() -> None:
    assert lemma_text("Obchodníci s obilím", None) == "obchodníci s obilím"
    assert lemma_text("Obchodníci s obilím", "zz") == "obchodníci s obilím"
    assert lemma_text("Xyzzyová 2026", "cs") == "xyzzyová 2026"
    assert supported("cs-CZ") == "cs" and supported("sr") == "hbs" and supported("zh") is None


def test_the_column_is_the_tokens_joined_whether_words_are_new_or_seen() -> None:
    # lemma_text joins straight from the look-up table; a word not seen yet fills it first
    texts = [("Obchodníci s obilím, obilí a OBILÍM!", "cs"), ("ΟΔΟΣ İstanbul Straße", "el"),
             ("ΟΔΟΣ İstanbul Straße", None), ("Торговля зерном 2026 " + "x" * 50, "ru")]
    for text, language in texts * 2:  # the second round finds every word seen
        assert lemma_text(text, language) == " ".join(lemma_tokens(text, language))
    assert lemma_text("ΟΔΟΣ", None) == "οδος" and lemma_tokens("Obilím obilím", "cs") == ["obilí", "obilí"]


def test_a_query_word_is_read_in_every_language_given() -> None:
    assert query_lemmas("obilím", ["cs", "en", None]) == ["obilí", "obilím"]
    assert query_lemmas("зерном", []) == ["зерном"]


def test_analyzer_lemma_option_matches_other_forms() -> None:
    docs = [("a", "Obchodníci s obilím čekají na sklizeň."), ("b", "Vláda schválila rozpočet.")]
    plain = BM25Index.build(docs, Analyzer(prefix=0))
    lemmas = BM25Index.build(docs, Analyzer(prefix=0, lemmas="cs"))
    assert plain.query("obchodník obilí") == []
    assert [d for d, _ in lemmas.query("obchodník obilí")] == ["a"]
