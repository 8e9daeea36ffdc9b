"""Co-action kernels for coordinated-behaviour detection, free of storage.

An *action* is one account acting on one *item* at one time: posting a (normalised) URL,
resharing a post, posting a near-identical text, posting a hashtag sequence. Two accounts
*co-act* when they act on the same item within a time window of each other. Everything
here works on NumPy arrays of integer codes, so the detector, the evaluation and the
benchmark run the same code:

* ``estimate_window``: the window from the data, after CooRnet's ``estimate_coord_interval``
  (the time within which the quickest-reshared items gathered half of their shares).
* ``iter_co_actions``: every pair of actions by different accounts on one item within the
  window, without a Python loop per action and in chunks of items, so memory is bounded by
  the chunk, not by the data.
* ``pair_counts`` / ``pair_details``: per account pair, the number of distinct items they
  co-acted on; for the pairs that repeat, every co-action with its delay.
* ``score_pairs``: chance correction (the item's popularity, each account's activity,
  repetition in separate episodes), ``docs/coordination.md`` says how.
* ``near_duplicate_items``: co-post items from texts with the MinHash/LSH kernel of
  ``index/minhash.py``.
* ``stable_group_ids``: a group that gains or loses members keeps its id across runs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
from numpy.typing import NDArray

from fimiscope.index.minhash import MinHasher, band_keys, normalize, optimal_bands, shingle_batch

I64 = np.int64

# --- items ------------------------------------------------------------------------------------

# Query parameters that say who clicked where, not what was linked.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "igsh", "mc_cid", "mc_eid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "referrer", "s", "si", "feature",
    "spm", "cmpid", "ito", "ocid", "smid", "share", "sharesource", "xtor", "__twitter_impression", "at_medium",
    "at_campaign", "ns_source", "ns_mchannel", "ns_campaign", "ncid", "sr_share", "rss", "from", "tt_from",
})  # fmt: skip
# URL shorteners: their links are only comparable once expanded (``normalize_url(resolved=)``).
SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "tiny.cc", "rb.gy",
    "cutt.ly", "shorturl.at", "lnkd.in", "dlvr.it", "trib.al", "fb.me", "wp.me", "youtu.be", "t.me", "vk.cc",
    "clck.ru", "s.id", "rebrand.ly", "bl.ink", "soo.gd", "v.gd", "amzn.to", "ift.tt",
})  # fmt: skip


_OTHER_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+-]*:(?!\d)")


def _tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(("utm_", "pk_", "mtm_", "hsa_", "oly_"))


def normalize_url(url: str, resolved: Mapping[str, str] | None = None) -> str | None:
    """The URL as an item: without scheme, ``www.``, default port, fragment, tracking
    parameters and trailing slash; remaining parameters sorted. A shortener's link is replaced
    by its expansion when ``resolved`` has it (nothing is fetched here). None for non-web links.
    """
    url = url.strip()
    if resolved and url in resolved:
        url = resolved[url].strip()
    if "://" not in url and _OTHER_SCHEME.match(url):  # mailto:, tel:, javascript:, ...
        return None
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host:
        return None
    host = host.removeprefix("www.").removeprefix("m.") if host.count(".") > 1 else host.removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = ""
    if parts.query:
        kept = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k))
        query = urlencode(kept)
    return f"{host}{path}" + (f"?{query}" if query else "")


_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,100})")


def hashtag_sequence(text: str, min_tags: int = 2) -> str | None:
    """The post's hashtags in order, casefolded, as one item; None under ``min_tags`` (one
    common hashtag is a topic, a repeated sequence of several is a template)."""
    tags = [t.casefold() for t in _HASHTAG.findall(text)]
    return " ".join(f"#{t}" for t in tags) if len(tags) >= min_tags else None


_STRIP_FOR_POST = re.compile(r"https?://\S+|www\.\S+|(?<!\w)[@#]\w+")


def post_text(text: str) -> str:
    """Text compared for co-post: without links, mentions and hashtags (they have kinds of
    their own, and a bare link is not the same *text*)."""
    return normalize(_STRIP_FOR_POST.sub(" ", text))


class Codes:
    """Strings to dense integer codes, first seen first (a dict is faster than sorting
    strings for the sizes here: ~0.2 s per million)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, value: str) -> int:
        c = self.index.get(value)
        if c is None:
            c = self.index[value] = len(self.names)
            self.names.append(value)
        return c

    def codes(self, values: Sequence[str]) -> NDArray[np.int64]:
        return np.fromiter((self.code(v) for v in values), dtype=I64, count=len(values))

    def __len__(self) -> int:
        return len(self.names)


