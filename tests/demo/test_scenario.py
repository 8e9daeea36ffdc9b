"""The fictional scenario: deterministic, multilingual, with the truth it plants."""

import re
from collections import Counter
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeET

from fimiscope.core.model import Affiliation
from fimiscope.demo.scenario import build_scenario, render_article_html, render_rss
from fimiscope.extract.html import extract


def test_same_seed_same_scenario_and_another_seed_differs() -> None:
    a, b = build_scenario(seed=3, scale=0.1), build_scenario(seed=3, scale=0.1)
    assert [(d.key, d.text) for d in a.documents] == [(d.key, d.text) for d in b.documents]
    c = build_scenario(seed=4, scale=0.1)
    assert [d.text for d in a.documents] != [d.text for d in c.documents]


def test_full_scale_is_a_few_thousand_article_length_documents_in_three_languages() -> None:
    s = build_scenario()
    assert 2_000 <= len(s.documents) <= 5_000
    langs = Counter(d.language for d in s.documents)
    assert {"en", "cs", "ru"} <= set(langs) and min(langs[x] for x in ("en", "cs", "ru")) > 300
    articles = [d for d in s.documents if d.url]
    words = sorted(len(d.text.split()) for d in articles)
    assert words[len(words) // 2] >= 150
    assert all(d.metadata.get("synthetic") for d in s.documents)
    assert all(src.metadata.get("synthetic") for src in s.sources)
    assert len({d.key for d in s.documents}) == len(s.documents)


def test_sources_cover_the_roles_of_the_story() -> None:
    s = build_scenario(scale=0.05)
    flagged = [x for x in s.sources if x.affiliation.flagged]
    assert {x.affiliation for x in flagged} >= {Affiliation.STATE_CONTROLLED, Affiliation.OFFICIAL_STATE}
    assert all(x.provenance for x in flagged)
    assert all(x.name.endswith(".example") for x in s.sources if x.platform == "web")
    assert any(x.platform == "telegram" for x in s.sources) and any(x.platform == "x" for x in s.sources)


def test_translated_copies_share_numbers_and_dates_with_their_origin() -> None:
    s = build_scenario(scale=0.1)
    by_key = {d.key: d for d in s.documents}
    kinds = Counter(c["kind"] for ch in s.truth["chains"] for c in ch["copies"])
    assert kinds["translation"] > 0 and kinds["same-language"] > 0
    for chain in s.truth["chains"]:
        origin = by_key[chain["origin"]]
        numbers = set(re.findall(r"\d{2,}", origin.text))
        for copy in chain["copies"]:
            doc = by_key[copy["key"]]
            assert doc.published_at and origin.published_at and doc.published_at > origin.published_at
            if copy["kind"] == "translation":
                assert doc.language != origin.language
                assert len(numbers & set(re.findall(r"\d{2,}", doc.text))) >= 3
            if copy["credited"]:
                assert origin.url in doc.links
    groups = s.truth["coordinated_groups"]
    assert len(groups) == 3 and all(len(g) == 4 for g in groups)


def test_rendered_pages_and_feeds_are_well_formed_and_extractable() -> None:
    s = build_scenario(scale=0.05)
    origin = s.documents[0]
    src = s.source(origin.source or "")
    html = render_article_html(origin, src)
    ex = extract(html, "http://127.0.0.1:1/page")
    assert ex.title == origin.title
    assert ex.canonical_url == origin.url
    assert origin.text.split("\n\n")[0][:60] in ex.text
    feed = render_rss(src, [d for d in s.documents if d.source == src.name], "http://127.0.0.1:1/x")
    root = SafeET.fromstring(feed)
    assert isinstance(root, ElementTree.Element) and root.tag == "rss"
    assert len(root.findall("./channel/item")) >= 1
