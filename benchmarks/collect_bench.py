"""Collection speed and extraction quality, side by side in one run.

1. Extractors on the same pages: trafilatura (our default) vs resiliparse — pages/s and
   token-level body F1 against the known main text. Main texts are real news articles
   (SemEval-2022 Task 8 sample, ../shared/data/similarity) in en/de/pl/ru/es/fr/it, wrapped in
   generated boilerplate (navigation, cookie banner, sidebar of related links, comments,
   footer) with varied layouts.
2. Language identification on sentences of those articles: py3langid (default) vs lingua,
   accuracy overall, per language and on short texts (<= 50 characters), texts/s.
3. End to end into SQLite: an N-page WARC through connector + extractor + store, with the
   time split between the extractor and everything else; and N social posts in JSONL.

    python benchmarks/collect_bench.py [--data ../shared/data] [--pages 400] [--warc-n 2000] [--posts-n 200000]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

LANGS = ("en", "de", "pl", "ru", "es", "fr", "it")


def load_articles(data: Path, per_lang: int) -> list[tuple[str, str]]:
    csv.field_size_limit(1 << 30)
    out: dict[str, list[str]] = defaultdict(list)
    with (data / "similarity" / "semeval2022-t8-sample-train.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for lang, text in ((row["lang1"], row["text1"]), (row["lang2"], row["text2"])):
                if lang in LANGS and len(text) > 800 and len(out[lang]) < per_lang:
                    out[lang].append(text)
    return [(lang, t) for lang, texts in out.items() for t in texts]


def paragraphs(text: str) -> list[str]:
    sents = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    paras, cur = [], []
    for s in sents:
        cur.append(s)
        if len(" ".join(cur)) > 350:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras


NAV = ["Home", "World", "Politics", "Economy", "Sport", "Culture", "Opinion", "Video", "Podcasts"]
RELATED = [
    "Ten things you missed this week", "Markets close higher after a volatile session",
    "Weather: storms expected over the weekend", "Interview: the coach on the new season",
    "Opinion: why the reform matters", "Photos of the day", "Subscribe to our newsletter",
]


def page(title: str, body: list[str], rng: random.Random) -> str:
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in NAV)
    related = "".join(f'<li><a href="/r/{i}">{r}</a></li>' for i, r in enumerate(rng.sample(RELATED, 5)))
    comments = "".join(
        f'<div class="comment"><b>user{rng.randint(1, 999)}</b><p>{esc(rng.choice(RELATED))} — I disagree.</p></div>'
        for _ in range(rng.randint(0, 4))
    )
    article = "".join(f"<p>{esc(p)}</p>" for p in body)
    layout = rng.randint(0, 2)
    if layout == 0:
        main = f"<article><h1>{esc(title)}</h1><p class='byline'>By Staff</p>{article}</article>"
    elif layout == 1:
        main = f"<div class='content'><div class='post'><h2>{esc(title)}</h2><div class='entry'>{article}</div></div></div>"
    else:
        main = f"<main><section><h1>{esc(title)}</h1>{article}</section></main>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)} | Daily</title></head><body>"
        f"<div id='cookie'>We use cookies to improve your experience. <button>Accept all</button></div>"
        f"<header><ul class='nav'>{nav}</ul></header><div class='wrap'>{main}"
        f"<aside><h3>Related</h3><ul>{related}</ul></aside></div><div id='comments'>{comments}</div>"
        f"<footer>© 2024 Daily Media. All rights reserved. <a href='/privacy'>Privacy</a></footer></body></html>"
    )


def tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def f1(gold: str, got: str) -> float:
    g, o = tokens(gold), tokens(got)
    common = sum((g & o).values())
    if not common:
        return 0.0
    p, r = common / sum(o.values()), common / sum(g.values())
    return 2 * p * r / (p + r)


def extract_trafilatura(html: str) -> str:
    from fimiscope.core.errors import InvalidInput
    from fimiscope.extract.html import extract

    try:
        return extract(html).text
    except InvalidInput:
        return ""


def extract_resiliparse(html: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, main_content=True)


def bench_extractors(pages: list[tuple[str, str, str]]) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name, fn in (("trafilatura", extract_trafilatura), ("resiliparse", extract_resiliparse)):
        fn(pages[0][1])  # warm up imports
        start = time.perf_counter()
        outs = [fn(html) for _lang, html, _gold in pages]
        secs = time.perf_counter() - start
        scores = [f1(gold, out) for (_l, _h, gold), out in zip(pages, outs, strict=True)]
        results[name] = {"pages_per_s": len(pages) / secs, "body_f1": sum(scores) / len(scores)}
    return results


def bench_langid(samples: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    import py3langid
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def lingua_code(text: str) -> str:
        lang = detector.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang else "?"

    out: dict[str, dict[str, float]] = {}
    for name, fn in (("py3langid", lambda t: py3langid.classify(t)[0]), ("lingua", lingua_code)):
        fn("warm up the model")
        start = time.perf_counter()
        preds = [fn(t) for _lang, t in samples]
        secs = time.perf_counter() - start
        ok = [p == lang for (lang, _t), p in zip(samples, preds, strict=True)]
        short = [o for (lang, t), o in zip(samples, ok, strict=True) if len(t) <= 50]
        row = {"accuracy": sum(ok) / len(ok), "short_accuracy": sum(short) / max(len(short), 1),
               "texts_per_s": len(samples) / secs}
        for lang in sorted({lang for lang, _ in samples}):
            sel = [o for (la, _t), o in zip(samples, ok, strict=True) if la == lang]
            row[f"acc_{lang}"] = sum(sel) / len(sel)
        out[name] = row
    return out


def bench_warc(pages: list[tuple[str, str, str]], n: int, work: Path) -> dict[str, float]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from fimiscope.collect.base import CollectContext, RawPage, connectors
    from fimiscope.config import Settings
    from fimiscope.core.model import Document, Source
    from fimiscope.extract.html import extract
    from fimiscope.pipeline import ingest
    from fimiscope.store import Store

    path = work / "bench.warc.gz"
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i in range(n):
            _lang, html, _gold = pages[i % len(pages)]
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            rec = writer.create_warc_record(f"https://site{i % 50}.example/a/{i}", "response",
                                            payload=io.BytesIO(html.encode()), http_headers=headers)
            writer.write_record(rec)
    store = Store.open(None, work / "warc-store")
    src = Source(name="bench", kind="warc", location=str(path))
    warc = connectors()["warc"]()  # imports every connector module: not part of the rate
    in_extract = 0.0
    start = time.perf_counter()

    def docs():  # type: ignore[no-untyped-def]
        nonlocal in_extract
        for item in warc.collect(src, CollectContext(settings=Settings())):
            if isinstance(item, RawPage):
                t = time.perf_counter()
                try:
                    ex = extract(item.body, item.url, encoding=item.encoding)
                except Exception:
                    continue
                finally:
                    in_extract += time.perf_counter() - t
                yield Document(text=ex.text, title=ex.title, url=item.url, source=item.source, raw=item.body)

    report = ingest(store, docs())
    total = time.perf_counter() - start
    return {"items_per_s": report.new / total, "extract_share": in_extract / total, "n": report.new}


def bench_posts(n: int, work: Path) -> dict[str, float]:
    from fimiscope.collect.base import CollectContext, connectors
    from fimiscope.config import Settings
    from fimiscope.core.model import Source
    from fimiscope.pipeline import ingest
    from fimiscope.store import Store

    rng = random.Random(3)
    words = "vote election sanctions grain energy protest ministry NATO Kyiv Prague Moscow volby выборы".split()
    path = work / "posts.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({
                "id": str(i), "source": f"x:acct{i % 2000}", "platform": "x",
                "text": " ".join(rng.choice(words) for _ in range(rng.randint(8, 40))),
                "published_at": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                "shared_from": f"x:acct{(i * 7) % 2000}/{i // 3}" if i % 3 == 0 else None,
            }) + "\n")
    store = Store.open(None, work / "posts-store")
    src = Source(name="dump", kind="social", location=str(path))
    social = connectors()["social"]()  # imports every connector module: not part of the rate
    start = time.perf_counter()
    report = ingest(store, social.collect(src, CollectContext(settings=Settings())))
    secs = time.perf_counter() - start
    return {"posts_per_s": report.new / secs, "n": report.new}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--pages", type=int, default=60, help="articles per language")
    ap.add_argument("--warc-n", type=int, default=2000)
    ap.add_argument("--posts-n", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(11)
    articles = load_articles(args.data, args.pages)
    pages = []
    for lang, text in articles:
        paras = paragraphs(text)
        pages.append((lang, page(paras[0][:90], paras, rng), " ".join(paras)))
    work = Path(tempfile.mkdtemp(prefix="fimiscope-collect-bench-"))

    print(f"extractors on {len(pages)} real articles in {len(set(la for la, _ in articles))} languages", file=sys.stderr)
    ext = bench_extractors(pages)
    samples: list[tuple[str, str]] = []
    for lang, text in articles:
        sents = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s) > 12]
        samples.extend((lang, s) for s in sents[:6])
        samples.extend((lang, s[:50].rsplit(" ", 1)[0]) for s in sents[6:9] if len(s) > 40)
    print(f"language id on {len(samples)} sentences", file=sys.stderr)
    lid = bench_langid(samples)
    print(f"WARC end to end, {args.warc_n} pages", file=sys.stderr)
    warc = bench_warc(pages, args.warc_n, work)
    print(f"social posts end to end, {args.posts_n} posts", file=sys.stderr)
    posts = bench_posts(args.posts_n, work)

    base = ext["trafilatura"]
    print(f"\nExtraction ({len(pages)} pages)\n{'extractor':14}{'pages/s':>10}{'body F1':>9}{'speed vs trafilatura':>22}")
    for name, row in ext.items():
        print(f"{name:14}{row['pages_per_s']:>10.1f}{row['body_f1']:>9.3f}{row['pages_per_s'] / base['pages_per_s']:>21.1f}x")
    langs = sorted({la for la, _ in samples})
    print(f"\nLanguage identification ({len(samples)} texts; short = <= 50 chars)")
    print(f"{'library':12}{'acc':>7}{'short':>7}{'texts/s':>10}  " + " ".join(f"{la:>5}" for la in langs))
    for name, row in lid.items():
        per = " ".join(f"{row[f'acc_{la}']:>5.2f}" for la in langs)
        print(f"{name:12}{row['accuracy']:>7.3f}{row['short_accuracy']:>7.3f}{row['texts_per_s']:>10.0f}  {per}")
    print(f"\nEnd to end into SQLite\n  WARC: {warc['items_per_s']:.1f} pages/s over {warc['n']} pages, "
          f"{warc['extract_share']:.0%} of the time inside the extractor")
    print(f"  social JSONL: {posts['posts_per_s']:,.0f} posts/s over {posts['n']:,} posts")
    print(json.dumps({"extractors": ext, "language_id": lid, "warc": warc, "posts": posts}))


if __name__ == "__main__":
    main()