def near_duplicate_items(
    texts: Sequence[str],
    *,
    threshold: float = 0.7,
    k: int = 3,
    num_perm: int = 128,  # 64 slots estimate a 0.73 Jaccard below 0.6 one time in a hundred
    min_tokens: int = 6,
    seed: int = 7,
    chunk: int = 20_000,
) -> NDArray[np.int64]:
    """One item code per text: texts whose word ``k``-shingle Jaccard (MinHash estimate) is at
    least ``threshold`` share a code through connected components of verified LSH candidates.

    Texts with fewer than ``min_tokens`` tokens get -1: "Good morning!" or "Wow" are posted
    identically by strangers every minute, so identical *short* texts prove nothing.
    ``texts`` are already normalised (``post_text``)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(texts)
    out = np.full(n, -1, dtype=I64)
    # identical texts first: reshared text is common and needs no signature of its own
    uniq: dict[str, int] = {}
    first = np.empty(n, dtype=I64)
    for i, t in enumerate(texts):
        if t.count(" ") + 1 < min_tokens or not t:
            first[i] = -1
            continue
        first[i] = uniq.setdefault(t, len(uniq))
    if not uniq:
        return out
    distinct = list(uniq)
    m = len(distinct)
    hasher = MinHasher(num_perm, seed, scheme="classic")
    sigs = np.empty((m, num_perm), dtype=np.uint32)
    for lo in range(0, m, chunk):  # chunks bound the shingle arrays (and the kernel's power tables)
        flat, counts = shingle_batch(distinct[lo : lo + chunk], k)
        sigs[lo : lo + chunk] = hasher.signatures_flat(flat, counts)
    # banding leans to recall (false negatives weigh 0.8): every candidate is verified anyway
    bands, rows = optimal_bands(threshold, num_perm, 0.2, 0.8)
    keys = band_keys(sigs, bands, rows)
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    for b in range(bands):
        order = np.argsort(keys[:, b], kind="stable")
        kb = keys[order, b]
        same = np.flatnonzero(kb[1:] == kb[:-1])
        if same.size == 0:
            continue
        # neighbours in a bucket form a chain; verifying consecutive members is enough for
        # the components and keeps the work linear in the bucket size
        a, c = order[same], order[same + 1]
        agree = (sigs[a] == sigs[c]).mean(axis=1) >= threshold
        src.append(a[agree])
        dst.append(c[agree])
    if src:
        s, d = np.concatenate(src), np.concatenate(dst)
        graph = coo_matrix((np.ones(s.size, dtype=np.int8), (s, d)), shape=(m, m))
        _, comp = connected_components(graph, directed=False)
    else:
        comp = np.arange(m)
    ok = first >= 0
    out[ok] = comp[first[ok]]
    return out


# --- the window -------------------------------------------------------------------------------


@dataclass(slots=True)
class WindowEstimate:
    seconds: float
    items: int  # items acted on more than once
    quickest: int  # of those, the quickest-reshared ones the estimate uses
    method: str

    def as_dict(self) -> dict[str, object]:
        return {"seconds": self.seconds, "items": self.items, "quickest": self.quickest, "method": self.method}


def _sorted_by_item_time(item: NDArray[np.int64], time: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.lexsort((time, item)).astype(I64)


def estimate_window(
    item: NDArray[np.int64],
    time: NDArray[np.float64],
    *,
    q: float = 0.1,
    p: float = 0.5,
    floor: float = 1.0,
    cap: float = 3600.0,
    default: float = 60.0,
) -> WindowEstimate:
    """The co-action window from the data (after CooRnet's ``estimate_coord_interval``).

    Among items acted on more than once, take the ``q`` share whose second action came
    quickest after the first; for each, the time from its first action until more than ``p``
    of its actions had happened; the window is the median of those times, within
    [``floor``, ``cap``]. ``default`` when fewer than 10 items repeat."""
    if item.size == 0:
        return WindowEstimate(default, 0, 0, "default (no actions)")
    order = _sorted_by_item_time(item, time)
    it, tt = item[order], time[order]
    starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]])
    sizes = np.diff(np.r_[starts, it.size])
    rep = sizes >= 2
    st, sz = starts[rep], sizes[rep]
    reach = np.floor(p * sz).astype(I64)  # 0-based index of the first action past p
    return window_from_items(tt[st + 1] - tt[st], tt[st + reach] - tt[st], q=q, floor=floor, cap=cap,
                             default=default, p=p)


def window_from_items(
    second: NDArray[np.float64],
    reach: NDArray[np.float64],
    *,
    q: float = 0.1,
    p: float = 0.5,
    floor: float = 1.0,
    cap: float = 3600.0,
    default: float = 60.0,
) -> WindowEstimate:
    """``estimate_window`` from two figures per item acted on more than once, in any order:
    the time from its first action to its second (``second``) and to the first action past
    ``p`` of its actions (``reach``). A distributed job computes them item by item."""
    if second.size < 10:
        return WindowEstimate(default, int(second.size), 0, "default (fewer than 10 repeated items)")
    cut = np.quantile(second, q)
    quick = second <= cut
    seconds = float(np.clip(np.median(reach[quick]), floor, cap))
    return WindowEstimate(round(seconds, 3), int(second.size), int(quick.sum()), f"estimated (q={q}, p={p})")


# --- co-actions -------------------------------------------------------------------------------


@dataclass(slots=True)
class CoActions:
    """Co-action rows: actions ``first`` and ``second`` (indices into the caller's arrays,
    ``first`` not later) by different accounts on one item within the window."""

    first: NDArray[np.int64]
    second: NDArray[np.int64]


def iter_co_actions(
    account: NDArray[np.int64],
    item: NDArray[np.int64],
    time: NDArray[np.float64],
    window: float,
    *,
    chunk_actions: int = 2_000_000,
    max_item_accounts: int | None = None,
) -> Iterator[CoActions]:
    """Every pair of actions on one item within ``window`` seconds by two different accounts,
    a chunk of whole items at a time (about ``chunk_actions`` actions per chunk).

    For each offset k = 1, 2, ... along the actions sorted by (item, time), action i pairs
    with i + k while both are on one item within the window; once i + k falls out, so does
    every later k, so only the still-open actions are carried on. Work is the number of
    actions plus the number of pairs, in NumPy. Items with more than ``max_item_accounts``
    distinct accounts are skipped when it is set (their co-actions weigh next to nothing
    after the popularity correction and would dominate the work)."""
    order = _sorted_by_item_time(item, time)
    it = item[order]
    starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]]) if it.size else np.empty(0, dtype=I64)
    if max_item_accounts is not None and it.size:
        n_acc = item_account_counts(account, item)
        big = np.isin(it, np.flatnonzero(n_acc > max_item_accounts))
        order, it = order[~big], it[~big]
        starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]]) if it.size else np.empty(0, dtype=I64)
    bounds = [0]
    # chunk boundaries fall on item starts
    target = chunk_actions
    while bounds[-1] < it.size:
        nxt = int(np.searchsorted(starts, bounds[-1] + target, side="left"))
        end = int(starts[nxt]) if nxt < starts.size else it.size
        if end <= bounds[-1]:
            end = int(starts[nxt + 1]) if nxt + 1 < starts.size else it.size
        bounds.append(end)
    for lo, hi in itertools.pairwise(bounds):
        idx = order[lo:hi]
        ci, ct, ca = item[idx], time[idx], account[idx]
        firsts: list[NDArray[np.int64]] = []
        seconds: list[NDArray[np.int64]] = []
        open_ = np.arange(max(idx.size - 1, 0), dtype=I64)
        k = 1
        while open_.size:
            j = open_ + k
            j_ok = j < idx.size
            open_, j = open_[j_ok], j[j_ok]
            keep = (ci[j] == ci[open_]) & (ct[j] - ct[open_] <= window)
            open_, j = open_[keep], j[keep]
            diff = ca[j] != ca[open_]
            firsts.append(idx[open_[diff]])
            seconds.append(idx[j[diff]])
            k += 1
        if firsts and (found := np.concatenate(firsts)).size:
            yield CoActions(found, np.concatenate(seconds))


def item_account_counts(account: NDArray[np.int64], item: NDArray[np.int64]) -> NDArray[np.int64]:
    """Distinct accounts per item code (the item's popularity)."""
    if item.size == 0:
        return np.zeros(0, dtype=I64)
    n_acc = int(account.max()) + 1
    pairs = np.unique(item * n_acc + account)
    return np.bincount(pairs // n_acc, minlength=int(item.max()) + 1).astype(I64)


def account_item_counts(account: NDArray[np.int64], item: NDArray[np.int64], n_accounts: int) -> NDArray[np.int64]:
    """Distinct items per account code (the account's activity)."""
    if item.size == 0:
        return np.zeros(n_accounts, dtype=I64)
    n_items = int(item.max()) + 1
    pairs = np.unique(account * n_items + item)
    return np.bincount(pairs // n_items, minlength=n_accounts).astype(I64)


def _pair_keys(a: NDArray[np.int64], b: NDArray[np.int64], n_accounts: int) -> NDArray[np.int64]:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo * n_accounts + hi


def pair_counts(
    account: NDArray[np.int64],
    item: NDArray[np.int64],
    time: NDArray[np.float64],
    window: float,
    n_accounts: int,
    **kw: int | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(pair keys ``lo * n_accounts + hi``, distinct items co-acted on), pairs sorted.
    Merged chunk by chunk: memory holds one chunk's co-actions plus the distinct pairs."""
    keys_acc: NDArray[np.int64] = np.empty(0, dtype=I64)
    cnt_acc: NDArray[np.int64] = np.empty(0, dtype=I64)
    for chunk in iter_co_actions(account, item, time, window, **kw):  # type: ignore[arg-type]
        keys = _pair_keys(account[chunk.first], account[chunk.second], n_accounts)
        # one (pair, item) counts once, however many times the two acted on it
        it = item[chunk.first]
        order = np.lexsort((it, keys))
        keys, it = keys[order], it[order]
        first_of = np.r_[True, (keys[1:] != keys[:-1]) | (it[1:] != it[:-1])]
        k_u = keys[first_of]
        u, c = np.unique(k_u, return_counts=True)
        keys_acc = np.concatenate([keys_acc, u])
        cnt_acc = np.concatenate([cnt_acc, c.astype(I64)])
        if keys_acc.size > 2 * u.size + 1_000_000:  # fold merged chunks back into distinct pairs
            keys_acc, cnt_acc = _fold(keys_acc, cnt_acc)
    return _fold(keys_acc, cnt_acc)


def _fold(keys: NDArray[np.int64], counts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    if keys.size == 0:
        return keys, counts
    u, inv = np.unique(keys, return_inverse=True)
    return u, np.bincount(inv, weights=counts, minlength=u.size).astype(I64)


@dataclass(slots=True)
class PairCoActions:
    """Every co-action of the selected pairs, one row per (pair, item): the earlier of the two
    accounts' actions on it (``first``), the other's (``second``) and the delay between them."""

    key: NDArray[np.int64]
    item: NDArray[np.int64]
    first: NDArray[np.int64]
    second: NDArray[np.int64]
    delay: NDArray[np.float64]
    at: NDArray[np.float64]


def pair_details(
    account: NDArray[np.int64],
    item: NDArray[np.int64],
    time: NDArray[np.float64],
    window: float,
    n_accounts: int,
    pairs: NDArray[np.int64] | None,
    **kw: int | None,
) -> PairCoActions:
    """The co-actions of the sorted pair keys ``pairs`` (those that repeat), the quickest one
    per (pair, item), sorted by pair then time. A second pass over the data, so memory holds
    the selected pairs' rows, not every pair's. ``pairs=None`` keeps every pair."""
    parts: list[tuple[NDArray[np.int64], ...]] = []
    for chunk in iter_co_actions(account, item, time, window, **kw):  # type: ignore[arg-type]
        keys = _pair_keys(account[chunk.first], account[chunk.second], n_accounts)
        if pairs is None:
            sel = np.ones(keys.size, dtype=bool)
        else:
            pos = np.searchsorted(pairs, keys)
            pos[pos >= pairs.size] = 0
            sel = pairs[pos] == keys if pairs.size else np.zeros(keys.size, dtype=bool)
        # the quickest co-action per (pair, item) only, chunk by chunk (items never straddle chunks)
        parts.append(_quickest(keys[sel], chunk.first[sel], chunk.second[sel], item, time))
    key = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=I64)
    if key.size == 0:
        e = np.empty(0, dtype=I64)
        return PairCoActions(e, e, e, e, np.empty(0), np.empty(0))
    first = np.concatenate([p[1] for p in parts])
    second = np.concatenate([p[2] for p in parts])
    delay = time[second] - time[first]
    it = item[first]
    at = time[first]
    order = np.lexsort((at, key))
    return PairCoActions(key[order], it[order], first[order], second[order], delay[order], at[order])


def _quickest(
    key: NDArray[np.int64],
    first: NDArray[np.int64],
    second: NDArray[np.int64],
    item: NDArray[np.int64],
    time: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    delay = time[second] - time[first]
    it = item[first]
    order = np.lexsort((delay, it, key))
    key, it, first, second = key[order], it[order], first[order], second[order]
    keep = np.r_[True, (key[1:] != key[:-1]) | (it[1:] != it[:-1])] if key.size else np.zeros(0, dtype=bool)
    return key[keep], first[keep], second[keep]


# --- chance -----------------------------------------------------------------------------------


@dataclass(slots=True)
class PairScores:
    """Per pair (sorted keys): distinct items co-acted on, separate episodes among them, the
    popularity-weighted repeats, the expected chance co-actions and the tail probability."""

    key: NDArray[np.int64]
    count: NDArray[np.int64]
    episodes: NDArray[np.int64]
    weight: NDArray[np.float64]
    expected: NDArray[np.float64]
    p_value: NDArray[np.float64]
    fastest: NDArray[np.float64]
    median: NDArray[np.float64]
    kept: NDArray[np.bool_]


def popularity_weight(n_accounts_on_item: NDArray[np.int64], n_accounts: int) -> NDArray[np.float64]:
    """log(N / n) / log(N): 1 for an item only two accounts acted on, falling towards 0 as
    the item reaches every account (an inverse document frequency, scaled to [0, 1])."""
    n = np.maximum(n_accounts_on_item.astype(np.float64), 2.0)
    big = max(float(n_accounts), 3.0)
    out: NDArray[np.float64] = np.clip(np.log(big / n) / np.log(big / 2.0), 0.0, 1.0)
    return out


def score_pairs(
    details: PairCoActions,
    *,
    n_accounts: int,
    activity: NDArray[np.int64],
    popularity: NDArray[np.int64],
    chance_rate: float,
    episode_gap: float,
    min_repeat: int = 2,
    alpha: float = 0.01,
    tested: int = 1,
    min_weight: float = 1.0,
) -> PairScores:
    """Chance-corrected pair statistics (``docs/coordination.md``, "How chance is accounted for").
    Pair keys decode with ``n_accounts``, and an item's popularity is relative to them: if only
    five accounts reshare anything, a post all five reshared is not thereby popular.

    * episodes: co-actions less than ``episode_gap`` seconds after the pair's previous one
      join its episode, so one breaking-news hour counts once however many links it had;
    * weight: the sum over episodes of the best popularity weight in it;
    * expected: ``chance_rate * activity[a] * activity[b]``, the co-actions two accounts this
      active would have by chance; p-value: Poisson tail of the episodes given it, kept when
      under ``alpha / tested`` (Bonferroni over the pairs tested);
    * kept: at least ``min_repeat`` episodes, the p-value under the bar and ``min_weight``.
    """
    from scipy.stats import poisson

    key = details.key
    if key.size == 0:
        e = np.empty(0, dtype=I64)
        f = np.empty(0)
        return PairScores(e, e, e, f, f, f, f, f, np.empty(0, dtype=bool))
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.size]
    ukey = key[starts]
    count = (ends - starts).astype(I64)
    at = details.at
    new_pair = np.zeros(key.size, dtype=bool)
    new_pair[starts] = True
    gap = np.r_[np.inf, np.diff(at)]
    new_episode = new_pair | (gap > episode_gap)
    episode_id = np.cumsum(new_episode) - 1
    w = popularity_weight(popularity[details.item], n_accounts)
    best = np.zeros(int(episode_id[-1]) + 1)
    np.maximum.at(best, episode_id, w)
    # the pair each episode belongs to
    ep_pair = np.searchsorted(starts, np.flatnonzero(new_episode), side="right") - 1
    episodes = np.bincount(ep_pair, minlength=ukey.size).astype(I64)
    weight = np.bincount(ep_pair, weights=best, minlength=ukey.size).astype(np.float64)
    a, b = ukey // n_accounts, ukey % n_accounts
    expected = chance_rate * activity[a].astype(np.float64) * activity[b].astype(np.float64)
    p_value = poisson.sf(episodes - 1, np.maximum(expected, 1e-300))
    fastest = np.minimum.reduceat(details.delay, starts)
    by_delay = details.delay[np.lexsort((details.delay, key))]
    med = (by_delay[starts + (count - 1) // 2] + by_delay[starts + count // 2]) / 2.0
    kept = (episodes >= min_repeat) & (p_value <= alpha / max(tested, 1)) & (weight >= min_weight)
    return PairScores(ukey, count, episodes, weight, expected, p_value, fastest, med, kept)


def possible_pairs(activity: NDArray[np.int64]) -> float:
    """Pairs of actions two different accounts could have made: ((sum k)^2 - sum k^2) / 2."""
    k = activity.astype(np.float64)
    return float((k.sum() ** 2 - (k * k).sum()) / 2.0)


def chance_rate(pair_total: int, activity: NDArray[np.int64]) -> float:
    """Co-actions per pair of actions: the observed (pair, item) co-actions divided by the
    pairs of actions two different accounts could have made."""
    possible = possible_pairs(activity)
    return float(pair_total / possible) if possible > 0 else 0.0


# --- groups -----------------------------------------------------------------------------------


def communities(
    n_nodes: int,
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    weight: NDArray[np.float64],
    *,
    seed: int = 42,
    dense: float = 0.3,
) -> NDArray[np.int64]:
    """Leiden communities (igraph + leidenalg) of the graph of kept pairs, a number per node
    (-1 for nodes without edges); the same input and seed give the same partition.

    The constant Potts model at resolution ``dense``: a community is worth its edges minus
    ``dense`` times its member pairs, so groups come out denser than ``dense`` and a near-
    complete group stays whole. Modularity would split it (one community spanning a whole
    component scores zero there) and has a resolution limit that merges small groups. Each
    edge counts min(1, weight): a kept pair is one tie, a pair kept below one full-weight
    repeat (``min_weight`` < 1) counts for less."""
    import igraph as ig
    import leidenalg

    out = np.full(n_nodes, -1, dtype=I64)
    if a.size == 0:
        return out
    nodes = np.unique(np.concatenate([a, b]))
    local = {int(x): i for i, x in enumerate(nodes.tolist())}
    edges = [(local[int(x)], local[int(y)]) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    g = ig.Graph(n=nodes.size, edges=edges)
    g.es["weight"] = np.minimum(weight.astype(float), 1.0).tolist()
    part = leidenalg.find_partition(
        g, leidenalg.CPMVertexPartition, weights="weight", resolution_parameter=dense, seed=seed, n_iterations=-1
    )
    out[nodes] = np.asarray(part.membership, dtype=I64)
    return out


def stable_group_ids(
    groups: Sequence[set[str]],
    previous: Mapping[str, set[str]],
    new_id: Callable[[], str],
    *,
    min_overlap: float = 0.5,
) -> list[str]:
    """An id per group: the previous run's group it overlaps most (by shared members, at least
    ``min_overlap`` of the smaller of the two) keeps its id, each old id at most once, the
    largest overlaps matched first; a group that matches none gets ``new_id()``."""
    cands: list[tuple[int, float, int, str]] = []
    for i, g in enumerate(groups):
        for gid, old in previous.items():
            shared = len(g & old)
            if shared and shared >= min_overlap * min(len(g), len(old)):
                cands.append((-shared, -shared / max(len(g | old), 1), i, gid))
    cands.sort()
    ids: list[str | None] = [None] * len(groups)
    used: set[str] = set()
    for _s, _j, i, gid in cands:
        if ids[i] is None and gid not in used:
            ids[i] = gid
            used.add(gid)
    return [x if x is not None else new_id() for x in ids]
