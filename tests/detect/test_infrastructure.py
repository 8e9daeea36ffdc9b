"""Tiers, commonness and site groups (the kernel the stage and the eval share)."""

from __future__ import annotations

from fimiscope.detect.infrastructure import (
    ASSOCIATIVE,
    CONCLUSIVE,
    Observation,
    Params,
    group_sites,
    indicators,
    link_sites,
    name_groups,
)


def obs(site, kind, value):
    return Observation(site=site, kind=kind, value=value)


def test_tiers_and_common_indicators():
    o = [obs("a.example", "ga", "UA-1"), obs("b.example", "ga", "UA-1"),
         obs("a.example", "cms", "wordpress"), obs("b.example", "cms", "wordpress"),
         obs("a.example", "ip", "104.16.1.1"), obs("b.example", "ip", "104.16.1.1")]
    o += [obs(f"s{i}.example", "asset_host", "cdn.jsdelivr.net") for i in range(30)]
    found = {(i.kind, i.value): i for i in indicators(o)}
    assert found[("ga", "UA-1")].tier == CONCLUSIVE and found[("ga", "UA-1")].weight == 0.9
    assert found[("ip", "104.16.1.1")].common and "CDN" in found[("ip", "104.16.1.1")].reason
    cdn = found[("asset_host", "cdn.jsdelivr.net")]
    assert cdn.common and cdn.weight == 0 and "30 sites" in cdn.reason


def test_links_score_and_best_tier():
    o = [obs("a.example", "ga", "UA-1"), obs("b.example", "ga", "UA-1"),
         obs("c.example", "social", "telegram:x"), obs("d.example", "social", "telegram:x"),
         obs("c.example", "email", "x@y.example"), obs("d.example", "email", "x@y.example"),
         obs("e.example", "cms", "wordpress"), obs("f.example", "cms", "wordpress")]
    links, _ = link_sites(o)
    by = {lk.pair: lk for lk in links}
    assert by[("a.example", "b.example")].tier == CONCLUSIVE and by[("a.example", "b.example")].score == 0.9
    assert by[("c.example", "d.example")].tier == ASSOCIATIVE
    assert abs(by[("c.example", "d.example")].score - 0.64) < 1e-6  # two associative: 1 - 0.6^2
    assert by[("e.example", "f.example")].score == 0.1
    groups = group_sites(links)
    assert [g.sites for g in groups] == [["a.example", "b.example"], ["c.example", "d.example"]]


def test_asset_link_and_same_name_are_derived():
    o = [obs("politros.example", "asset_host", "static.nation-news.example"),
         obs("nation-news.example", "cms", "bitrix"), obs("rt.example", "cms", "x"), obs("rt.test", "cms", "y")]
    links, _ = link_sites(o)
    kinds = {lk.pair: {e["kind"] for e in lk.shared} for lk in links}
    assert kinds[("nation-news.example", "politros.example")] == {"asset_link"}
    assert "domain_name" not in str(kinds)  # "rt" is shorter than 4 letters: too generic
    links, _ = link_sites([obs("oneworld.press", "cms", "a"), obs("oneworld.news", "cms", "b")])
    assert links[0].shared[0]["kind"] == "domain_name"


def test_css_class_sets_link_one_template():
    theme = [f"tdx-{w}" for w in "alpha beta gamma delta eps zeta eta theta iota kappa".split()]
    classes = {"a.example": [*theme, "own-a"], "b.example": [*theme, "own-b"], "c.example": ["x-1", "x-2"]}
    links, _ = link_sites([], classes=classes)
    assert [lk.pair for lk in links] == [("a.example", "b.example")]
    assert links[0].shared[0]["kind"] == "css_classes" and links[0].shared[0]["details"]["jaccard"] > 0.8


def test_group_ids_are_stable_and_groups_are_named():
    o = [obs(s, "ga", "UA-7") for s in ("a.example", "b.example", "c.example")]
    links, _ = link_sites(o)
    first = group_sites(links, new_id=lambda: "grp_first")
    assert first[0].id == "grp_first"
    o.append(obs("d.example", "ga", "UA-7"))
    links, _ = link_sites(o)
    again = group_sites(links, previous={"grp_first": first[0].sites}, new_id=lambda: "grp_new")
    assert again[0].id == "grp_first" and again[0].sites[-1] == "d.example"
    name_groups(again, {"DIMA: Doppelganger": ["b.example", "www.c.example"], "Other": ["z.example"]})
    assert again[0].names == ["DIMA: Doppelganger (2 of 4 sites)"]


def test_loose_components_are_split():
    # two tight cliques joined by one weak-but-passing bridge
    o = []
    for s in "abcdef":
        o.append(obs(f"{s}.one", "ga", "UA-1"))
    for s in "abcdef":
        o.append(obs(f"{s}.two", "ga", "UA-2"))
    o += [obs("a.one", "adsense", "pub-1"), obs("a.two", "adsense", "pub-1")]
    links, _ = link_sites(o, Params())
    groups = group_sites(links, Params(leiden_max_density=0.9))
    assert sorted(len(g.sites) for g in groups) == [6, 6]
