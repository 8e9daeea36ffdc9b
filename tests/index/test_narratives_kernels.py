"""Narrative kernels: term vectors, known-narrative assignment, incremental clustering, bursts."""

from __future__ import annotations

import numpy as np

from fimiscope.index.narratives import (
    AssignParams,
    ClusterParams,
    EmergingClusters,
    LinearNarratives,
    NarrativeAssigner,
    NarrativeDefinition,
    TermVectors,
    bursts,
    distinctive_terms,
    learned_fingerprint,
)

SANCTIONS = NarrativeDefinition(
    id="nar_sanctions",
    name="Sanctions hurt Europe more than Russia",
    description="Western sanctions are said to ruin European households while Russia prospers.",
    keywords=["sanctions", "gas prices", "heating"],
    examples=["Sanctions against Russia backfire: European families cannot pay for gas and heating this winter."],
)
ARMY = NarrativeDefinition(
    id="nar_army",
    name="Ukraine's army is collapsing",
    description="Claims that Ukrainian soldiers desert and the front is about to fall.",
    keywords=["army", "front", "deserters"],
    examples=["Thousands of deserters: the Ukrainian army is collapsing along the whole front."],
)


def test_vectors_do_not_depend_on_how_the_stream_is_cut() -> None:
    texts = [f"Sanctions and gas prices story {i} about heating and the winter" for i in range(6)]
    whole = TermVectors().vectors(texts, learn=True)
    parts = TermVectors()
    first = parts.vectors(texts[:2], learn=True)
    second = parts.vectors(texts[2:], learn=True)
    assert abs(whole[:2] - first).max() < 1e-6 and abs(whole[2:] - second).max() < 1e-6
    assert parts.n_docs == 6


def test_transliteration_lets_cyrillic_meet_latin_names() -> None:
    tv = TermVectors()
    a, b, c = tv.vectors(["Навальный выступил в Москве", "Navalnyj spoke in Moskve", "Weather in Lisbon"])
    assert float(a.multiply(b).sum()) > 0.2 > float(a.multiply(c).sum())


def test_assignment_is_multi_label_with_carrying_sentences() -> None:
    tv = TermVectors()
    assigner = NarrativeAssigner([SANCTIONS, ARMY], tv, params=AssignParams(threshold=0.1, relative=0.3))
    text = (
        "The city council met on Monday. "
        "Because of the sanctions, families in Europe cannot pay for gas and heating. "
        "Meanwhile deserters say the Ukrainian army is collapsing at the front."
    )
    sentences = [(0, 31, text[0:31]), (32, 110, text[32:110]), (111, len(text), text[111:])]
    (found,) = assigner.assign([text], [sentences])
    ids = {a.narrative_id for a in found}
    assert ids == {"nar_sanctions", "nar_army"}
    by_id = {a.narrative_id: a for a in found}
    assert [s[0] for s in by_id["nar_sanctions"].sentences] == [32]
    assert [s[0] for s in by_id["nar_army"].sentences] == [111]
    (nothing,) = assigner.assign(["The bakery sold cinnamon rolls on Saturday."])
    assert nothing == []


