"""Every eval takes ``DATA [--test DIR]``: each script under eval/ offers ``--test`` in its help,
and the five that gained it late (claims, claims_crosslingual, entity_anchors, laundering,
narratives_stability) run ``--test`` end to end on tiny folders laid out like their real data,
printing a table and ending with one JSON line that names the test split's figures."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVALS = sorted((ROOT / "eval").glob("*.py"))
SEMEVAL = Path("similarity") / "semeval2022-t8-sample-train.csv"


def _words(rng: random.Random, n: int) -> str:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "ga", "fe", "zu", "bi", "xo"]
    return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n))


def _run(script: str, *args: str | Path) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "eval" / script), *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 2, done.stdout  # a table, then the JSON
    return json.loads(lines[-1])


def test_every_eval_offers_test() -> None:
    procs = {p.name: subprocess.Popen([sys.executable, str(p), "--help"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, cwd=ROOT) for p in EVALS}
    assert len(procs) >= 12
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name}: {err[-2000:]}"
        assert "--test" in out, f"{name} does not offer --test"


# -- claims: CheckThat! 2022 2A layout ---------------------------------------------------------


def _checkthat(root: Path, rng: random.Random, splits: dict[str, int]) -> Path:
    root.mkdir(parents=True)
    claims = [(f"vclaim-{i}", _words(rng, 12), _words(rng, 5)) for i in range(40)]
    with (root / "verified_claims.docs.tsv").open("w", encoding="utf-8") as f:
        f.write("vclaim_id\tvclaim\ttitle\n")
        f.writelines(f"{i}\t{c}\t{t}\n" for i, c, t in claims)
    for split, n in splits.items():
        queries, qrels = ["tweet_id\ttweet\n"], []
        for q in range(n):
            cid, claim, _title = claims[rng.randrange(len(claims))]
            words = claim.split()
            kept = " ".join(rng.sample(words, 8))
            queries.append(f"{split}-{q}\t{kept} {_words(rng, 4)} https://t.co/x{q}\n")
            qrels.append(f"{split}-{q}\t0\t{cid}\t1\n")
        (root / f"{split}_tweets.queries.tsv").write_text("".join(queries), encoding="utf-8")
        (root / f"{split}_tweet-vclaim-pairs.qrels").write_text("".join(qrels), encoding="utf-8")
    return root


@pytest.mark.skipif(importlib.util.find_spec("rank_bm25") is None, reason="the baseline needs rank-bm25 ([bench])")
def test_claims_test_mode(tmp_path: Path) -> None:
    data = _checkthat(tmp_path / "data", random.Random(1), {"train": 30, "dev": 10})
    test = _checkthat(tmp_path / "test", random.Random(2), {"test": 12})
    out = _run("claims.py", data, "--test", test)
    assert out["eval"] == "claims" and out["split"] == "test" and out["scored_split"] == "test"
    assert out["data"] == str(test) and out["fitted_on"] == ["train", "dev"] and out["fit_queries"] == 40
    assert out["queries"] == 12 and out["claims"] == 40
    assert out["ours"]["success@10"] > 0.8 and set(out["baseline"]) == {"map@1", "map@5", "success@10"}


# -- the shared data folder's layout: SemEval-2022 Task 8 sample, UDHR, CheckThat claims --------


def _article(rng: random.Random, paragraphs: int = 4) -> str:
    return "\n\n".join(
        " ".join(f"{_words(rng, 11).capitalize()}." for _ in range(3)) for _ in range(paragraphs)
    )


def _semeval(root: Path, rng: random.Random, n: int, *, russian: bool = False) -> Path:
    path = root / SEMEVAL
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["pair_id", "lang1", "lang2", "text1", "text2", "Overall"]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for i in range(n):
            aid = 1000 + i
            text = _article(rng)
            if russian and i % 2 == 0:  # one article and its Russian version: shared names and numbers
                names = f"Vilnius Sarkozy Gazprom {aid} Merkel"
                w.writerow({"pair_id": f"{aid}_{aid}ru", "lang1": "en", "lang2": "ru",
                            "text1": f"{names}. {text}",
                            "text2": f"Вильнюс Саркози Газпром {aid} Меркель. {_article(rng)}",
                            "Overall": "1.0"})
            elif i % 3 == 0:  # a cross-language pair: rated close or far
                w.writerow({"pair_id": f"{aid}_{aid + 500}", "lang1": "en", "lang2": "de",
                            "text1": text, "text2": f"{text} {_words(rng, 3)}" if i % 2 else _article(rng),
                            "Overall": "1.0" if i % 2 else "4.0"})
            else:
                w.writerow({"pair_id": f"{aid}_{aid + 500}", "lang1": "en", "lang2": "en",
                            "text1": text, "text2": _article(rng), "Overall": "3.0"})
    return root


def test_laundering_test_mode(tmp_path: Path) -> None:
    data = _semeval(tmp_path / "data", random.Random(1), 12)
    test = _semeval(tmp_path / "test", random.Random(2), 12)
    out = _run("laundering.py", data, "--test", test, "--no-mixed")
    assert out["split"] == "test" and out["data"] == str(test)
    assert out["articles"] > 12  # every article of DIR, no hash split
    for key in ("same_language", "partial", "translation"):
        assert {"precision", "recall", "f1"} <= set(out[key])
    assert out["same_language"]["recall"] > 0.5


def test_entity_anchors_test_mode(tmp_path: Path) -> None:
    data = _semeval(tmp_path / "data", random.Random(1), 6, russian=True)
    test = _semeval(tmp_path / "test", random.Random(2), 6, russian=True)
    out = _run("entity_anchors.py", data, "--test", test)
    assert out["split"] == "test" and out["data"] == str(test)
    assert out["translation_pairs"] == 6 and 0 <= out["capitalised"]["recall_at_1"] <= 1


def _udhr(root: Path, rng: random.Random) -> None:
    folder = root / "languages" / "udhr"
    folder.mkdir(parents=True)
    english = {n: _words(rng, 14) for n in range(1, 7)}
    for code, lang in (("eng", "en"), ("deu", "de"), ("fra", "fr")):
        body = "".join(
            f'<article data-number="{n}"><p>{text if lang == "en" else text + " " + _words(rng, 2)}</p></article>'
            for n, text in english.items()
        )
        (folder / f"{code}.html").write_text(f'<html lang="{lang}"><body>{body}</body></html>', encoding="utf-8")


def _shared(root: Path, seed: int) -> Path:
    rng = random.Random(seed)
    _semeval(root, rng, 9)
    _udhr(root, rng)
    _checkthat(root / "claims" / "checkthat2022-2a", rng, {})
    return root


def test_claims_crosslingual_test_mode(tmp_path: Path) -> None:
    data, test = _shared(tmp_path / "data", 1), _shared(tmp_path / "test", 2)
    out = _run("claims_crosslingual.py", "--check", data, "--test", test)
    assert out["eval"] == "claims-crosslingual-check" and out["split"] == "test" and out["data"] == str(test)
    assert out["documents"]["test"] >= 12  # every UDHR paragraph of DIR, no article split
    assert {"de", "fr", "all"} <= set(out["no_model"]) and out["no_model"]["all"]["with_claim"] == 12
    lexical = _run("claims_crosslingual.py", data / SEMEVAL, "--test", test)
    assert lexical["split"] == "test" and lexical["data"] == str(test / SEMEVAL)
    assert "recall@10" in lexical["results"]["all"]


def _cases(path: Path, rng: random.Random, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    topics = [_words(rng, 6) for _ in range(3)]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["date", "title", "summary", "keywords"])
        w.writeheader()
        for i in range(n):
            t = i % 3
            w.writerow({"date": f"{1 + i % 12:02d}/{1 + i % 27:02d}/16", "title": _words(rng, 4),
                        "summary": f"{topics[t]} {_words(rng, 8)}", "keywords": f"topic{t}, war"})
    return path


def test_narratives_stability_test_mode(tmp_path: Path) -> None:
    data = _cases(tmp_path / "data" / "cases.csv", random.Random(1), 40)
    test = _cases(tmp_path / "test" / "cases.csv", random.Random(2), 30)
    out = _run("narratives_stability.py", data, "--test", test.parent, "--encoder", "none")
    assert out["split"] == "test" and out["data"] == str(test) and out["documents"] == 30
    assert 0 <= out["results"]["ours lexical"]["changed_share"] <= 1
