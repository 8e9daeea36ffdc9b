"""Fingerprint extraction speed, side by side in one run with the raw parse it builds on.

Pages: the 280 real news articles of benchmarks/collect_bench.py (SemEval-2022 Task 8 sample,
40 per language) in its generated page layouts, each given the head and footer a real news
site carries (analytics, tag manager, Yandex/Mail.ru counters, ad and verification tags,
20-40 script and style assets, social links, a contact block), so the pages look like what
the fetcher archives (about 6 kB each; real pages are larger, mostly in text and markup).

Rows: raw parse with lxml and with selectolax (lexbor), each alone and with a walk over every
element's attributes (the least any attribute-level extractor does), then our
``fingerprint_page`` (lexbor tree + every fingerprint); and the hostile pages of
tests/extract/test_fingerprints.py, one by one, with the time each takes.

    python benchmarks/infrastructure_bench.py [--data ../shared/data] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from collect_bench import load_articles, page, paragraphs

HOSTS = ["fonts.googleapis.com", "ajax.googleapis.com", "cdnjs.cloudflare.com", "code.jquery.com", "cdn.jsdelivr.net",
         "yastatic.net", "connect.facebook.net", "platform.twitter.com", "s7.addthis.com", "static.example-cdn.net"]


def realistic(html: str, rng: random.Random) -> str:
    site = f"outlet{rng.randint(1, 60)}.example"
    head = [f'<meta name="google-site-verification" content="tok{rng.randint(1, 10**9)}">',
            f'<meta name="yandex-verification" content="{rng.randbytes(8).hex()}">',
            '<meta name="generator" content="WordPress 6.4.2">', '<meta name="twitter:site" content="@outlet">',
            f'<link rel="stylesheet" href="https://{site}/wp-content/themes/newsmag/style.css">']
    for _ in range(rng.randint(20, 40)):
        host = rng.choice(HOSTS)
        head.append(f'<script src="https://{host}/lib/{rng.randint(1, 999)}.js?ver={rng.randint(1, 9)}"></script>'
                    if rng.random() < 0.6 else f'<link rel="stylesheet" href="https://{host}/css/{rng.randint(1, 99)}.css">')
    head.append(f"""<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}
