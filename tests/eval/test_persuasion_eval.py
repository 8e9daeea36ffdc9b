"""eval/persuasion.py on a tiny folder laid out like SemEval-2023 Task 3 (subtask 3): --test mode
trains on DATA, scores DIR once, prints the table and ends with one JSON line."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="training needs scikit-learn (the [bench] extra)"
)


def _folder(root: Path, n: int) -> Path:
    for lang in ("en", "ge"):
        arts = root / lang / "train-articles"
        arts.mkdir(parents=True)
        labels = []
        for a in range(n):
            lines = []
            for p in range(4):
                if p % 2:
                    lines.append(f"Article {a}: the traitors and puppets destroy everything! Disaster number {p}!")
                    labels.append(f"{a}\t{2 * p + 1}\tName_Calling-Labeling,Loaded_Language")
                else:
                    lines.append(f"Article {a}: the council published its annual report on roads, part {p}.")
                    labels.append(f"{a}\t{2 * p + 1}\t")
            (arts / f"article{a}.txt").write_text("\n\n".join(lines), encoding="utf-8")
        (root / lang / "train-labels-subtask-3.txt").write_text("\n".join(labels), encoding="utf-8")
    return root


def test_eval_test_mode(tmp_path: Path) -> None:
    data, test = _folder(tmp_path / "data", 30), _folder(tmp_path / "test", 6)
    done = subprocess.run([sys.executable, str(ROOT / "eval" / "persuasion.py"), str(data), "--test", str(test)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "baseline" in done.stdout and "top system" in done.stdout
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["split"] == "test" and summary["paragraphs"] == 2 * 6 * 4
    assert set(summary["ours"]) == {"en", "de", "all"} and summary["ours"]["all"] > 0.9
    assert set(summary["baseline"]) == {"en", "de", "all"}
