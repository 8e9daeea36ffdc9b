"""Shared-infrastructure detection quality: precision / recall of same-operation site pairs per
evidence tier, beside a baseline that links any two sites sharing any indicator value.

    python eval/infrastructure.py DATA [--test DIR] [--out DIR] [--seed 7]

DATA is either the project's data folder (it has ``sources/``): a labelled set is built from
it into ``--out`` (default: a temporary folder) as ``dev/`` and ``test/``, the link threshold
is fitted on dev and test is scored once; or a built set (``sites.csv``, ``pages/``,
``indicators.csv``): scored with the default threshold, or fitted on it and scored once on
``--test DIR`` laid out the same way.

How the labelled set is built (``build``):

* **Operations** come from the registry data: DIMA's per-operation domain lists and the
  Laundromat's VIGINUM Portal Kombat list, merged where they document the same operation
  (lists overlapping on >= 10% of the smaller: Doppelganger+RRN, Portal Kombat+VIGINUM+Pravda).
  DIMA's own "laundromat" list (reposters) and the Laundromat's news lists are not operations.
  Domains are split between dev and test by a hash of the domain, up to 12 per operation.
* **Unflagged sites**: 150 per split from the Laundromat's Wikidata news list (minus any
  operation or EUvsDisinfo domain).
* **Pages** (a home page and an article per site) are generated with planted indicators: each
  operation gets its own analytics/ad/verification ids, sometimes two accounts, a wallet, a
  Telegram channel, a contact, a custom or popular theme, a favicon and an asset host, and each
  member carries each one only with some probability (operators are not uniformly sloppy);
  every site also carries its own ids and the realistic common ones (WordPress, popular themes
  and their CSS, jQuery/Google Fonts/cdnjs, Yandex and Mail.ru counter hosts, share buttons,
  links to big outlets). Hard negatives: three web agencies that each built four unrelated
  sites (one Tag Manager container and theme per agency), and a popular theme that ships a
  demo Analytics id its users leave in (on ~8% of sites).
* **Real indicators**: the Laundromat's indicator file (21 real sites: IPs, analytics ids,
  verification tokens, certificates, WHOIS, CSS classes) is imported through the real
  importer. Pairs among these real sites have no operation label in the registry and are left
  out of the score (their links are listed); their pairs with the generated sites are negatives.

A pair is positive when both sites belong to one operation. The tiers are cumulative:
"conclusive" links the pairs whose strongest counted indicator is conclusive, ">= associative"
adds associative ones, ">= tertiary" every counted link; "site groups" are pairs in one group
at the fitted threshold. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import itertools
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from fimiscope.collect.indicators import read_indicators
from fimiscope.collect.registry_lists import read_dima, read_laundromat
from fimiscope.detect.infrastructure import (
    ASSOCIATIVE,
    CONCLUSIVE,
    TIER_ORDER,
    Observation,
    Params,
    group_sites,
    link_sites,
)
from fimiscope.extract.fingerprints import fingerprint_page

PER_OP = 12
UNFLAGGED = 150
POPULAR_THEMES = {  # theme -> its CSS classes (what every site using it emits)
    "newspaper": ["td-header-wrap", "td-main-content", "td-post-title", "td-module-thumb", "td-block-span6",
                  "td-pb-row", "td-footer-wrapper", "td-social-icon-wrap", "td-category-header", "td-ss-main-content",
                  "td_module_wrap", "td-excerpt"],
    "astra": ["ast-container", "ast-row", "ast-article-post", "ast-separate-container", "ast-primary-header-bar",
              "ast-builder-grid-row", "ast-footer-copyright", "ast-blog-featured-section", "ast-excerpt-container",
              "ast-mobile-header-wrap"],
    "generatepress": ["inside-header", "inside-article", "inside-navigation", "site-branding-container",
                      "generate-back-to-top", "inside-right-sidebar", "footer-widgets-container", "gp-icon",
                      "main-navigation", "nav-float-right"],
    "jnews": ["jeg_header", "jeg_nav_row", "jeg_post_title", "jeg_meta_date", "jeg_block_container", "jeg_pl_md_2",
              "jeg_footer_content", "jeg_social_icon_block", "jeg_thumb", "jeg_postblock_3", "jeg_inner_content"],
    "soledad": ["penci-header-wrap", "penci-grid", "penci-image-holder", "penci-post-box-meta", "penci-wrapper-data",
                "penci-sidebar-content", "penci-footer-social-media", "penci-entry-footer", "penci-bgmain"],
}
COMMON_HOSTS = ["fonts.googleapis.com", "ajax.googleapis.com", "cdnjs.cloudflare.com", "code.jquery.com",
                "cdn.jsdelivr.net", "mc.yandex.ru", "top-fwz1.mail.ru", "connect.facebook.net",
                "platform.twitter.com", "s7.addthis.com", "yastatic.net", "www.googletagmanager.com"]
BIG_OUTLETS = ["reuters.com", "bbc.com", "rt.com", "tass.ru", "ria.ru", "theguardian.com", "nytimes.com",
               "aljazeera.com", "lemonde.fr", "spiegel.de", "wikipedia.org", "youtube.com", "t.me", "vk.com"]
THEME_DEMO_GA = "UA-35218822-1"  # a popular theme's demo id, left in by some of its users


def h(text: str, n: int = 8) -> int:
    return int(hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), 16) % (10**n)


def split_of(domain: str) -> str:
    return "dev" if h("split:" + domain) % 2 == 0 else "test"


def operations(shared: Path) -> dict[str, set[str]]:
    """Documented operations (name -> domains), overlapping lists merged."""
    laund, _ = read_laundromat(shared / "sources" / "laundromat-sites_of_concern.csv")
    dima, _ = read_dima(shared / "sources" / "dima-operations")
    lists: dict[str, set[str]] = defaultdict(set)
    for src in laund + dima:
        for name in src.lists:
            if (name.startswith("dima:") and name != "dima:laundromat") or name == "laundromat:viginum-portal-kombat":
                lists[name].add(src.name)
    names = sorted(lists)
    parent = {n: n for n in names}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in itertools.combinations(names, 2):
        if len(lists[a] & lists[b]) >= 0.1 * min(len(lists[a]), len(lists[b])):
            parent[find(b)] = find(a)
    merged: dict[str, set[str]] = defaultdict(set)
    members: dict[str, list[str]] = defaultdict(list)
    for n in names:
        merged[find(n)] |= lists[n]
        members[find(n)].append(n.split(":", 1)[1])
    return {"+".join(sorted(members[root])): doms for root, doms in merged.items()}


def unflagged_pool(shared: Path, flagged: set[str]) -> list[str]:
    laund, _ = read_laundromat(shared / "sources" / "laundromat-sites_of_concern.csv")
    return sorted(s.name for s in laund if s.lists == ["laundromat:wikidata-all-news"] and s.name not in flagged)


def _id(rng: random.Random, kind: str) -> str:
    if kind == "ga":
        return f"UA-{rng.randint(10**7, 10**8 - 1)}-{rng.randint(1, 9)}"
    if kind == "ga4":
        return "G-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    if kind == "gtm":
        return "GTM-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7))
    if kind == "ym":
        return str(rng.randint(10**7, 10**8 - 1))
    if kind == "pub":
        return str(rng.randint(10**15, 10**16 - 1))
    if kind == "token":
        return base64.urlsafe_b64encode(rng.randbytes(30)).decode().rstrip("=")
    if kind == "ytoken":
        return rng.randbytes(8).hex()
    raise ValueError(kind)


def _wallet(rng: random.Random) -> str:
    return "0x" + rng.randbytes(20).hex()


def operation_profile(name: str, rng: random.Random) -> dict[str, Any]:
    """What one operation's sites may share, and how often each member carries it."""
    custom = rng.random() < 0.6
    theme = f"{name.split('+')[0][:6]}-news-{rng.randint(1, 99)}" if custom else rng.choice(sorted(POPULAR_THEMES))
    classes = ([f"{theme[:5]}-{w}" for w in rng.sample(WORDS, 14)] if custom else POPULAR_THEMES[theme])
    return {
        "ga": [_id(rng, "ga") for _ in range(rng.choice((1, 1, 2)))], "p_ga": rng.uniform(0.2, 0.7),
        "ga4": _id(rng, "ga4"), "p_ga4": rng.uniform(0.0, 0.4),
        "ym": _id(rng, "ym"), "p_ym": rng.uniform(0.0, 0.5),
        "pub": _id(rng, "pub"), "p_pub": rng.uniform(0.0, 0.3),
        "gverify": _id(rng, "token"), "p_gverify": rng.uniform(0.0, 0.35),
        "yverify": _id(rng, "ytoken"), "p_yverify": rng.uniform(0.0, 0.3),
        "wallet": _wallet(rng), "p_wallet": rng.choice((0.0, 0.0, 0.2)),
        "telegram": f"{name.split('+')[0][:8]}_{rng.randint(10, 99)}", "p_telegram": rng.uniform(0.0, 0.4),
        "email": f"press{rng.randint(1, 99)}@{rng.choice(['proton.me', 'gmail.com', 'mail.ru'])}",
        "p_email": rng.uniform(0.0, 0.25),
        "theme": theme, "custom": custom, "classes": classes, "p_theme": rng.uniform(0.5, 0.95),
        "favicon": rng.randbytes(120), "p_favicon": rng.uniform(0.0, 0.5) if custom else 0.0,
        "asset": f"static{rng.randint(1, 9)}.{name.split('+')[0][:8]}-cdn.net", "p_asset": rng.choice((0.0, 0.0, 0.4)),
    }


