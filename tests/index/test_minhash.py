"""The MinHash/LSH kernel: normalisation, shingles, signature estimates, banding, persistence."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fimiscope.index.anchors import anchor_similarity, anchors
from fimiscope.index.minhash import (
    LSHIndex,
    MinHasher,
    containment,
    jaccard,
    normalize,
    optimal_bands,
    shingle_batch,
    shingle_hashes,
)

WORDS = [f"w{i}" for i in range(3000)]


def _texts(n: int, length: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(length)) for _ in range(n)]


def _mutate(text: str, frac: float, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) if rng.random() < frac else w for w in text.split())


def test_normalize_folds_case_punctuation_and_cyrillic() -> None:
    assert normalize("Путин заявил: «Нет!»") == "putin zayavil net"
    assert normalize("PUTIN   zayavil -- net.") == "putin zayavil net"
    assert normalize("ﬁve ＡＢＣ") == "five abc"  # NFKC ligature and full-width letters


def test_shingles_are_order_sensitive_and_stable() -> None:
    a = shingle_hashes("one two three four five six", 3)
    assert a.size == 4 and a.dtype == np.uint64
    assert np.array_equal(a, shingle_hashes("One, two; three four five six!", 3))
    assert jaccard(a, shingle_hashes("six five four three two one", 3)) == 0.0
    assert shingle_hashes("short", 5).size == 1 and shingle_hashes("", 5).size == 0
    assert containment(shingle_hashes("two three four", 3), a) == 1.0


@pytest.mark.parametrize("scheme", ["oph", "classic"])
def test_signature_agreement_estimates_jaccard(scheme: str) -> None:
    hasher = MinHasher(128, seed=7, scheme=scheme)
    base = _texts(60, 200)
    for frac in (0.0, 0.03, 0.15):
        copies = [_mutate(t, frac, i) for i, t in enumerate(base)]
        sa = hasher.signatures([shingle_hashes(t) for t in base])
        sb = hasher.signatures([shingle_hashes(t) for t in copies])
        exact = np.array([jaccard(shingle_hashes(x), shingle_hashes(y)) for x, y in zip(base, copies, strict=True)])
        est = (sa == sb).mean(axis=1)
        assert abs(est.mean() - exact.mean()) < 0.03
        assert np.abs(est - exact).mean() < 0.06


def test_batches_give_the_same_signatures_as_single_documents() -> None:
    hasher = MinHasher(64)
    sets = [shingle_hashes(t) for t in _texts(5, 40)] + [shingle_hashes("")]
    batch = hasher.signatures(sets)
    for i, s in enumerate(sets):
        assert np.array_equal(batch[i], hasher.signatures([s])[0])


def test_batch_shingling_equals_one_document_at_a_time() -> None:
    docs = ["a b c d e f g", "", "short one", "x y z w v u", "a b c d e f g h"]
    flat, counts = shingle_batch(docs, 5)
    assert counts.tolist() == [3, 0, 1, 2, 4]
    offs = np.concatenate([[0], np.cumsum(counts)])
    for i, d in enumerate(docs):
        assert np.array_equal(np.unique(flat[offs[i] : offs[i + 1]]), shingle_hashes(d, 5))
    hasher = MinHasher(64)
    assert np.array_equal(hasher.signatures_flat(flat, counts), hasher.signatures([shingle_hashes(d) for d in docs]))


def test_optimal_bands_match_the_threshold() -> None:
    b, r = optimal_bands(0.8, 128)
    assert b * r <= 128
    # at the threshold the S-curve is steep: high above, low below
    assert 1 - (1 - 0.95**r) ** b > 0.99
    assert 1 - (1 - 0.9**r) ** b > 0.85
    assert 1 - (1 - 0.5**r) ** b < 0.1


def test_lsh_finds_near_duplicates_incrementally_and_round_trips() -> None:
    hasher = MinHasher(128)
    base = _texts(300, 150, seed=1)
    near = [_mutate(t, 0.01, i) for i, t in enumerate(base)]
    index = LSHIndex(threshold=0.7, num_perm=128)
    index.add(np.arange(150), hasher.texts(base[:150]))
    index.add(np.arange(150, 300), hasher.texts(base[150:]))  # a second batch
    hits = index.query(hasher.texts(near))
    assert sum(i in h for i, h in enumerate(hits)) >= 290
    assert sum(len(h) for h in hits) <= 320  # unrelated texts do not collide
    restored = LSHIndex.from_bytes(index.to_bytes())
    assert len(restored) == 300 and restored.query(hasher.texts(near[:5])) == hits[:5]
    assert index.query(hasher.signatures([shingle_hashes("")])) == [[]]


def test_anchors_survive_translation() -> None:
    en = 'President Zelensky met Olaf Scholz in Berlin on 12 March; 1,500 soldiers, see https://ex.org/a "Patriot"'
    ru = "Президент Зеленский встретился с Олафом Шольцем в Берлине 12 марта; 1500 солдат, https://ex.org/a «Patriot»"
    a, b = anchors(en), anchors(ru)
    shared = a & b
    assert {"n:12", "n:1500", "u:ex.org/a", "q:patri", "e:zelen", "e:berli"} <= shared
    score, _ = anchor_similarity(a, b, {}, 100)
    unrelated, _ = anchor_similarity(a, anchors("The bakery in Lyon sold 300 croissants to Marie Dupont."), {}, 100)
    assert score > 0.4 > unrelated
