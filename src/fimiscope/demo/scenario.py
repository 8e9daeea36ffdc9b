"""A deterministic, clearly-labelled FICTIONAL scenario for the demo and for tests.

State outlets publish stories that repeat known (fictional) debunked claims; a network of
look-alike sites republishes and translates them, some crediting the origin, most not;
independent outlets publish their own news; social accounts post, some in coordinated bursts.
``truth`` records what was planted so detectors can be checked against it.

Only ``core`` is imported: this room is reusable by tests, the CLI and the collection demo.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from fimiscope.core.model import Affiliation, Document, Provenance, Reliability, Source
from fimiscope.demo import texts

END = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
DAYS = 60
REGISTRY = Provenance(by="Fictional Media Registry (demo)", where="https://registry.example/demo", when="2026-09-01")
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]

STATE_OUTLETS = [
    ("state-herald.example", "Fictional State Herald", "ru", Affiliation.STATE_CONTROLLED, Reliability.E),
    ("ministry-press.example", "Fictional Ministry Press Office", "ru", Affiliation.OFFICIAL_STATE, Reliability.E),
    ("eurasia-review.example", "Fictional Eurasia Review", "en", Affiliation.STATE_LINKED, Reliability.D),
]
NETWORK_SITES = [
    ("zpravy-bez-cenzury.example", "cs"), ("euro-truth-daily.example", "en"), ("baltic-uncensored.example", "en"),
    ("nezavisly-hlas.example", "cs"), ("world-news-now.example", "en"), ("slovo-pravdy.example", "ru"),
    ("free-observer.example", "en"), ("ceske-ozveny.example", "cs"),
]
INDEPENDENT_OUTLETS = [
    ("prague-morning.example", "cs"), ("central-europe-times.example", "en"), ("riga-russian-daily.example", "ru"),
    ("brno-denik.example", "cs"), ("danube-post.example", "en"),
]


@dataclass(slots=True)
class Scenario:
    seed: int
    sources: list[Source]
    documents: list[Document]
    claims: list[dict[str, Any]]
    truth: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower())[:50].strip("-") or "story"


def _date_text(day: datetime, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}.{day.month}.{day.year}"


def _fill(template: str, slots: dict[str, Any], lang: str) -> str:
    values = {k: (v[lang] if isinstance(v, dict) else v) for k, v in slots.items()}
    text = template.format(**values)
    return text[0].upper() + text[1:]


def _paragraphs(sentences: list[str], rng: random.Random) -> list[str]:
    paras: list[str] = []
    i = 0
    while i < len(sentences):
        step = rng.randint(2, 3)
        paras.append(" ".join(sentences[i : i + step]))
        i += step
    return paras


def _sources() -> tuple[list[Source], list[tuple[str, str]]]:
    sources = [
        Source(name=d, display_name=n, language=lang, country="ZZ", affiliation=aff, reliability=rel,
               provenance=[REGISTRY], lists=["demo-state-media"], metadata={"synthetic": True})
        for d, n, lang, aff, rel in STATE_OUTLETS
    ]
    sources += [
        Source(name=d, display_name=f"Fictional network site ({lang})", language=lang, metadata={"synthetic": True})
        for d, lang in NETWORK_SITES
    ]
    sources += [
        Source(name=d, display_name=f"Fictional independent outlet ({lang})", language=lang,
               affiliation=Affiliation.INDEPENDENT, reliability=Reliability.B, provenance=[REGISTRY],
               metadata={"synthetic": True})
        for d, lang in INDEPENDENT_OUTLETS
    ]
    accounts = [(f"telegram:truth_hub_{i:02d}", "ru" if i % 3 == 0 else "cs") for i in range(1, 13)]
    accounts += [(f"x:citizen_{i:02d}", ("en", "cs", "ru")[i % 3]) for i in range(1, 19)]
    for name, lang in accounts:
        platform, handle = name.split(":", 1)
        sources.append(Source(name=name, platform=platform, handle=handle, language=lang,
                              display_name=f"Fictional account {handle}", metadata={"synthetic": True}))
    return sources, accounts


def _news_text(lang: str, rng: random.Random, sentences: int) -> tuple[str, str]:
    bank = texts.NEWS[lang]
    subj, obj = rng.choice(bank["subjects"]), rng.choice(bank["objects"])
    title = rng.choice(bank["titles"]).format(s=subj, o=obj)
    out = []
    for _ in range(sentences):
        out.append(f"{rng.choice(bank['subjects'])} {rng.choice(bank['predicates'])} "
                   f"{rng.choice(bank['objects'])} {rng.choice(bank['tails'])}.")
    return title[0].upper() + title[1:], "\n\n".join(_paragraphs(out, rng))


def build_scenario(seed: int = 7, scale: float = 1.0) -> Scenario:
    """The fictional scenario. ``scale`` 1.0 gives about 3,000 documents; tests use 0.05-0.2."""
    rng = random.Random(seed)
    sources, accounts = _sources()
    docs: list[Document] = []
    truth: dict[str, Any] = {"chains": [], "coordinated_groups": [], "claim_documents": {}}
    counter = 0

    def url_for(domain: str, title: str, when: datetime) -> str:
        nonlocal counter
        counter += 1
        return f"https://{domain}/{when:%Y/%m}/{_slug(title)}-{counter}"

    # -- state stories and their laundering chains ---------------------------------------------
    # One story per frame: stories of one frame share sentences, and the demo's chains should
    # stay the separate chains its truth says they are.
    n_stories = len(texts.FRAMES)
    network_docs: list[Document] = []
    for s in range(n_stories):
        domain, _name, origin_lang, _aff, _rel = STATE_OUTLETS[s % len(STATE_OUTLETS)]
        frame = texts.FRAMES[s % len(texts.FRAMES)]
        published = END - timedelta(days=rng.uniform(3, DAYS), minutes=rng.randint(0, 600))
        event_day = published - timedelta(days=rng.randint(1, 20))
        slots = {
            "person": rng.choice(texts.PEOPLE),
            "place": rng.choice(texts.PLACES),
            "body": rng.choice(texts.BODIES),
            "n1": rng.randint(12, 950),
            "n2": rng.randint(3, 480),
            "date": {lang: _date_text(event_day, lang) for lang in ("en", "cs", "ru")},
        }
        details = [
            (rng.choice(texts.SPEAKERS), rng.choice(texts.VERBS), rng.choice(texts.CLAUSES), rng.randint(2, 90))
            for _ in range(rng.randint(6, 9))
        ]
        order = [("f", i) for i in range(5)] + [("d", i) for i in range(len(details))]
        core, extra = order[:2], order[2:]
        rng.shuffle(extra)
        order = core + extra

        def story(lang: str, order: list[tuple[str, int]] = order, slots: dict[str, Any] = slots,
                  frame: dict[str, Any] = frame, details: list[Any] = details) -> list[str]:
            out = []
            for kind, i in order:
                if kind == "f":
                    out.append(_fill(frame["sentences"][i][lang], slots, lang))
                else:
                    who, verb, clause, k = details[i]
                    out.append(f"{who[lang]} {verb[lang]}, {clause[lang].format(k=k)}.")
            return out

        title = _fill(frame["title"][origin_lang], slots, origin_lang)
        paras = _paragraphs(story(origin_lang), random.Random(seed * 1000 + s))
        origin = Document(
            text="\n\n".join(paras), title=title, url=url_for(domain, title, published), source=domain,
            language=origin_lang, published_at=published, author="Editorial desk",
            metadata={"synthetic": True, "story": s},
        )
        docs.append(origin)
        truth["claim_documents"][origin.key] = frame["claim"]
        chain: dict[str, Any] = {"story": s, "origin": origin.key, "claim": frame["claim"], "copies": []}
        for site, lang in rng.sample(NETWORK_SITES, rng.randint(2, 5)):
            lag = timedelta(minutes=rng.randint(20, 60 * 36))
            when = published + lag
            credited = rng.random() < 0.35
            body_paras = _paragraphs(story(lang), random.Random(seed * 1000 + s))
            if len(body_paras) > 3 and rng.random() < 0.5:  # trimmed
                body_paras = body_paras[:-1]
            if len(body_paras) > 3 and rng.random() < 0.5:  # reordered
                body_paras[1], body_paras[2] = body_paras[2], body_paras[1]
            prefix = rng.choice(["", "EXCLUSIVE: ", "BREAKING: ", "They hide it: "]) if lang == "en" else ""
            copy_title = prefix + _fill(frame["title"][lang], slots, lang)
            if rng.random() < 0.4:
                copy_title = copy_title.rstrip(".") + ("!" if lang != "en" else " - must read")
            body_paras.append(rng.choice(texts.BOILERPLATE[lang]))
            links = []
            if credited:
                body_paras.append(texts.CREDIT[lang].format(origin=domain))
                links.append(origin.url or "")
            copy = Document(
                text="\n\n".join(body_paras), title=copy_title, url=url_for(site, copy_title, when), source=site,
                language=lang, published_at=when, links=links, metadata={"synthetic": True, "story": s},
            )
            docs.append(copy)
            network_docs.append(copy)
            truth["claim_documents"][copy.key] = frame["claim"]
            chain["copies"].append({
                "key": copy.key, "kind": "same-language" if lang == origin_lang else "translation",
                "language": lang, "credited": credited, "lag_minutes": int(lag.total_seconds() // 60),
            })
        if rng.random() < 0.4:  # one paragraph reused inside an otherwise different article
            site, lang = rng.choice(NETWORK_SITES)
            if lang == origin_lang:
                news_title, news_body = _news_text(lang, rng, rng.randint(8, 12))
                when = published + timedelta(hours=rng.randint(2, 48))
                borrowed = paras[0]
                parts = news_body.split("\n\n")
                parts.insert(1, borrowed)
                partial = Document(text="\n\n".join(parts), title=news_title, url=url_for(site, news_title, when),
                                   source=site, language=lang, published_at=when,
                                   metadata={"synthetic": True, "story": s})
                docs.append(partial)
                chain["copies"].append({"key": partial.key, "kind": "partial", "language": lang, "credited": False,
                                        "lag_minutes": int((when - published).total_seconds() // 60),
                                        "paragraph": borrowed})
        truth["chains"].append(chain)

    # -- independent news ------------------------------------------------------------------------
    for i in range(max(10, round(2000 * scale))):
        domain, lang = INDEPENDENT_OUTLETS[i % len(INDEPENDENT_OUTLETS)]
        when = END - timedelta(days=rng.uniform(0, DAYS), minutes=rng.randint(0, 600))
        title, body = _news_text(lang, rng, rng.randint(14, 26))
        docs.append(Document(text=body, title=title, url=url_for(domain, title, when), source=domain, language=lang,
                             published_at=when, author=f"Reporter {rng.randint(1, 40)}",
                             metadata={"synthetic": True}))

    # -- grain market news: the grain claim's word in other cases (obilím, obilích), which only
    # a lemmatised search finds from "obilí". Its own random stream, like the coordination block.
    grain_rng = random.Random(seed * 7919 + 18)
    for i, (title, body) in enumerate(texts.GRAIN_NEWS):
        domain = ("prague-morning.example", "brno-denik.example")[i % 2]
        when = END - timedelta(days=grain_rng.uniform(0, DAYS), minutes=grain_rng.randint(0, 600))
        docs.append(Document(text=body, title=title, url=url_for(domain, title, when), source=domain, language="cs",
                             published_at=when, author=f"Reporter {grain_rng.randint(1, 40)}",
                             metadata={"synthetic": True}))

    # -- social accounts: coordinated groups amplify network copies; the rest post organically --
    # (coordination block) Each group pushes the copies it is given in a bot-like burst: the
    # members post the link, the same text and a reshare of the first member's post, seconds
    # apart, in a new order each time. Its own random stream, so the rest of the scenario does
    # not move when this block changes.
    coordinated = [name for name, _ in accounts[:12]]
    groups = [coordinated[i : i + 4] for i in range(0, 12, 4)]
    truth["coordinated_groups"] = groups
    crng = random.Random(seed * 1000 + 77)
    post_id = 0
    promo = {"en": "Read before it gets deleted:", "cs": "Přečtěte si, než to smažou:",
             "ru": "Читайте, пока не удалили:"}
    for n_copy, copy in enumerate(network_docs):
        group = list(groups[n_copy % len(groups)])
        crng.shuffle(group)
        when = (copy.published_at or END) + timedelta(minutes=crng.randint(5, 90))
        first_id: str | None = None
        for account in group:
            post_id += 1
            when += timedelta(seconds=crng.randint(3, 40))
            lang = copy.language or "en"
            text = f"{promo[lang]} {copy.title} {copy.url}"
            doc = Document(text=text, external_id=str(post_id), source=account, platform=account.split(":")[0],
                           published_at=when, links=[copy.url or ""],
                           shared_from=first_id, language=lang, metadata={"synthetic": True, "coordinated": True})
            first_id = first_id or f"{account}/{post_id}"
            docs.append(doc)
    for name, lang in accounts[12:]:
        for _ in range(max(1, round(30 * scale))):
            post_id += 1
            bank = texts.NEWS[lang]
            text = (f"{rng.choice(bank['subjects'])} {rng.choice(bank['predicates'])} {rng.choice(bank['objects'])} "
                    f"{rng.choice(bank['tails'])}.")
            docs.append(Document(text=text, external_id=str(post_id), source=name, platform=name.split(":")[0],
                                 published_at=END - timedelta(days=rng.uniform(0, DAYS)), language=lang,
                                 metadata={"synthetic": True}))

    # -- narratives (docs/narratives.md): two planted, one surging at the end -------------------
    truth["narratives"] = _plant_narratives(docs, random.Random(seed * 31 + 14))

    claims = [
        {"id": cid, "title": f"Fictional claim {cid}: {c['summary'][:60]}", "summary": c["summary"],
         "disproof": c["disproof"], "keywords": c["keywords"], "language": "en",
         "date": (END - timedelta(days=DAYS + 30)).date().isoformat(),
         "outlets": "; ".join(d for d, *_ in STATE_OUTLETS), "debunk_url": f"https://debunks.example/{cid}"}
        for cid, c in texts.CLAIMS.items()
    ]
    truth["infrastructure"] = INFRASTRUCTURE_TRUTH  # shared infrastructure (issue 16), see the block below
    return Scenario(seed=seed, sources=sources, documents=docs, claims=claims, truth=truth)


def _plant_narratives(docs: list[Document], rng: random.Random) -> dict[str, Any]:
    """Documents telling the two planted narratives in varied words. "sanctions" starts at an
    official state outlet, reaches independent outlets, and appears in Czech only late (a
    debunked narrative in a new language); "weapons" trickles, then surges in the last 3 days.
    Counts do not scale: tests at small scale still see both."""
    planted: dict[str, Any] = {"known": texts.KNOWN_NARRATIVES, "documents": {"sanctions": [], "weapons": []},
                               "surge": {"narrative": "weapons", "days": 3}}
    n = 0

    def doc(key: str, source: str, lang: str, when: datetime) -> None:
        nonlocal n
        n += 1
        bank = texts.NARRATIVE_SENTENCES[key][lang]
        picked = rng.sample(bank, rng.randint(4, 6))
        place = rng.choice(texts.PLACES)[lang]
        body = [x.format(place=place, n=rng.randint(3, 90)) for x in picked]
        news = texts.NEWS[lang]
        body.insert(rng.randint(1, len(body)), f"{rng.choice(news['subjects'])} {rng.choice(news['predicates'])} "
                                               f"{rng.choice(news['objects'])} {rng.choice(news['tails'])}.")
        title = rng.choice(texts.NARRATIVE_TITLES[key][lang])
        platform = source.split(":", 1)[0] if ":" in source else "web"
        d = Document(
            text="\n\n".join(_paragraphs(body, rng)), title=title if platform == "web" else None, source=source,
            language=lang, published_at=when, platform=platform,
            url=f"https://{source}/{when:%Y/%m}/narrative-{key}-{n}" if platform == "web" else None,
            external_id=None if platform == "web" else f"narrative-{key}-{n}",
            metadata={"synthetic": True, "narrative": key},
        )
        docs.append(d)
        planted["documents"][key].append(d.key)

    at = END - timedelta(days=55)
    doc("sanctions", "ministry-press.example", "ru", at)
    plan = [("state-herald.example", "ru"), ("eurasia-review.example", "en"), ("slovo-pravdy.example", "ru"),
            ("euro-truth-daily.example", "en"), ("free-observer.example", "en"), ("world-news-now.example", "en"),
            ("state-herald.example", "ru"), ("baltic-uncensored.example", "en"), ("central-europe-times.example", "en"),
            ("riga-russian-daily.example", "ru"), ("eurasia-review.example", "en"), ("danube-post.example", "en"),
            ("zpravy-bez-cenzury.example", "cs"), ("nezavisly-hlas.example", "cs"), ("ceske-ozveny.example", "cs"),
            ("slovo-pravdy.example", "ru"), ("euro-truth-daily.example", "en")]
    for i, (src, lang) in enumerate(plan):
        doc("sanctions", src, lang, at + timedelta(days=3 + i * 2.7, hours=rng.randint(0, 12)))
    quiet = [("world-news-now.example", "en"), ("telegram:truth_hub_03", "ru"), ("zpravy-bez-cenzury.example", "cs"),
             ("free-observer.example", "en"), ("telegram:truth_hub_06", "ru"), ("slovo-pravdy.example", "ru"),
             ("nezavisly-hlas.example", "cs"), ("baltic-uncensored.example", "en")]
    for i, (src, lang) in enumerate(quiet):
        doc("weapons", src, lang, END - timedelta(days=50 - i * 6, hours=rng.randint(0, 12)))
    loud = [("euro-truth-daily.example", "en"), ("world-news-now.example", "en"), ("free-observer.example", "en"),
            ("baltic-uncensored.example", "en"), ("zpravy-bez-cenzury.example", "cs"), ("nezavisly-hlas.example", "cs"),
            ("ceske-ozveny.example", "cs"), ("slovo-pravdy.example", "ru"), ("telegram:truth_hub_03", "ru"),
            ("telegram:truth_hub_06", "ru"), ("telegram:truth_hub_09", "ru"), ("telegram:truth_hub_01", "cs")]
    for i in range(24):
        src, lang = loud[i % len(loud)]
        doc("weapons", src, lang, END - timedelta(days=2.9 - i * 0.12, minutes=rng.randint(0, 60)))
    return planted


def render_article_html(doc: Document, source: Source | None = None) -> str:
    """A full article page with navigation and footer boilerplate, for serving on loopback."""
    site = escape(source.display_name if source and source.display_name else doc.source or "")
    paras = "".join(f"<p>{escape(p)}</p>" for p in doc.text.split("\n\n"))
    when = doc.published_at.isoformat() if doc.published_at else ""
    canonical = f'<link rel="canonical" href="{escape(doc.url)}">' if doc.url else ""
    lang = escape(doc.language or "en")
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(doc.title or "")}</title>'
        f'{canonical}<meta name="author" content="{escape(doc.author or "")}">'
        f'<meta property="article:published_time" content="{when}">{infrastructure_head(doc.source or "")}</head><body>'
        f'<header><a href="/">{site}</a><nav><a href="/world">World</a> <a href="/politics">Politics</a> '
        f'<a href="/about">About</a></nav></header><main><article><h1>{escape(doc.title or "")}</h1>'
        f'<p class="byline">{escape(doc.author or "")} <time datetime="{when}">{when[:10]}</time></p>{paras}'
        f"</article></main><footer>{site} — a fictional outlet of the fimiscope demo.</footer></body></html>"
    )


def render_rss(source: Source, docs: list[Document], base_url: str) -> str:
    """An RSS 2.0 feed of ``docs`` whose links point at ``base_url`` (a loopback server)."""
    from email.utils import format_datetime

    items = []
    for doc in docs:
        path = (doc.url or "").split("://", 1)[-1].split("/", 1)[-1]
        link = f"{base_url.rstrip('/')}/{path}"
        pub = format_datetime(doc.published_at) if doc.published_at else ""
        items.append(f"<item><title>{escape(doc.title or '')}</title><link>{escape(link)}</link>"
                     f"<guid>{escape(link)}</guid><pubDate>{pub}</pubDate></item>")
    title = escape(source.display_name or source.name)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title><link>{escape(base_url)}</link><description>Fictional demo feed</description>"
            f"{''.join(items)}</channel></rss>")


# -- shared infrastructure (issue 16) -----------------------------------------------------------
# One operator set up the whole network: every network site carries the same Google Analytics
# account and the same WordPress theme, and three of them pay their ad revenue to the AdSense
# publisher of the state-linked Eurasia Review. Every served site also loads the CDNs and fonts
# that everyone loads (they must link nothing), and the state outlets have their own ids.
NETWORK_ANALYTICS = "UA-48151623"
NETWORK_THEME = "wordpress:truthwire-news"
SHARED_ADSENSE = "pub-7301188243510912"
ADSENSE_SITES = ("zpravy-bez-cenzury.example", "euro-truth-daily.example", "slovo-pravdy.example",
                 "eurasia-review.example")
INFRASTRUCTURE_TRUTH = {"group": sorted([d for d, _ in NETWORK_SITES] + ["eurasia-review.example"]),
                        "analytics": NETWORK_ANALYTICS, "theme": NETWORK_THEME, "adsense": SHARED_ADSENSE,
                        "adsense_sites": list(ADSENSE_SITES)}
_COMMON_ASSETS = ('<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">'
                  '<script src="https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist/jquery.min.js"></script>')


def infrastructure_head(domain: str) -> str:
    """The tags in a served page's head that tell who runs the site."""
    network = {d for d, _ in NETWORK_SITES}
    state = [d for d, *_ in STATE_OUTLETS]
    parts = [_COMMON_ASSETS]
    if domain in network:
        theme = NETWORK_THEME.split(":", 1)[1]
        parts.append(f'<meta name="generator" content="WordPress 6.6.2"><link rel="stylesheet" '
                     f'href="https://{domain}/wp-content/themes/{theme}/style.css?ver=2.1">'
                     f"<script>ga('create', '{NETWORK_ANALYTICS}-{sorted(network).index(domain) + 1}', 'auto');"
                     "</script>")
    elif domain in state:
        parts.append(f"<script>ym({31_000_000 + 7 * state.index(domain)}, \"init\", {{clickmap: true}});</script>")
    if domain in ADSENSE_SITES:
        parts.append('<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?'
                     f'client=ca-{SHARED_ADSENSE}"></script>')
    return "".join(parts)