WORDS = ("header block tile lead teaser strip rail card media story digest spot flash brief column wide "
         "narrow top bottom frame pane well shelf grid deck wrap band").split()


def site_page(site: str, op: dict[str, Any] | None, own: dict[str, Any], rng: random.Random, article: bool,
              others: list[str]) -> str:
    """One page of ``site``: the operation's planted indicators (as drawn for this site), its
    own ones and the common ones."""
    head: list[str] = ['<meta charset="utf-8">', f"<title>{site}</title>"]
    body_classes = list(own["classes"])
    scripts: list[str] = []
    theme = own["theme"]
    if own["wordpress"]:
        head.append(f'<meta name="generator" content="WordPress 6.{rng.randint(0, 5)}.{rng.randint(0, 3)}">')
        head.append(f'<link rel="stylesheet" href="https://{site}/wp-content/themes/{theme}/style.css">')
    for host in own["hosts"]:
        head.append(f'<script src="https://{host}/lib/{rng.randint(1, 9)}.js"></script>')
    for kind, ident in own["ids"]:
        if kind == "ga":
            scripts.append(f"ga('create', '{ident}', 'auto'); ga('send', 'pageview');")
        elif kind == "ga4":
            head.append(f'<script src="https://www.googletagmanager.com/gtag/js?id={ident}"></script>')
            scripts.append(f"gtag('config', '{ident}');")
        elif kind == "gtm":
            scripts.append(f"(function(w,d,s,l,i){{w[l]=w[l]||[];}})(window,document,'script','dataLayer','{ident}');")
        elif kind == "ym":
            scripts.append(f'ym({ident}, "init", {{clickmap:true, trackLinks:true}});')
        elif kind == "pub":
            head.append('<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?'
                        f'client=ca-pub-{ident}"></script>')
        elif kind == "gverify":
            head.append(f'<meta name="google-site-verification" content="{ident}">')
        elif kind == "yverify":
            head.append(f'<meta name="yandex-verification" content="{ident}">')
    if own.get("favicon"):
        head.append(f'<link rel="icon" href="data:image/png;base64,{base64.b64encode(own["favicon"]).decode()}">')
    if own.get("asset"):
        head.append(f'<link rel="stylesheet" href="https://{own["asset"]}/css/main.css">')
    head.append("<script>" + "\n".join(scripts) + "</script>")
    footer = [f'<a href="mailto:{own["email"]}">{own["email"]}</a>']
    if own.get("telegram"):
        footer.append(f'<a href="https://t.me/{own["telegram"]}">Telegram</a>')
    footer.append(f'<a href="https://www.facebook.com/sharer.php?u=https://{site}/">Share</a>')
    if own.get("wallet"):
        footer.append(f"<p>Support us: {own['wallet']}</p>")
    links = [f'<a href="https://{rng.choice(BIG_OUTLETS)}/news/{rng.randint(1, 10**6)}">source</a>'
             for _ in range(rng.randint(2, 6))]
    links += [f'<a href="https://{o}/{rng.randint(1, 999)}">read</a>' for o in rng.sample(others, min(len(others), 3))]
    paras = "".join(f"<p class='{rng.choice(body_classes)}'>Lorem {i} {' '.join(links[i::4])}</p>" for i in range(6))
    cls = " ".join(rng.sample(body_classes, min(len(body_classes), 10)))
    return (f"<!doctype html><html><head>{''.join(head)}</head><body class='{cls}'>"
            f"<header class='{' '.join(body_classes[:4])}'><a href='/'>{site}</a></header>"
            f"<main>{'<article>' if article else ''}{paras}{'</article>' if article else ''}</main>"
            f"<footer class='{' '.join(body_classes[-4:])}'>{' '.join(footer)}</footer></body></html>")


