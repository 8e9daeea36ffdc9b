"""Cross-language candidate recall without a model: which lexical features find the partner?

    python eval/claims_crosslingual.py [CSV] [--encoder PATH]

CSV is the SemEval-2022 Task 8 sample train file (news article pairs in different or the
same language, scored 1 = very similar .. 4 = very dissimilar; default
/work/shared/data/similarity/semeval2022-t8-sample-train.csv). Only cross-language pairs are
used. For every pair scored "similar" (Overall <= 2), text1 queries a BM25 index over the
text2 of all cross-language pairs (similar and dissimilar alike, so the distractors are real
articles on other topics), and we ask whether its own partner comes back in the top 1/5/10.

Each variant keeps a different set of index terms of the detector's analyzer:
  all          every term (what the detector does today: shared names, cognates, numbers)
  no_numbers   all but digit strings             -> do numbers help?
  numbers      digit strings only
  entities     capitalised words not opening a sentence (a crude named-entity pick)
  anchors      numbers + entities
  all+anchors  every term, numbers and entities counted twice (an entity/number boost)
No Cyrillic text is in this file, so transliteration cannot be measured here. Nothing here
is tuned: the variants are compared as they are.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.bm25 import TUNED_ANALYZER, TUNED_B, TUNED_K1, BM25Index

csv.field_size_limit(10**8)
DEFAULT = Path("/work/shared/data/similarity/semeval2022-t8-sample-train.csv")
_WORD = re.compile(r"\w+")
_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-ÞĀ-Ž][\w-]+", re.MULTILINE)


def variant_terms(text: str, variant: str) -> list[str]:
    a = TUNED_ANALYZER
    terms = a.terms(text)
    numbers = [t for t in terms if t.isdigit()]
    entities = [t for m in _ENTITY.findall(text) for t in a.terms(m) if not t.isdigit()]
    if variant == "all":
        return terms
    if variant == "no_numbers":
        return [t for t in terms if not t.isdigit()]
    if variant == "numbers":
        return numbers
    if variant == "entities":
        return entities
    if variant == "anchors":
        return numbers + entities
    if variant == "all+anchors":
        return terms + numbers + entities
    raise ValueError(variant)


VARIANTS = ("all", "no_numbers", "numbers", "entities", "anchors", "all+anchors")


class _Terms:
    """An analyzer that takes already-chosen terms (joined by spaces) as they are."""

    def terms(self, text: str) -> list[str]:
        return text.split()


def recall(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    n = len(gold)
    return {f"recall@{k}": round(sum(g in r[:k] for r, g in zip(ranked, gold, strict=True)) / n, 4) for k in (1, 5, 10)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, nargs="?", default=DEFAULT)
    ap.add_argument("--encoder", type=Path, help="also rank by cosine with this local model (reference)")
    args = ap.parse_args()
    with args.csv.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["lang1"] != r["lang2"]]
    pool = sorted({r["text2"] for r in rows})
    pool_id = {t: f"d{i}" for i, t in enumerate(pool)}
    similar = [r for r in rows if float(r["Overall"]) <= 2.0 and r["text1"] != r["text2"]]
    gold = [pool_id[r["text2"]] for r in similar]
    langs = sorted({f"{r['lang1']}-{r['lang2']}" for r in similar})
    print(f"{len(rows)} cross-language pairs, {len(similar)} similar (queries), pool {len(pool)}; {langs}",
          file=sys.stderr)

    results: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        index = BM25Index(_Terms(), k1=TUNED_K1, b=TUNED_B)  # type: ignore[arg-type]
        index.add((pool_id[t], " ".join(variant_terms(t, variant))) for t in pool)
        hits = index.query_terms([variant_terms(r["text1"], variant) for r in similar], 10)
        results[variant] = recall([[d for d, _ in h] for h in hits], gold)
        per_lang = {}
        for lang in langs:
            sel = [i for i, r in enumerate(similar) if f"{r['lang1']}-{r['lang2']}" == lang]
            per_lang[lang] = recall([[d for d, _ in hits[i]] for i in sel], [gold[i] for i in sel])["recall@10"]
        results[variant]["recall@10_by_pair"] = per_lang  # type: ignore[assignment]
    if args.encoder:
        from fimiscope.index.encoders import VectorIndex, load_encoder

        enc = load_encoder(args.encoder)
        vi = VectorIndex(0)
        pv = enc.encode(pool)
        vi = VectorIndex(pv.shape[1])
        vi.add([pool_id[t] for t in pool], pv)
        hits = vi.search(enc.encode([r["text1"] for r in similar]), 10)
        results[f"encoder {enc.name}"] = recall([[d for d, _ in h] for h in hits], gold)

    print(f"{'variant':28} {'R@1':>7} {'R@5':>7} {'R@10':>7}")
    for name, m in results.items():
        print(f"{name:28} {m['recall@1']:7.4f} {m['recall@5']:7.4f} {m['recall@10']:7.4f}")
    print(json.dumps({"eval": "claims-crosslingual", "queries": len(similar), "pool": len(pool), "results": results}))


if __name__ == "__main__":
    main()
