"""What the claim matcher sends to the encoder for a document: each distinct sentence once, and
only the sentences a matched unit uses (the encoder's time is most of a document's match)."""

from __future__ import annotations

import re

import numpy as np

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