def draw_site(site: str, op: dict[str, Any] | None, rng: random.Random, agency: dict[str, Any] | None) -> dict[str, Any]:
    """Which of its operation's indicators this site carries, plus its own and common ones."""
    ids: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        ids.append(("ga", _id(rng, "ga")))
    if rng.random() < 0.4:
        ids.append(("ym", _id(rng, "ym")))
    if rng.random() < 0.3:
        ids.append(("gverify", _id(rng, "token")))
    theme = rng.choice(sorted(POPULAR_THEMES)) if rng.random() < 0.7 else f"{site.split('.')[0][:10]}-theme"
    classes = POPULAR_THEMES.get(theme, [f"{site[:4]}-{w}" for w in rng.sample(WORDS, 10)])
    own: dict[str, Any] = {
        "ids": ids, "theme": theme, "classes": list(classes), "wordpress": rng.random() < 0.6,
        "hosts": rng.sample(COMMON_HOSTS, rng.randint(2, 6)), "email": f"info@{site}",
    }
    if theme == "newspaper" and rng.random() < 0.4:
        own["ids"].append(("ga", THEME_DEMO_GA))  # the theme's demo id, left in
    if agency is not None:
        own["ids"].append(("gtm", agency["gtm"]))
        own["theme"], own["classes"] = agency["theme"], list(agency["classes"])
    if op is not None:
        if rng.random() < op["p_ga"]:
            own["ids"].append(("ga", rng.choice(op["ga"])))
        for key in ("ga4", "ym", "pub", "gverify", "yverify"):
            if rng.random() < op[f"p_{key}"]:
                own["ids"].append((key, op[key]))
        if rng.random() < op["p_theme"]:
            own["theme"] = op["theme"]
            own["classes"] = [c for c in op["classes"] if rng.random() < 0.85] + rng.sample(WORDS, 2)
            own["wordpress"] = True
        for key in ("wallet", "telegram", "favicon", "asset"):
            if rng.random() < op[f"p_{key}"]:
                own[key] = op[key]
        if rng.random() < op["p_email"]:
            own["email"] = op["email"]
    return own


