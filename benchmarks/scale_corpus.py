"""A corpus for the scale benchmarks: documents made of real news sentences (the SemEval-2022
Task 8 sample in ../shared/data/similarity, ten languages) with planted copies, so the
laundering stage meets what it meets in production: mostly unrelated articles, some verbatim
and partial republications.

    write_corpus(path, n, copy_rate=0.05) -> number of planted copies

Each original takes 6-14 sentences from one random article (kept in order, in 2-4
paragraphs) plus 1-3 from another; a copy repeats an earlier original verbatim (half), or its
first paragraphs with a new closing paragraph (half). Without the data file the sentences are
drawn from a fixed word list (said on stderr).
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


DATA = shared_data() / "similarity" / "semeval2022-t8-sample-train.csv"
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


def write_corpus(path: Path, n: int, copy_rate: float = 0.05, seed: int = 11) -> int:
    rng = random.Random(seed)
    arts = articles()
    originals: list[dict[str, object]] = []
    copies = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            site = f"site{rng.randrange(400)}.example"
            when = f"2025-{1 + (i * 12) // n:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            if originals and rng.random() < copy_rate:
                src = rng.choice(originals)
                paras = list(src["paras"])  # type: ignore[call-overload]
                if rng.random() < 0.5 and len(paras) > 1:
                    paras = [*paras[:-1], " ".join(rng.choice(rng.choice(arts)) for _ in range(3))]
                copies += 1
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
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return copies


if __name__ == "__main__":
    print(write_corpus(Path(sys.argv[1]), int(sys.argv[2])))