def test_encoder_scores_mix_in_when_given() -> None:
    def embed(texts):  # type: ignore[no-untyped-def]
        # a stand-in encoder: a topic axis per narrative, so paraphrases with no shared word meet
        out = np.array([[t.count("sanction") + t.count("embargo"), t.count("army") + t.count("troops"), 0.1]
                        for t in (x.lower() for x in texts)], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    assigner = NarrativeAssigner([SANCTIONS, ARMY], TermVectors(), embed=embed,
                                 params=AssignParams(threshold=0.3, relative=0.5, encoder_weight=0.6))
    (found,) = assigner.assign(["The embargo embargo ruins everyone."])
    assert [a.narrative_id for a in found] == ["nar_sanctions"]
    assert set(found[0].components) == {"lexical", "encoder"}


def _stream() -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(3)
    topics = [
        "gas heating prices winter sanctions households europe bills",
        "army front deserters soldiers collapse offensive trenches",
        "election ballots fraud counting observers seals stations",
    ]
    ids, texts = [], []
    for i in range(90):
        words = topics[i % 3].split()
        picked = rng.choice(words, size=6, replace=True)
        ids.append(f"doc_{i:04d}")
        texts.append(" ".join(picked) + f" filler{i}")
    return ids, texts


def test_emerging_clusters_keep_ids_whatever_the_increments() -> None:
    ids, texts = _stream()
    params = ClusterParams(join=0.2, min_size=3)
    once = EmergingClusters(params)
    once.add(ids, TermVectors().vectors(texts, learn=True))
    once.maintain()
    daily = EmergingClusters(params)
    tv = TermVectors()
    for start in range(0, 90, 9):
        rows = tv.vectors(texts[start : start + 9], learn=True)
        joined = daily.add(ids[start : start + 9], rows)
        daily.maintain(sorted({j.narrative_id for j in joined}))
    changed = sum(once.narrative_of[d] != daily.narrative_of[d] for d in ids)
    assert changed / len(ids) < 0.05
    # three planted topics come out as three narratives named after their first document
    assert len(once.visible()) == 3
    assert {once.narrative_of[ids[k]] for k in range(3)} == {"nar_0000", "nar_0001", "nar_0002"}


def test_merge_keeps_the_older_id_and_records_lineage() -> None:
    c = EmergingClusters(ClusterParams(join=0.9, min_size=2, merge=0.5), dense=True)
    vecs = np.array([[1, 0.3, 0], [1, 0.35, 0], [0.3, 1, 0], [0.35, 1, 0]], dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    c.add(["d_1", "d_2"], vecs[:2])
    c.add(["d_3", "d_4"], vecs[2:])
    assert [c.narrative_of[d] for d in ("d_1", "d_2", "d_3", "d_4")] == ["nar_1", "nar_1", "nar_3", "nar_3"]
    (merged,) = c.maintain()
    assert (merged.kind, merged.parent, merged.child, merged.documents) == ("merged", "nar_3", "nar_1", 2)
    assert {c.narrative_of[d] for d in ("d_1", "d_2", "d_3", "d_4")} == {"nar_1"}
    assert c.members["nar_1"] == ["d_1", "d_2", "d_3", "d_4"]


def test_split_separates_two_groups_and_the_founder_keeps_its_id() -> None:
    c = EmergingClusters(ClusterParams(join=0.0, min_size=3, split=0.3))
    tv = TermVectors()
    a = [f"gas heating prices sanctions winter {i}" for i in range(4)]
    b = [f"ballots fraud election observers seals {i}" for i in range(4)]
    ids = [f"d_{i}" for i in range(8)]
    c.add(ids, tv.vectors(a + b, learn=True))
    assert len(set(c.narrative_of.values())) == 1  # join 0.0: everything chained into one
    (split,) = c.maintain()
    assert split.kind == "split" and split.parent == "nar_0" and split.child == "nar_4"
    assert {c.narrative_of[d] for d in ids[:4]} == {"nar_0"} and {c.narrative_of[d] for d in ids[4:]} == {"nar_4"}


def test_kleinberg_finds_the_surge_at_the_end() -> None:
    totals = [100] * 30
    counts = [2] * 26 + [15, 20, 25, 30]
    (burst,) = bursts(counts, totals)
    assert (burst.start, burst.end) == (26, 29) and burst.share > 0.15 > burst.baseline
    assert bursts([2] * 30, totals) == []


def test_distinctive_terms_prefer_what_sets_a_class_apart() -> None:
    terms = distinctive_terms({"a": {"gas": 5, "the": 9, "heating": 4}, "b": {"ballot": 6, "the": 9, "fraud": 3}})
    assert terms["a"][0][0] == "gas" and "the" not in [t for t, _ in terms["a"][:2]]


def _stories(words: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    filler = ["today", "officials", "report", "region", "people", "week", "said", "local", "news", "city"]
    return [" ".join(rng.choice(words + filler, size=25)) + "." for _ in range(n)]


def test_learned_part_for_narratives_with_many_examples() -> None:
    """Narratives with 8+ examples get a learned model (balanced one-vs-rest logistic
    regression); one with a handful keeps the prototype scores; held-out stories are told
    apart; without enough examples nothing is learned."""
    gas = ["sanctions", "gas", "heating", "bills", "europe", "winter", "prices"]
    war = ["army", "front", "deserters", "soldiers", "retreat", "commanders", "collapse"]
    vote = ["ballots", "election", "rigged", "fraud", "votes", "counted", "polls"]
    defs = [
        NarrativeDefinition(id="gas", name="Sanctions hurt Europe", examples=_stories(gas, 12, 1)),
        NarrativeDefinition(id="war", name="The army collapses", examples=_stories(war, 12, 2)),
        NarrativeDefinition(id="vote", name="Elections are rigged", examples=_stories(vote, 3, 3)),
    ]
    tv = TermVectors()
    tv.learn([e for d in defs for e in d.examples])
    assigner = NarrativeAssigner(defs, tv)  # the defaults: the learned part is on
    assert assigner.learned is not None
    assert assigner.learned.learned.tolist() == [True, True, False]  # 3 examples: prototype only
    held_out = _stories(gas, 5, 11) + _stories(war, 5, 12)
    found = assigner.assign(held_out)
    assert [a[0].narrative_id for a in found] == ["gas"] * 5 + ["war"] * 5
    assert all("learned" in a[0].components for a in found)
    probs = assigner.learned.probabilities(tv.vectors(held_out))
    assert probs.shape == (10, 3) and (probs[:, 2] == 0).all()
    assert (probs[:5, 0] > 0.5).all() and (probs[5:, 1] > 0.5).all()
    # off, or too few examples: the prototype scores alone
    assert NarrativeAssigner(defs, tv, params=AssignParams(learned_weight=0.0)).learned is None
    assert NarrativeAssigner(defs, tv, params=AssignParams(learned_min_examples=20)).learned is None
    # with the learned part on, the prototype scores weigh the centroid by learned_centroid_weight
    # (the cross-validation's choice then), without it by centroid_weight
    rows = tv.vectors(held_out)
    c = (rows @ assigner._centroids.T).toarray()
    e = (rows @ assigner._examples.T).toarray()
    best = np.maximum.reduceat(e, assigner._starts, axis=1)
    for params, on in ((AssignParams(), True), (AssignParams(learned_weight=0.0), False)):
        model = NarrativeAssigner(defs, tv, params=params)
        a = params.learned_centroid_weight if on else params.centroid_weight
        assert np.allclose(model.lexical_scores(rows), a * c + (1 - a) * best, atol=1e-5)
    assert AssignParams().learned_centroid_weight == 0.75 and AssignParams().centroid_weight == 0.25


def test_learned_part_is_stored_and_reused_for_the_same_examples() -> None:
    """A fitted learned part round-trips through bytes under the fingerprint of what it was fit
    on; an assigner given it does not fit again and decides the same; another fingerprint (an
    example added, a narrative added, another C) does not load it."""
    gas = ["sanctions", "gas", "heating", "bills", "europe", "winter", "prices"]
    war = ["army", "front", "deserters", "soldiers", "retreat", "commanders", "collapse"]
    defs = [
        NarrativeDefinition(id="gas", name="Sanctions hurt Europe", examples=_stories(gas, 10, 1)),
        NarrativeDefinition(id="war", name="The army collapses", examples=_stories(war, 10, 2)),
    ]
    tv = TermVectors()
    tv.learn([e for d in defs for e in d.examples])
    params = AssignParams()
    fitted = NarrativeAssigner(defs, tv, params=params)
    assert fitted.learned is not None and fitted.learned_fitted
    key = learned_fingerprint(defs, params)
    blob = fitted.learned.to_bytes(key)
    loaded = LinearNarratives.from_bytes(blob, key)
    assert loaded is not None
    again = NarrativeAssigner(defs, tv, params=params, learned=loaded)
    assert again.learned is loaded and not again.learned_fitted
    docs = _stories(gas, 4, 21) + _stories(war, 4, 22)
    a, b = fitted.scores(docs)[0], again.scores(docs)[0]
    assert np.array_equal(a, b)
    # renaming changes nothing the fit reads; examples, narratives and C do
    renamed = [NarrativeDefinition(id=d.id, name=d.name + "!", examples=d.examples) for d in defs]
    assert learned_fingerprint(renamed, params) == key
    more = [defs[0], NarrativeDefinition(id="war", name="x", examples=[*defs[1].examples, "the front collapses"])]
    assert learned_fingerprint(more, params) != key
    assert learned_fingerprint([*defs, NarrativeDefinition(id="new", name="n")], params) != key
    assert learned_fingerprint(defs, AssignParams(learned_c=10.0)) != key
    assert LinearNarratives.from_bytes(blob, learned_fingerprint(more, params)) is None
    assert LinearNarratives.from_bytes(None, key) is None and LinearNarratives.from_bytes(b"junk", key) is None
