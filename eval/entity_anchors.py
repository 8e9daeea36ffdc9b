"""Named-entity anchors for Russian: do they find a Russian article's translation among other-
language articles better than the capitalised-word anchors of ``index/anchors.py``?

    python eval/entity_anchors.py /work/shared/data [--test DIR]

Needs ``natasha`` (MIT; its Russian NER and morphology weights ship inside the wheel, nothing
is downloaded). Data: the SemEval-2022 Task 8 sample (``similarity/semeval2022-t8-sample-
train.csv``). Its pair ids name each side by an article id, a translated version carrying a
language suffix (``1484013672`` and ``1484013672ru`` are one article), so the texts of one id
in Russian and in another language are a translation pair. The data's cross-language *rated*
pairs hold no Russian, so these are the only Russian translation pairs it has.

For each Russian text with a translation, every text in another language is ranked by anchor
similarity (``anchor_similarity``, document frequencies over all texts), and the reverse.
Reported: the rank of the true translation (recall@1, @5, mean reciprocal rank).

* ``capitalised``: the shipped anchors on both sides (capitalised words folded to Latin, stem 5);
* ``entities``: on the Russian side the capitalised-word anchors are replaced by the words of
  natasha's PER / LOC / ORG spans in their normal (nominative) form, folded the same way
  (``Ирана`` -> ``Иран`` -> ``iran``, meeting English ``Iran``); numbers, links, quotes kept;
* ``both``: the union.

Nothing is tuned: there is no threshold, only ranks. ``--test DIR`` (laid out like DATA)
scores DIR once the same way, DATA being only the folder the ranks were first read on; the
table's title and the JSON (``"split": "test"``, ``"data"``) name the folder scored. Without
natasha only the ``capitalised`` row is scored (the others are left out with a note). Ends with
one line of JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from fimiscope.index import anchors as anchor_kernel


def article_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def load(folder: Path) -> tuple[dict[str, tuple[str, str]], dict[str, set[str]]]:
    """Texts (key -> (language, text)) and article id -> keys of its versions."""
    csv.field_size_limit(1 << 30)
    texts: dict[str, tuple[str, str]] = {}
    versions: dict[str, set[str]] = defaultdict(set)
    path = folder / "similarity" / "semeval2022-t8-sample-train.csv"
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            sides = str(r["pair_id"]).split("_")
            for i, side in enumerate(sides[:2], start=1):
                text = r[f"text{i}"].strip()
                if len(text.split()) < 30:
                    continue
                key = article_key(text)
                texts[key] = (r[f"lang{i}"], text)
                m = re.match(r"\d+", side)
                if m:
                    versions[m.group(0)].add(key)
    return texts, versions


class EntityAnchors:
    def __init__(self) -> None:
        from natasha import Doc, MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

        emb = NewsEmbedding()
        self._doc = Doc
        self.segmenter = Segmenter()
        self.ner = NewsNERTagger(emb)
        self.morph = NewsMorphTagger(emb)  # the normal form of a span needs the words' morphology
        self.vocab = MorphVocab()

    def __call__(self, text: str) -> set[str]:
        doc = self._doc(text)
        doc.segment(self.segmenter)
        doc.tag_ner(self.ner)
        doc.tag_morph(self.morph)
        out = set()
        for span in doc.spans:
            span.normalize(self.vocab)
            name = span.normal or span.text
            for word in re.findall(r"[^\W\d_][\w'’-]*", name):
                folded = anchor_kernel._fold(word)[: anchor_kernel.STEM]
                if len(folded) >= 3:
                    out.add("e:" + folded)
        return out


def ranks(
    anchors: dict[str, set[str]], lang: dict[str, str], pairs: list[tuple[str, str, frozenset[str]]]
) -> list[int]:
    """For each (query, truth, other versions): the truth's rank among all texts in another
    language (the article's other versions, also translations of it, are left out)."""
    df: Counter[str] = Counter()
    for s in anchors.values():
        df.update(s)
    n = len(anchors)
    out = []
    for q, truth, versions in pairs:
        scored = sorted(
            (
                (anchor_kernel.anchor_similarity(anchors[q], anchors[d], df, n)[0], d)
                for d in anchors
                if lang[d].split("-")[0] != lang[q].split("-")[0] and (d == truth or d not in versions)
            ),
            reverse=True,
        )
        order = [d for _s, d in scored]
        score_of_truth = next(s for s, d in scored if d == truth)
        # ties rank pessimistically: the truth after every text scoring the same
        out.append(sum(1 for s, _d in scored if s >= score_of_truth) if score_of_truth > 0 else len(order))
    return out


def summary(r: list[int]) -> dict[str, Any]:
    return {
        "pairs": len(r),
        "recall_at_1": sum(x <= 1 for x in r) / len(r) if r else 0.0,
        "recall_at_5": sum(x <= 5 for x in r) / len(r) if r else 0.0,
        "mrr": sum(1 / x for x in r) / len(r) if r else 0.0,
        "ranks": r,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the data folder (holds similarity/semeval2022-t8-sample-train.csv)")
    parser.add_argument("--test", type=Path, metavar="DIR",
                        help="score this folder (laid out like DATA) once instead; nothing is fitted")
    args = parser.parse_args()
    folder = args.test or args.data
    t0 = time.perf_counter()
    texts, versions = load(folder)
    lang = {k: v[0] for k, v in texts.items()}
    pairs: list[tuple[str, str, frozenset[str]]] = []
    for keys in versions.values():
        ru = sorted(k for k in keys if lang[k] == "ru")
        other = sorted(k for k in keys if lang[k] != "ru")
        group = frozenset(keys)
        pairs += [(a, b, group) for a in ru for b in other] + [(b, a, group) for a in ru for b in other]
    base = {k: anchor_kernel.anchors(t) for k, (_l, t) in texts.items()}
    variants: dict[str, dict[str, set[str]]] = {"capitalised": base}
    try:
        ner = EntityAnchors()
    except ImportError as exc:
        print(f"entity rows skipped ({exc}): pip install natasha", file=sys.stderr)
    else:
        ents = {k: ner(t) for k, (lng, t) in texts.items() if lng == "ru"}
        variants["entities"] = {
            k: ({a for a in s if not a.startswith("e:")} | ents[k]) if k in ents else s for k, s in base.items()
        }
        variants["both"] = {k: (s | ents[k]) if k in ents else s for k, s in base.items()}
    results: dict[str, Any] = {
        **({"split": "test", "data": str(folder)} if args.test else {}),
        "texts": len(texts),
        "russian_texts": sum(1 for x in lang.values() if x == "ru"),
        "translation_pairs": len(pairs),
    }
    for name, anchors in variants.items():
        results[name] = summary(ranks(anchors, lang, pairs))
    results["seconds"] = round(time.perf_counter() - t0, 1)
    print(
        f"\nRussian translation pairs found by anchors{f' (test: {folder})' if args.test else ''} ({len(pairs)} directed pairs, "
        f"{results['texts']} texts, {results['russian_texts']} Russian)"
    )
    print(f"{'anchors':<14}{'R@1':>7}{'R@5':>7}{'MRR':>7}  ranks of the true translation")
    for name in variants:
        r = results[name]
        print(f"{name:<14}{r['recall_at_1']:>7.3f}{r['recall_at_5']:>7.3f}{r['mrr']:>7.3f}  {r['ranks']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