def build(shared: Path, out: Path, seed: int = 7) -> None:
    ops = operations(shared)
    flagged = set().union(*ops.values())
    laund, _ = read_laundromat(shared / "sources" / "laundromat-sites_of_concern.csv")
    flagged |= {s.name for s in laund if "laundromat:euvsdisinfo" in s.lists}
    pool = unflagged_pool(shared, flagged)
    for split in ("dev", "test"):
        rng = random.Random(f"{seed}:{split}")
        d = out / split
        (d / "pages").mkdir(parents=True, exist_ok=True)
        sites: dict[str, str] = {}
        for name in sorted(ops):
            doms = sorted(x for x in ops[name] if split_of(x) == split)
            for dom in rng.sample(doms, min(PER_OP, len(doms))) if len(doms) >= 3 else []:
                sites.setdefault(dom, name)
        unflagged = rng.sample([x for x in pool if split_of(x) == split], UNFLAGGED)
        profiles = {name: operation_profile(name, random.Random(f"{seed}:{split}:{name}")) for name in ops}
        agencies = []
        for i in range(3):
            arng = random.Random(f"{seed}:{split}:agency{i}")
            agencies.append({"gtm": _id(arng, "gtm"), "theme": f"agency{i}-starter",
                             "classes": [f"ag{i}-{w}" for w in arng.sample(WORDS, 12)]})
        agency_of = {site: agencies[i // 4] for i, site in enumerate(unflagged[:12])}
        all_sites = sorted(sites) + unflagged
        for site in all_sites:
            op_name = sites.get(site)
            own = draw_site(site, profiles[op_name] if op_name else None, rng, agency_of.get(site))
            mates = [s for s, o in sites.items() if o == op_name and s != site] if op_name else []
            folder = d / "pages" / site
            folder.mkdir(exist_ok=True)
            for n, article in enumerate((False, True)):
                (folder / f"{n}.html").write_text(site_page(site, profiles.get(op_name or ""), own, rng, article,
                                                            mates), encoding="utf-8")
        with (d / "sites.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["site", "operation", "origin"])
            for site in all_sites:
                w.writerow([site, sites.get(site, ""), "generated"])
            real = sorted({r.domain for r in read_indicators(shared / "sources" / "laundromat-indicators.csv")[0]})
            for site in real:
                w.writerow([site, "", "laundromat"])
        (d / "indicators.csv").write_bytes((shared / "sources" / "laundromat-indicators.csv").read_bytes())


# -- scoring -------------------------------------------------------------------------------------


def load(setdir: Path) -> tuple[dict[str, str], dict[str, str], list[Observation], dict[str, set[str]],
                                dict[str, dict[str, int]], float]:
    labels: dict[str, str] = {}
    origin: dict[str, str] = {}
    with (setdir / "sites.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels[row["site"]] = row["operation"]
            origin[row["site"]] = row["origin"]
    obs: list[Observation] = []
    classes: dict[str, set[str]] = defaultdict(set)
    outbound: dict[str, dict[str, int]] = defaultdict(dict)
    pages = 0
    start = time.perf_counter()
    for folder in sorted((setdir / "pages").iterdir()):
        for page in sorted(folder.glob("*.html")):
            pages += 1
            url = f"https://{folder.name}/{page.stem}"
            got = fingerprint_page(page.read_bytes(), url)
            obs += [Observation(folder.name, fp.kind, fp.value, fp.where, url) for fp in got.fingerprints]
            classes[folder.name] |= set(got.classes)
            for dom, n in got.outbound.items():
                outbound[folder.name][dom] = outbound[folder.name].get(dom, 0) + n
    took = time.perf_counter() - start
    if (setdir / "indicators.csv").exists():
        rows, _rej = read_indicators(setdir / "indicators.csv")
        for r in rows:
            if r.kind == "css_classes":
                classes[r.domain] |= set(r.details.get("classes", []))
            else:
                obs.append(Observation(r.domain, r.kind, r.value, origin=f"import:{r.source}"))
    return labels, origin, obs, classes, outbound, pages / took if took else 0.0


def scored_pairs(labels: dict[str, str], origin: dict[str, str]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    sites = sorted(labels)
    positives, excluded = set(), set()
    for a, b in itertools.combinations(sites, 2):
        if origin[a] == origin[b] == "laundromat":
            excluded.add((a, b))
        elif labels[a] and labels[a] == labels[b]:
            positives.add((a, b))
    return positives, excluded


def prf(predicted: set[tuple[str, str]], positives: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(predicted & positives)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(positives) if positives else 0.0
    return {"predicted": len(predicted), "true": tp, "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def evaluate(setdir: Path, params: Params) -> dict[str, Any]:
    labels, origin, obs, classes, outbound, pps = load(setdir)
    positives, excluded = scored_pairs(labels, origin)
    links, _inds = link_sites(obs, params, classes=classes, outbound=outbound)
    # Baseline: any two sites sharing any indicator value (no tiers, nothing too common).
    by_value: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ob in obs:
        by_value[(ob.kind, ob.value)].add(ob.site)
    baseline = {p for sites in by_value.values() for p in itertools.combinations(sorted(sites), 2)}
    rows: dict[str, set[tuple[str, str]]] = {"baseline: any shared indicator": baseline}
    for name, worst in (("conclusive", CONCLUSIVE), (">= associative", ASSOCIATIVE), (">= tertiary", "tertiary")):
        rows[name] = {lk.pair for lk in links if TIER_ORDER[lk.tier] <= TIER_ORDER[worst]}
    groups = group_sites(links, params)
    rows[f"site groups (score >= {params.link_threshold:g})"] = {
        p for g in groups for p in itertools.combinations(sorted(g.sites), 2)}
    result = {name: prf(pairs - excluded, positives) for name, pairs in rows.items()}
    real = [lk for lk in links if (lk.a, lk.b) in excluded]
    return {"sites": len(labels), "operations": len({v for v in labels.values() if v}),
            "positive_pairs": len(positives), "pages_per_s": round(pps, 1), "rows": result,
            "groups": len(groups), "real_links": [
                {"pair": list(lk.pair), "tier": lk.tier, "score": lk.score,
                 "shared": [f"{e['kind']}={e['value']}" for e in lk.shared if e["weight"] > 0][:4]} for lk in real]}


def fit(setdir: Path) -> float:
    """The link threshold with the best site-group F1 on ``setdir``."""
    labels, origin, obs, classes, outbound, _ = load(setdir)
    positives, excluded = scored_pairs(labels, origin)
    links, _ = link_sites(obs, Params(), classes=classes, outbound=outbound)
    best = (-1.0, 0.5)
    for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
        groups = group_sites(links, Params(link_threshold=t))
        pairs = {p for g in groups for p in itertools.combinations(sorted(g.sites), 2)} - excluded
        f1 = prf(pairs, positives)["f1"]
        if f1 > best[0]:
            best = (f1, t)
    return best[1]


def table(title: str, res: dict[str, Any]) -> None:
    print(f"\n{title}: {res['sites']} sites, {res['operations']} operations, {res['positive_pairs']} same-operation"
          f" pairs, {res['groups']} groups; fingerprint extraction {res['pages_per_s']:.0f} pages/s")
    print(f"| {'links':<32} | predicted | true | precision | recall | F1 |")
    print(f"|{'-' * 34}|---:|---:|---:|---:|---:|")
    for name, r in res["rows"].items():
        print(f"| {name:<32} | {r['predicted']:,} | {r['true']:,} | {r['precision']:.3f} | {r['recall']:.3f} |"
              f" {r['f1']:.3f} |")
    if res["real_links"]:
        print("\nLinks among the real Laundromat sites (no operation label; not scored):")
        for lk in res["real_links"]:
            print(f"  {lk['tier']:<11} {lk['score']:.2f}  {lk['pair'][0]} - {lk['pair'][1]}: {', '.join(lk['shared'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="the project's data folder, or a built set (sites.csv, pages/)")
    ap.add_argument("--test", type=Path, help="fit on DATA, score once on this set")
    ap.add_argument("--out", type=Path, help="where to build the sets from the data folder (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    data, test = args.data, args.test
    if (data / "sources").is_dir():
        out = args.out or Path(tempfile.mkdtemp(prefix="fimiscope-infra-eval-"))
        build(data, out, args.seed)
        print(f"labelled sets built in {out} (dev/, test/)")
        data, test = out / "dev", test or out / "test"
    if test is None:
        params = Params()
        res = evaluate(data, params)
        table(f"{data} (default threshold)", res)
        summary: dict[str, Any] = {"eval": "infrastructure", "data": str(data), "threshold": params.link_threshold,
                                   **{k: res[k] for k in ("sites", "positive_pairs", "rows", "pages_per_s")}}
    else:
        threshold = fit(data)
        print(f"fitted on {data}: link threshold {threshold:g}")
        res = evaluate(test, Params(link_threshold=threshold))
        table(f"{test} (scored once)", res)
        summary = {"eval": "infrastructure", "fit_on": str(data), "test": str(test), "threshold": threshold,
                   **{k: res[k] for k in ("sites", "positive_pairs", "rows", "pages_per_s")}}
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
