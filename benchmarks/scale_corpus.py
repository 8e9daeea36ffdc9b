"""A corpus for the scale benchmarks: documents made of real news text (the SemEval-2022
Task 8 sample in ../shared/data/similarity, the SemEval-2023 Task 3 and SemEval-2025 Task 10
articles in ../shared/data/persuasion and ../shared/data/narratives; about 4,900 articles; the
8 languages with at least 2,000 sentences) with planted copies at a fixed rate, so the laundering stage meets what it meets in
production: mostly unrelated articles, some verbatim and partial republications.

    write_corpus(path, n, copy_rate=0.05) -> number of planted copies

Each original has 8-16 sentences in 2-4 paragraphs, all in one language; each sentence is
*spliced*: the first half of one real sentence and the second half of another, drawn at random
from every article of that language. A copy repeats an earlier original verbatim (half), or
its first paragraphs with a new closing paragraph (half).

Why spliced: the first version (``splice=False``, kept to compare) cut each original as a run
of whole sentences from one of ~2,500 articles, so at 10,000 documents every article had been
cut ~4 times in overlapping runs, and at 100,000 ~40 times: a new document shared whole
sentences (and 2-sentence windows, which the stage indexes) with ever more earlier ones, and
the number of true partial matches per document grew with the corpus. That measured the
generator, not the stage (docs/scale.md). Spliced sentences keep real words and local word
order, but two documents share a run of five words (one shingle) only by chance, as unrelated
articles do. Without the data files the sentences are drawn from a fixed word list (said on
stderr).
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import sys
from pathlib import Path


def shared_data() -> Path:
    """The data folder beside the checkout (``../shared/data``), wherever the checkout lies (a
    worktree one level deeper too); ``FIMISCOPE_SHARED_DATA`` names another."""
    if os.environ.get("FIMISCOPE_SHARED_DATA"):
        return Path(os.environ["FIMISCOPE_SHARED_DATA"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED = shared_data()
DATA = SHARED / "similarity" / "semeval2022-t8-sample-train.csv"
ARTICLE_DIRS = (SHARED / "persuasion" / "semeval2023-t3", SHARED / "narratives" / "semeval2025-t10")
_SPLIT = re.compile(r"(?<=[.!?])\s+")


def articles() -> list[list[str]]:
    """Sentences of each article of the sample (both sides of every pair, deduplicated)."""
    if not DATA.exists():
        print(f"{DATA} not found: synthetic sentences", file=sys.stderr)
        rng = random.Random(3)
        words = "government ministry election vote sanctions energy prices protest minister report".split()
        return [[" ".join(rng.choice(words) for _ in range(14)) + "." for _ in range(20)] for _ in range(500)]
    csv.field_size_limit(50_000_000)
    seen: set[str] = set()
    out = []
    with DATA.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for text in (row["text1"], row["text2"]):
                if text in seen or len(text) < 500:
                    continue
                seen.add(text)
                sents = [s.strip() for s in _SPLIT.split(text) if len(s.strip()) > 30]
                if len(sents) >= 6:
                    out.append(sents)
    return out


def sentence_pool() -> dict[str, list[str]]:
    """Sentences of every article, one list per language (languages with few sentences are
    left out: splicing needs many to draw from)."""
    by_lang: dict[str, list[str]] = {}
    if DATA.exists():
        csv.field_size_limit(50_000_000)
        seen: set[str] = set()
        with DATA.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for text, lang in ((row["text1"], row["lang1"]), (row["text2"], row["lang2"])):
                    if text not in seen:
                        seen.add(text)
                        by_lang.setdefault(lang.lower(), []).extend(_sentences(text))
    for root in ARTICLE_DIRS:
        for file in sorted(root.glob("*/*/*.txt")) if root.exists() else []:
            lang = {"ge": "de", "po": "pl"}.get(file.parts[-3].lower(), file.parts[-3].lower())
            by_lang.setdefault(lang, []).extend(_sentences(file.read_text(encoding="utf-8", errors="replace")))
    pools = {k: sorted(set(v)) for k, v in sorted(by_lang.items()) if len(set(v)) >= 2_000}
    if not pools:
        print(f"{DATA} not found: synthetic sentences", file=sys.stderr)
        pools = {"en": [s for art in articles() for s in art]}
    return pools


def _sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SPLIT.split(text) if 30 < len(s.strip()) < 400]


def _splice(rng: random.Random, pool: list[str]) -> str:
    """The first half of one sentence and the second half of another (at a space when there
    is one: not in Chinese)."""
    a, b = rng.choice(pool), rng.choice(pool)

    def cut(s: str) -> int:
        mid = len(s) // 2
        space = s.find(" ", mid)
        return space if space > 0 else mid

    return (a[: cut(a)] + " " + b[cut(b) :].lstrip()) if " " in a else a[: cut(a)] + b[cut(b) :]


def write_corpus(
    path: Path, n: int, copy_rate: float = 0.05, seed: int = 11, splice: bool = True, languages: bool = False
) -> int:
    """``languages``: each row carries the language its sentences were drawn from (spliced
    corpus only), so the laundering stage can run without the language stage first."""
    rng = random.Random(seed)
    arts = [] if splice else articles()
    pools = sentence_pool() if splice else {}
    langs = list(pools)
    weights = [len(pools[k]) for k in langs]
    originals: list[dict[str, object]] = []
    copies = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            site = f"site{rng.randrange(400)}.example"
            when = f"2025-{1 + (i * 12) // n:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            lang: str | None = None
            if originals and rng.random() < copy_rate:
                src = rng.choice(originals)
                paras = list(src["paras"])  # type: ignore[call-overload]
                lang = src.get("lang")  # type: ignore[assignment]
                if rng.random() < 0.5 and len(paras) > 1:
                    closing = (
                        [_splice(rng, pools[src["lang"]]) for _ in range(3)]  # type: ignore[index]
                        if splice
                        else [rng.choice(rng.choice(arts)) for _ in range(3)]
                    )
                    paras = [*paras[:-1], " ".join(closing)]
                copies += 1
            elif splice:
                lang = rng.choices(langs, weights)[0]
                sents = [_splice(rng, pools[lang]) for _ in range(rng.randint(8, 16))]
                cut = sorted(rng.sample(range(1, len(sents)), rng.randint(1, 3)))
                paras = [" ".join(sents[a:b]) for a, b in zip([0, *cut], [*cut, len(sents)], strict=True)]
                originals.append({"paras": paras, "lang": lang})
                if len(originals) > 20_000:
                    originals.pop(rng.randrange(len(originals)))
            else:
                art = rng.choice(arts)
                start = rng.randrange(max(len(art) - 6, 1))
                sents = art[start : start + rng.randint(6, 14)] + rng.sample(rng.choice(arts), 2)
                cut = sorted(rng.sample(range(1, len(sents)), min(rng.randint(1, 3), len(sents) - 1)))
                paras = [" ".join(sents[a:b]) for a, b in zip([0, *cut], [*cut, len(sents)], strict=True)]
                originals.append({"paras": paras})
                if len(originals) > 20_000:
                    originals.pop(rng.randrange(len(originals)))
            row = {
                "url": f"https://{site}/a/{i}",
                "source": site,
                "title": paras[0][:80],
                "text": "\n\n".join(paras),
                "published_at": when,
            }
            if languages and lang:
                row["language"] = lang
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return copies


if __name__ == "__main__":
    print(write_corpus(Path(sys.argv[1]), int(sys.argv[2])))
