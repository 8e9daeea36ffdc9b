"""BM25 kernel: normalisation, ranking, incremental add, batch queries, fusion, logistic fit."""

from __future__ import annotations

import numpy as np

from fimiscope.index.bm25 import Analyzer, BM25Index, calibrated, fit_logistic, reciprocal_rank_fusion

DOCS = [
    ("nato", "NATO troops are preparing to invade Russia from the Baltic states"),
    ("xmas", "The European Union bans Christmas celebrations"),
    ("chips", "Vaccines contain microchips to track people"),
    ("cz", "Čeští vojáci budou bojovat na Ukrajině"),
    ("ru", "Навальный был отравлен западными спецслужбами"),
]


def test_analyzer_folds_case_diacritics_stopwords_and_scripts() -> None:
    a = Analyzer()
    assert a.terms("The ČEŠTÍ Vojáci") == a.terms("cesti vojaci")
    assert "the" not in a.terms("the army") and "a" not in a.terms("a Army")
    assert a.terms("Навальный") == a.terms("Navalnyj")  # transliteration meets the Latin spelling
    assert a.terms("troops") == a.terms("troop")
    assert a.terms("1945") == ["1945"]
    assert Analyzer(transliterate=False).terms("Навальный") != a.terms("Navalnyj")
    assert Analyzer(prefix=0).terms("celebrations") == ["celebration"]


def test_ranking_and_unknown_words() -> None:
    idx = BM25Index.build(DOCS)
    top = idx.query("Baltic NATO troops invade Russia", 3)
    assert top[0][0] == "nato" and top[0][1] > 0
    assert all(doc != "chips" for doc, _ in top)
    assert idx.query("completely unrelated gardening", 3) == []
    assert idx.query("", 3) == []
    assert idx.query("vojáci na Ukrajině", 1)[0][0] == "cz"
    assert idx.query("Navalny was poisoned by western special services", 1)[0][0] == "ru"


def test_incremental_add_equals_build() -> None:
    whole = BM25Index.build(DOCS)
    grown = BM25Index.build(DOCS[:2])
    assert grown.query("microchips", 1) == []
    grown.add(DOCS[2:])
    assert len(grown) == len(whole) == 5
    for q in ["microchips vaccines", "NATO Russia", "Christmas"]:
        got, want = grown.query(q, 5), whole.query(q, 5)
        assert [d for d, _ in got] == [d for d, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want])


def test_query_many_matches_single_queries_and_k() -> None:
    idx = BM25Index.build(DOCS)
    queries = ["NATO Baltic", "Christmas ban", "nothing at all here", "vaccines track people"]
    many = idx.query_many(queries, 2)
    assert many == [idx.query(q, 2) for q in queries]
    assert len(idx.query("the states people troops union", 1)) == 1


def test_overlap_measures_both_sides() -> None:
    idx = BM25Index.build(DOCS)
    q_cov, d_cov = idx.overlap("NATO troops invade Russia", "nato")
    assert q_cov == 1.0 and 0 < d_cov < 1
    q_cov2, _ = idx.overlap("NATO troops invade Russia with zebras", "nato")
    assert q_cov2 < q_cov
    assert idx.overlap("microchips", "nato") == (0.0, 0.0)
    (hit,) = idx.candidates(["NATO troops invade Russia"], 1)[0]
    assert hit[0] == "nato" and hit[2] == q_cov and hit[3] == d_cov


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"], ["b"]], k=60)
    assert [d for d, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == 1 / 62 + 1 / 61 + 1 / 61


def test_fit_logistic_separates_and_calibrated_is_monotone() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=400) > 0).astype(float)
    w = fit_logistic(x, y)
    assert w[1] > 0 and w[2] > 0 and w[1] > w[2]
    low = calibrated({"query_coverage": 0.1, "claim_coverage": 0.1, "log_bm25": 0.5})
    high = calibrated({"query_coverage": 0.9, "claim_coverage": 0.9, "log_bm25": 2.5})
    assert 0 < low < high < 1


def test_reciprocal_rank_fusion_rewards_agreement_and_keeps_single_list_hits() -> None:
    lexical = ["a", "b", "c", "d"]
    vector = ["c", "e", "a"]
    fused = dict(reciprocal_rank_fusion([lexical, vector], k=60))
    assert set(fused) == {"a", "b", "c", "d", "e"}
    # In both lists beats first place in one list only.
    assert fused["a"] > fused["b"] and fused["c"] > fused["b"]
    assert fused["a"] == 1 / 61 + 1 / 63 and fused["e"] == 1 / 62
    assert reciprocal_rank_fusion([]) == []


def test_include_scores_candidates_found_another_way() -> None:
    idx = BM25Index.build(DOCS)
    terms = [idx.analyzer.terms("NATO troops in the Baltic states")]
    plain = idx.query_terms(terms, k=1)
    assert [d for d, _ in plain[0]] == ["nato"]
    (hits,) = idx.query_terms(terms, k=1, include=[["xmas", "nato"]])
    assert [d for d, _ in hits] == ["nato", "xmas"]  # top-k first, then the included, no repeat
    assert hits[0] == plain[0][0] and hits[1][1] == 0.0  # shares no term: score 0, still there
    (cands,) = idx.candidates_terms(terms, k=1, include=[["chips"]])
    assert [c[0] for c in cands] == ["nato", "chips"] and cands[1][1:] == (0.0, 0.0, 0.0)
    # A query with no known term still returns what was included.
    assert idx.query_terms([["zzz"]], k=3, include=[["ru"]]) == [[("ru", 0.0)]]


def test_documents_without_terms_at_the_end_are_indexed() -> None:
    idx = BM25Index.build([*DOCS, ("stop", "the and of"), ("empty", "")])
    assert [d for d, _ in idx.query("NATO troops")] == ["nato"]
    assert len(idx) == len(DOCS) + 2


def test_a_tie_at_the_kth_place_goes_to_the_earlier_document() -> None:
    # Ten identical texts score the same: the top 3 are the first three added, in order,
    # whatever order the sparse product leaves them in (and with include, the same).
    idx = BM25Index.build([*DOCS, *((f"twin{i}", "grain harvest exports to Africa") for i in range(10))])
    terms = [idx.analyzer.terms("grain harvest exports")]
    assert [d for d, _ in idx.query_terms(terms, k=3)[0]] == ["twin0", "twin1", "twin2"]
    (hits,) = idx.query_terms(terms, k=3, include=[["twin7", "nato"]])
    assert [d for d, _ in hits] == ["twin0", "twin1", "twin2", "twin7", "nato"]
    assert hits[3][1] == hits[0][1] and hits[4][1] == 0.0  # an included twin keeps its score