gtag('js', new Date()); gtag('config', 'G-{rng.randint(10**9, 10**10 - 1)}');
ga('create', 'UA-{rng.randint(10**7, 10**8)}-1', 'auto');
(function(m,e,t,r,i,k,a){{m[i]=m[i]||function(){{(m[i].a=m[i].a||[]).push(arguments)}};}})
(window, document, "script", "https://mc.yandex.ru/metrika/tag.js", "ym");
ym({rng.randint(10**7, 10**8)}, "init", {{clickmap:true, trackLinks:true, accurateTrackBounce:true}});
var _tmr = window._tmr || (window._tmr = []); _tmr.push({{id: "{rng.randint(10**6, 10**7)}", type: "pageView"}});
</script>""")
    footer = ('<footer class="site-footer td-footer-wrapper"><a href="https://t.me/outlet">Telegram</a> '
              '<a href="https://vk.com/outlet">VK</a> <a href="mailto:editor@outlet.example">editor</a> '
              '<a href="https://www.facebook.com/sharer.php?u=x">share</a></footer>')
    return html.replace("</head>", "".join(head) + "</head>", 1).replace("</body>", footer + "</body>", 1)


def run(fn, pages: list[bytes], rounds: int) -> float:
    fn(pages[0])
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for p in pages:
            fn(p)
        best = max(best, len(pages) / (time.perf_counter() - start))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sites", type=int, nargs="*", default=[1_000, 10_000], help="store sizes for the linking kernel")
    args = ap.parse_args()

    import lxml.html
    from selectolax.lexbor import LexborHTMLParser

    from fimiscope.extract.fingerprints import fingerprint_page

    rng = random.Random(1)
    arts = load_articles(args.data, 40)
    pages = [realistic(page(t.split(".")[0][:80], paragraphs(t), rng), rng).encode() for _lang, t in arts]
    kb = sum(map(len, pages)) / len(pages) / 1024

    def lxml_walk(b: bytes) -> int:
        return sum(len(el.attrib) for el in lxml.html.fromstring(b).iter())

    def lexbor_walk(b: bytes) -> int:
        return sum(len(n.attributes) for n in LexborHTMLParser(b).root.traverse(include_text=False))

    rows = [
        ("lxml 6.1.3: parse", run(lxml.html.fromstring, pages, args.rounds)),
        ("selectolax 1.0.2 (lexbor): parse", run(LexborHTMLParser, pages, args.rounds)),
        ("lxml: parse + walk every attribute", run(lxml_walk, pages, args.rounds)),
        ("lexbor: parse + walk every attribute", run(lexbor_walk, pages, args.rounds)),
        ("fimiscope fingerprint_page (lexbor)", run(lambda b: fingerprint_page(b, "https://outlet.example/a"), pages,
                                                    args.rounds)),
    ]
    base = rows[1][1]
    print(f"{len(pages)} pages, {kb:.1f} kB on average, best of {args.rounds} rounds\n")
    print("| system | pages/s | vs lexbor parse |")
    print("|---|---:|---:|")
    for name, pps in rows:
        print(f"| {name} | {pps:,.0f} | {pps / base:.2f}x |")

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "extract"))
    from test_fingerprints import HOSTILE

    print("\n| hostile page | size | seconds | notes |")
    print("|---|---:|---:|---|")
    hostile = {}
    for name, make in sorted(HOSTILE.items()):
        html = make().encode()
        start = time.perf_counter()
        got = fingerprint_page(html, "https://hostile.example/")
        took = time.perf_counter() - start
        hostile[name] = round(took, 3)
        print(f"| {name} | {len(html) / 1e6:.1f} MB | {took:.2f} | {'; '.join(got.notes)[:90]} |")
    scale = bench_linking(args.sites)
    print(json.dumps({"bench": "infrastructure", "pages": len(pages), "kb": round(kb, 1),
                      "rows": [{"system": n, "pages_per_s": round(p, 1)} for n, p in rows],
                      "hostile_s": hostile, "linking": scale}))


def bench_linking(sizes: list[int]) -> list[dict[str, float]]:
    """The detector's kernel (links + groups) on synthetic stores of N sites: 40 fingerprints a
    site, operations of 5-20 sites sharing ids, common CDNs and CMSs, 150 CSS classes a site."""
    from fimiscope.detect.infrastructure import Observation, Params, group_sites, link_sites

    out = []
    print("\n| sites | observations | link_sites s | group_sites s | links | groups |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        rng = random.Random(n)
        obs, classes = [], {}
        ops = [rng.sample(range(n), rng.randint(5, 20)) for _ in range(n // 40)]
        op_of = {s: i for i, members in enumerate(ops) for s in members}
        for s in range(n):
            site = f"site{s}.example"
            obs += [Observation(site, "asset_host", rng.choice(HOSTS)) for _ in range(12)]
            obs += [Observation(site, "cms", rng.choice(["wordpress", "bitrix", "drupal", "joomla"]))]
            obs += [Observation(site, "ga", f"UA-{rng.randint(1, 10**8)}") for _ in range(2)]
            obs += [Observation(site, "outbound", f"d{rng.randint(1, 5000)}.example") for _ in range(20)]
            if s in op_of:
                obs += [Observation(site, "ga", f"UA-op{op_of[s]}"), Observation(site, "theme", f"t{op_of[s]}")]
            classes[site] = [f"c{rng.randint(1, 50_000)}" for _ in range(150)]
        start = time.perf_counter()
        links, _ = link_sites(obs, Params(), classes=classes)
        mid = time.perf_counter()
        groups = group_sites(links, Params())
        end = time.perf_counter()
        row = {"sites": n, "observations": len(obs), "link_s": round(mid - start, 2), "group_s": round(end - mid, 2),
               "links": len(links), "groups": len(groups)}
        out.append(row)
        print(f"| {n:,} | {len(obs):,} | {row['link_s']} | {row['group_s']} | {len(links):,} | {len(groups):,} |")
    return out


if __name__ == "__main__":
    main()
