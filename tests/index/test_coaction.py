"""Co-action kernels: URL items, hashtag sequences, co-action pairs against a brute force, the
window estimate, chance correction, near-duplicate posts, Leiden groups and stable ids."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from fimiscope.index import coaction as k


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("https://www.Example.com/a/b/?utm_source=x&b=2&a=1#frag", "example.com/a/b?a=1&b=2"),
        ("http://example.com:80/a?fbclid=123", "example.com/a"),
        ("https://example.com:8443/a", "example.com:8443/a"),
        ("https://m.news.example.org//story//1/", "news.example.org/story/1"),
        ("example.com/x?ref=tw&id=5", "example.com/x?id=5"),
        ("mailto:someone@example.com", None),
        ("https://localhost/a", None),
        ("http://[::1", None),
    ],
)
def test_urls_become_items_without_tracking_or_decoration(raw: str, want: str | None) -> None:
    assert k.normalize_url(raw) == want


def test_a_shortener_link_counts_as_its_expansion_only_when_known() -> None:
    assert k.normalize_url("https://bit.ly/3abc") == "bit.ly/3abc"
    resolved = {"https://bit.ly/3abc": "https://www.outlet.example/story?utm_medium=social"}
    assert k.normalize_url("https://bit.ly/3abc", resolved) == "outlet.example/story"


def test_hashtag_sequences_need_two_tags_and_keep_their_order() -> None:
    assert k.hashtag_sequence("vote #Now and #AfD #now") == "#now #afd #now"
    assert k.hashtag_sequence("just #one tag") is None
    assert k.hashtag_sequence("#ab #cd") != k.hashtag_sequence("#cd #ab")
    assert k.post_text("Read https://x.example/z @bob #tag NOW please") == "read now please"


def _brute(account: list[int], item: list[int], time: list[float], window: float) -> dict[tuple[int, int], int]:
    seen: dict[tuple[int, int], set[int]] = {}
    for i, j in itertools.combinations(range(len(account)), 2):
        if item[i] == item[j] and account[i] != account[j] and abs(time[i] - time[j]) <= window:
            a, b = sorted((account[i], account[j]))
            seen.setdefault((a, b), set()).add(item[i])
    return {p: len(v) for p, v in seen.items()}


@pytest.mark.parametrize("chunk", [7, 1000])
def test_co_action_pairs_match_a_brute_force(chunk: int) -> None:
    rng = random.Random(3)
    n = 600
    account = [rng.randrange(40) for _ in range(n)]
    item = [rng.randrange(60) for _ in range(n)]
    time = [float(rng.randrange(0, 5000)) for _ in range(n)]
    want = _brute(account, item, time, 120.0)
    keys, counts = k.pair_counts(
        np.array(account), np.array(item), np.array(time), 120.0, 40, chunk_actions=chunk, max_item_accounts=None
    )
    got = {(int(x) // 40, int(x) % 40): int(c) for x, c in zip(keys, counts, strict=True)}
    assert got == want
    repeated = keys[counts >= 2]
    details = k.pair_details(np.array(account), np.array(item), np.array(time), 120.0, 40, repeated)
    assert set(details.key.tolist()) == set(repeated.tolist())
    assert (details.delay >= 0).all() and (details.delay <= 120.0).all()
    # one row per (pair, item), the quickest co-action
    assert len(set(zip(details.key.tolist(), details.item.tolist(), strict=True))) == details.key.size


def test_items_too_popular_are_skipped_when_capped() -> None:
    account = np.arange(10)
    item = np.zeros(10, dtype=np.int64)
    time = np.arange(10, dtype=np.float64)
    keys, _ = k.pair_counts(account, item, time, 60.0, 10, max_item_accounts=5)
    assert keys.size == 0
    keys, _ = k.pair_counts(account, item, time, 60.0, 10, max_item_accounts=None)
    assert keys.size == 45


def test_window_is_estimated_from_the_quickest_reshared_items() -> None:
    rng = np.random.default_rng(1)
    items, times = [], []
    for i in range(200):  # organic: shares hours apart
        t0 = rng.uniform(0, 1e6)
        for _ in range(3):
            items.append(i)
            times.append(t0 + rng.uniform(0, 20000))
    for i in range(200, 240):  # fast: three shares within 20 s
        t0 = rng.uniform(0, 1e6)
        for d in (0.0, 8.0, 20.0):
            items.append(i)
            times.append(t0 + d)
    w = k.estimate_window(np.array(items), np.array(times))
    assert w.seconds == pytest.approx(8.0, abs=0.5)
    assert w.items == 240 and w.quickest > 0 and "estimated" in w.method
    few = k.estimate_window(np.array([0, 0]), np.array([0.0, 5.0]), default=60.0)
    assert few.seconds == 60.0 and "default" in few.method


def _score(account: list[int], item: list[int], time: list[float], n: int, **kw: float) -> k.PairScores:
    a, it, t = np.array(account), np.array(item), np.array(time, dtype=np.float64)
    keys, counts = k.pair_counts(a, it, t, 60.0, n)
    details = k.pair_details(a, it, t, 60.0, n, keys[counts >= 2])
    activity = k.account_item_counts(a, it, n)
    return k.score_pairs(
        details,
        n_accounts=n,
        activity=activity,
        popularity=k.item_account_counts(a, it),
        chance_rate=kw.get("rate", 1e-4),
        episode_gap=3600.0,
        tested=int(keys.size),
    )


def test_co_actions_within_one_hour_are_one_episode() -> None:
    # two accounts post the same five links within one breaking-news hour: one episode
    account = [0, 1] * 5
    item = [i // 2 for i in range(10)]
    time = [i // 2 * 600.0 + (i % 2) * 10.0 for i in range(10)]
    s = _score(account, item, time, 50)
    assert s.count.tolist() == [5] and s.episodes.tolist() == [1] and not s.kept.any()


def test_a_repeated_rare_co_action_is_kept_and_an_active_pair_by_chance_is_not() -> None:
    # accounts 0 and 1: four links nobody else posts, days apart, seconds between them
    account, item, time = [], [], []
    for day in range(4):
        account += [0, 1]
        item += [day, day]
        time += [day * 86400.0, day * 86400.0 + 5]
    kept = _score(account, item, time, 50, rate=1e-4)
    assert kept.kept.tolist() == [True] and kept.episodes.tolist() == [4]
    assert kept.fastest.tolist() == [5.0] and kept.median.tolist() == [5.0]
    # the same co-actions from two accounts that act so much that chance explains them
    busy = _score(account, item, time, 50, rate=0.5)
    assert busy.kept.tolist() == [False] and busy.p_value[0] > 0.01


def test_popularity_weight_falls_with_the_accounts_on_an_item() -> None:
    w = k.popularity_weight(np.array([2, 20, 2000, 100000]), 100000)
    assert w[0] == pytest.approx(1.0) and w[0] > w[1] > w[2] > w[3] and w[3] == pytest.approx(0.0)


def test_near_identical_texts_share_an_item_and_short_ones_none() -> None:
    base = (
        "the ministry said on tuesday that the convoy crossed the northern border at dawn carrying grain and"
        " medicine for the besieged city before the ceasefire"
    )
    texts = [
        base,
        base + " please share",
        "rt " + base.replace("dawn", "noon"),
        "a completely different sentence about the weather in the mountains this weekend",
        "good morning everyone",
    ]
    items = k.near_duplicate_items([k.post_text(t) for t in texts], threshold=0.6)
    assert items[0] == items[1] == items[2]
    assert items[3] != items[0] and items[3] >= 0
    assert items[4] == -1


def test_leiden_groups_are_deterministic_and_separate_cliques() -> None:
    a, b = [], []
    for clique in (range(0, 5), range(5, 10)):
        for x, y in itertools.combinations(clique, 2):
            a.append(x)
            b.append(y)
    a.append(4)
    b.append(5)  # one weak bridge
    w = np.ones(len(a))
    w[-1] = 0.1
    first = k.communities(12, np.array(a), np.array(b), w)
    again = k.communities(12, np.array(a), np.array(b), w)
    assert first.tolist() == again.tolist()
    assert len(set(first[:5].tolist())) == 1 and len(set(first[5:10].tolist())) == 1 and first[0] != first[5]
    assert first[10] == -1 and first[11] == -1


def test_a_group_keeps_its_id_when_it_gains_or_loses_members() -> None:
    previous = {"grp_A": {"a", "b", "c", "d"}, "grp_B": {"x", "y", "z"}}
    fresh = iter(["grp_NEW1", "grp_NEW2"])
    ids = k.stable_group_ids([{"a", "b", "c", "d", "e"}, {"x", "y"}, {"p", "q", "r"}], previous, lambda: next(fresh))
    assert ids == ["grp_A", "grp_B", "grp_NEW1"]
    # two new groups both overlapping one old group: the larger overlap keeps the id
    fresh = iter(["grp_N"])
    ids = k.stable_group_ids([{"a", "b"}, {"a", "b", "c"}], {"grp_A": {"a", "b", "c", "d"}}, lambda: next(fresh))
    assert ids == ["grp_N", "grp_A"]
