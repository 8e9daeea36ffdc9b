"""The corpus-scale part of the coordination detector as a Spark job: actions, co-action
counting per account pair, then the stage's own scoring and groups on the driver.

On Spark: each post's actions (``detect.coordination``'s four kinds: normalised links,
reshares with the reshared post's author as a seed, near-identical texts as classes of the
MinHash kernel ``index.coaction.near_duplicate_items`` runs, hashtag sequences); the window
of each kind from two figures per repeated item (``index.coaction.window_from_items``); the
actions grouped by item (the shuffle that grows with the corpus) and, item by item, every
pair of accounts that co-acted within the window with its quickest co-action
(``index.coaction.pair_details``, the same kernel); per pair the distinct items, per account
its activity, per item its popularity.

On the driver, with what is left (the co-actions of the pairs that repeat, a number per
account): ``detect.coordination.score_counted`` (chance correction) and ``groups_of``
(Leiden communities, density, score, shared items, taken-over accounts). Account codes follow
the input order as the store's do, so the same corpus gives the same groups as the stage
(``tests/scale/test_batch_jobs.py``). Differences from the stage: a post without a
publication time is left out (the stage falls back on the time it was collected), and
shortened links are compared as they are (the stage expands those a collector resolved).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from fimiscope.batch.inputs import read_documents
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.detect.coordination import (
    KINDS,
    Actions,
    Group,
    KindResult,
    Params,
    PostTable,
    groups_of,
    score_counted,
    share_item,
)
from fimiscope.index import coaction as k
from fimiscope.index import components
from fimiscope.index.minhash import MinHasher, band_keys, optimal_bands, shingle_batch

Post = tuple[int, str, float, str, list[str], str | None, list[str], str, str | None]
# pos, account, time, text (title and opening), links, shared_from, keys, platform, language


def _epoch(value: str | None) -> float | None:
    try:
        return parse_time(value).timestamp() if value else None
    except InvalidInput:
        return None


def post_of(r: Any) -> Post | None:
    """A document row as the detector's post (``detect.coordination.posts_from_store``)."""
    t = _epoch(r["published_at"])
    if t is None or not r["source"]:
        return None
    text = (r["text"] or "")[:2000]
    keys = [r["key"]]
    if r["external_id"]:
        keys.append(f"{r['source']}/{r['external_id']}")
    if r["url"]:
        keys.append(r["url"])
    return (r["pos"], r["source"], t, f"{r['title']} {text}" if r["title"] else text, list(r["links"] or []),
            r["shared_from"], keys, r["platform"] or "web", r["language"])


def _simple_actions(p: Post, code: int, kinds: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """(kind, item, account code, time, pos, seed) of the link, share and hashtag kinds."""
    pos, _acc, t, text, links, shared, _keys, _pl, _lang = p
    if "link" in kinds:
        seen: set[str] = set()
        for url in links:
            norm = k.normalize_url(url)
            if norm is not None and norm not in seen:
                seen.add(norm)
                yield ("link", norm, code, t, pos, 0)
    if "share" in kinds and shared:
        yield ("share", share_item(shared, text), code, t, pos, 0)
    if "hashtag" in kinds:
        seq = k.hashtag_sequence(text)
        if seq:
            yield ("hashtag", seq, code, t, pos, 0)


def _signatures(rows: Iterable[tuple[str, int]], threshold: float) -> Iterator[tuple[int, np.ndarray, list[int]]]:
    """(first position, MinHash signature, band keys) of distinct texts, as the kernel signs them."""
    hasher = MinHasher(128, 7, scheme="classic")
    bands, rows_per_band = optimal_bands(threshold, 128, 0.2, 0.8)
    chunk: list[tuple[str, int]] = []

    def flush() -> Iterator[tuple[int, np.ndarray, list[int]]]:
        flat, counts = shingle_batch([t for t, _ in chunk], 3)
        sigs = hasher.signatures_flat(flat, counts)
        keys = band_keys(sigs, bands, rows_per_band)
        for (_t, first), sig, kk in zip(chunk, sigs, keys.tolist(), strict=True):
            yield first, sig, kk
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= 5000:
            yield from flush()
    if chunk:
        yield from flush()


def _chain(members: Iterable[int]) -> Iterator[tuple[int, int]]:
    ordered = sorted(members)
    return itertools.pairwise(ordered)


def post_classes(posts: Any, p: Params) -> tuple[Any, dict[int, int]]:
    """Near-identical texts as classes: ((text, (pos, ...)) rows, {first position: class root})
    for the texts whose class has more than one distinct text; ``near_duplicate_items`` on
    Spark (identical texts first, LSH banding on the distinct ones, consecutive bucket
    members verified on their signatures, connected components)."""
    threshold, min_tokens, chars = p.post_threshold, p.post_min_tokens, p.post_chars

    def text_of(x: Post) -> tuple[str, tuple[int, int, float]] | None:
        t = k.post_text(x[3][:chars])
        if not t or t.count(" ") + 1 < min_tokens:
            return None
        return (t, (x[0], 0, x[2]))

    parts = posts.context.defaultParallelism
    texts = posts.map(text_of).filter(lambda x: x is not None).cache()
    distinct = texts.map(lambda x: (x[0], x[1][0])).reduceByKey(min, parts).cache()
    signed = distinct.mapPartitions(lambda rows: _signatures(rows, threshold)).cache()
    candidates = (
        signed.flatMap(lambda x: [((b, key), x[0]) for b, key in enumerate(x[2])])
        .groupByKey(parts)
        .flatMap(lambda kv: _chain(kv[1]))
        .distinct(parts)
    )
    sig_of = signed.map(lambda x: (x[0], x[1]))
    edges = (
        candidates.join(sig_of, parts)
        .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
        .join(sig_of, parts)
        .filter(lambda kv: float((kv[1][0][1] == kv[1][1]).mean()) >= threshold)
        .map(lambda kv: (kv[1][0][0], kv[0]))
        .collect()
    )
    signed.unpersist()
    return texts.join(distinct, parts), components.roots(edges)


def _co_actions(
    groups: Iterable[tuple[tuple[str, str], Iterable[tuple[int, float, int, int]]]],
    windows: dict[str, float],
    n: int,
    max_item_accounts: int | None,
) -> Iterator[tuple[str, int, str, float, float, int]]:
    """(kind, pair key, item, delay, time, item's popularity): the quickest co-action of every
    pair of accounts on every item, for a partition of items grouped with their actions."""
    by_kind: dict[str, list[tuple[str, list[tuple[int, float, int, int]]]]] = {}
    for (kind, item), acts in groups:
        by_kind.setdefault(kind, []).append((item, list(acts)))
    for kind, items in by_kind.items():
        acc = np.asarray([a[0] for _, acts in items for a in acts], dtype=np.int64)
        tim = np.asarray([a[1] for _, acts in items for a in acts], dtype=np.float64)
        itm = np.asarray([i for i, (_, acts) in enumerate(items) for _ in acts], dtype=np.int64)
        popularity = k.item_account_counts(acc, itm)
        d = k.pair_details(acc, itm, tim, windows[kind], n, None, max_item_accounts=max_item_accounts)
        for key, it, delay, at in zip(d.key.tolist(), d.item.tolist(), d.delay.tolist(), d.at.tolist(), strict=True):
            yield (kind, key, items[it][0], delay, at, int(popularity[it]))


def _reach(times: Iterable[float], p: float = 0.5) -> tuple[float, float] | None:
    tt = sorted(times)
    if len(tt) < 2:
        return None
    return (tt[1] - tt[0], tt[int(np.floor(p * len(tt)))] - tt[0])


def detect(spark: Any, docs: Any, params: Params) -> tuple[Any, list[Group], dict[str, KindResult], list[Any]]:
    """(accounts, groups, kind results, post rows the groups cite) of the documents ``docs``."""
    sc = spark.sparkContext
    cols = ["pos", "key", "url", "source", "external_id", "title", "text", "platform", "links", "shared_from",
            "published_at", "language"]
    parts = sc.defaultParallelism
    posts = docs.select(*cols).rdd.map(post_of).filter(lambda x: x is not None).cache()
    # each account's first post: its code (first seen, as the stage numbers them) and its time
    first = sorted(posts.map(lambda x: (x[1], (x[0], x[2]))).reduceByKey(
        lambda a, b: (min(a[0], b[0]), min(a[1], b[1])), parts).collect(), key=lambda x: x[1][0])
    accounts = k.Codes()
    accounts.codes([a for a, _ in first])
    n = max(len(accounts), 1)
    first_seen = np.asarray([t for _, (_, t) in first], dtype=np.float64)
    code_of = sc.broadcast(accounts.index)
    kinds = params.kinds

    sources = [posts.flatMap(lambda x: _simple_actions(x, code_of.value[x[1]], kinds))]
    if "share" in kinds:
        by_key = posts.flatMap(lambda x: [(key, x[0]) for key in x[6]]).reduceByKey(min, parts)
        shares = posts.filter(lambda x: bool(x[5])).map(lambda x: (x[5].strip(), (share_item(x[5], x[3]), x[0])))
        seeds = (
            shares.join(by_key, parts)
            .filter(lambda kv: kv[1][1] != kv[1][0][1])
            .map(lambda kv: (kv[1][0][0], (kv[1][0][1], kv[1][1])))  # item -> (sharing post, origin)
            .reduceByKey(max, parts)  # the stage keeps the origin its last sharing post names
            .map(lambda kv: (kv[1][1], kv[0]))
            .join(posts.map(lambda x: (x[0], (code_of.value[x[1]], x[2]))), parts)
            .map(lambda kv: ("share", kv[1][0], kv[1][1][0], kv[1][1][1], kv[0], 1))
        )
        sources.append(seeds)
    if "post" in kinds:
        joined, roots = post_classes(posts, params)
        shared_roots = sc.broadcast(roots)
        at_pos = posts.map(lambda x: (x[0], (code_of.value[x[1]], x[2])))
        sources.append(
            joined.map(lambda kv: (kv[1][0][0], kv[1][1]))  # pos -> first position of its text
            .join(at_pos, parts)
            .map(lambda kv: ("post", str(shared_roots.value.get(kv[1][0], kv[1][0])), kv[1][1][0], kv[1][1][1],
                             kv[0], 0))
        )
    actions = sc.union(sources).coalesce(parts).cache()
    # per kind and account: distinct items (its activity) and actions
    per_account = (
        actions.map(lambda a: ((a[0], a[2], a[1]), 1)).reduceByKey(lambda a, b: a + b, parts)
        .map(lambda kv: ((kv[0][0], kv[0][1]), (1, kv[1]))).reduceByKey(
            lambda a, b: (a[0] + b[0], a[1] + b[1]), parts).collect()
    )
    counted: dict[str, int] = {}
    for (kind, _code), (_items, acts_n) in per_account:
        counted[kind] = counted.get(kind, 0) + acts_n
    present = [kind for kind in KINDS if kind in kinds and counted.get(kind)]

    by_item = actions.map(lambda a: ((a[0], a[1]), (a[2], a[3], a[4], a[5]))).groupByKey(parts).cache()
    windows: dict[str, k.WindowEstimate] = {}
    reach: dict[str, list[tuple[float, float]]] = {}
    given = {kind: params.windows.get(kind, params.window) for kind in present}
    if any(v is None for v in given.values()):
        for kind, r in by_item.map(lambda kv: (kv[0][0], _reach(a[1] for a in kv[1]))).filter(
                lambda x: x[1] is not None).collect():
            reach.setdefault(kind, []).append(r)
    for kind in present:
        if given[kind] is not None:
            windows[kind] = k.WindowEstimate(float(given[kind]), 0, 0, "given")  # type: ignore[arg-type]
        else:
            rr = np.asarray(reach.get(kind, []), dtype=np.float64).reshape(-1, 2)
            windows[kind] = k.window_from_items(rr[:, 0], rr[:, 1], cap=params.window_cap)
    seconds = {kind: w.seconds for kind, w in windows.items()}
    cap = params.max_item_accounts
    co = by_item.mapPartitions(lambda groups: _co_actions(groups, seconds, n, cap))
    min_repeat = params.min_repeat
    # per pair: its co-actions (one per item); the pairs that repeat come to the driver whole,
    # the others as two counts per kind (pairs tested, co-actions)
    grouped = co.map(lambda r: ((r[0], r[1]), r[2:])).groupByKey(parts).map(
        lambda kv: (kv[0], list(kv[1]))).cache()
    totals_rows = grouped.map(lambda kv: (kv[0][0], (1, len(kv[1])))).reduceByKey(
        lambda a, b: (a[0] + b[0], a[1] + b[1]), parts).collect()
    totals = dict(totals_rows)
    detail_rows = grouped.filter(lambda kv: len(kv[1]) >= min_repeat).flatMap(
        lambda kv: [(kv[0][0], kv[0][1], *r) for r in kv[1]]).collect()
    n_repeated: dict[str, int] = {}
    for kind, _key in {(r[0], r[1]) for r in detail_rows}:
        n_repeated[kind] = n_repeated.get(kind, 0) + 1

    results: dict[str, KindResult] = {}
    items: dict[str, k.Codes] = {}
    for kind in present:
        rows = [r for r in detail_rows if r[0] == kind]
        codes = items[kind] = k.Codes()
        item = codes.codes([r[2] for r in rows])
        popularity = np.zeros(len(codes), dtype=np.int64)
        popularity[item] = [r[5] for r in rows]
        key = np.asarray([r[1] for r in rows], dtype=np.int64)
        delay = np.asarray([r[3] for r in rows], dtype=np.float64)
        at = np.asarray([r[4] for r in rows], dtype=np.float64)
        order = np.lexsort((at, key))
        none = np.full(key.size, -1, dtype=np.int64)
        details = k.PairCoActions(key[order], item[order], none, none, delay[order], at[order])
        activity = np.zeros(n, dtype=np.int64)
        for (kk, code), (c, _acts) in per_account:
            if kk == kind:
                activity[code] = c
        pairs, total = totals.get(kind, (0, 0))
        results[kind] = score_counted(kind, windows[kind], counted[kind], pairs, n_repeated.get(kind, 0), total,
                                      details, activity, popularity, n, params)

    # the actions of the kept pairs' accounts on the repeated pairs' items: what groups cite
    kept = {int(x) for r in results.values() for key in r.scores.key[r.scores.kept].tolist()
            for x in (key // n, key % n)}
    if not kept:
        posts.unpersist()
        actions.unpersist()
        return accounts, [], results, []
    wanted = sc.broadcast({(kind, name) for kind, codes in items.items() for name in codes.names})
    kept_b = sc.broadcast(kept)
    cited = sorted(
        actions.filter(lambda a: a[2] in kept_b.value and (a[0], a[1]) in wanted.value).collect(),
        key=lambda a: (a[5], a[4]),
    )
    where = sorted({a[4] for a in cited})
    local = {pos: i for i, pos in enumerate(where)}
    wanted_pos = sc.broadcast(set(where))
    by_pos = dict(docs.select("pos", "key", "platform", "language").rdd.filter(
        lambda r: r[0] in wanted_pos.value).map(lambda r: (r[0], (r[1], r[2] or "web", r[3]))).collect())
    acts: dict[str, Actions] = {}
    for kind in present:
        rows = [a for a in cited if a[0] == kind]
        acts[kind] = Actions(
            kind,
            np.asarray([a[2] for a in rows], dtype=np.int64),
            np.asarray([items[kind].index[a[1]] for a in rows], dtype=np.int64),
            np.asarray([a[3] for a in rows], dtype=np.float64),
            np.asarray([local[a[4]] for a in rows], dtype=np.int64),
            items[kind].names,
        )
    if "post" in acts:  # a class of texts reads as its first text
        want_text = sc.broadcast({int(x) for x in items["post"].names})
        texts = dict(posts.filter(lambda x: x[0] in want_text.value).map(lambda x: (x[0], x[3][:280])).collect())
        acts["post"].items = [texts[int(x)] for x in items["post"].names]
    table = PostTable(
        account=[""] * len(where), time=np.zeros(len(where)), links=[[] for _ in where],
        shared_from=[None] * len(where), text=[""] * len(where), ref=[by_pos[p][0] for p in where],
        platform=[by_pos[p][1] for p in where], language=[by_pos[p][2] for p in where],
    )
    found = groups_of(results, acts, accounts, params, table, first_seen)
    posts.unpersist()
    actions.unpersist()
    by_item.unpersist()
    grouped.unpersist()
    return accounts, found.groups, results, table.ref


def group_json(g: Group, names: list[str], refs: list[str]) -> dict[str, Any]:
    """A group with account names for codes and document keys for post rows (what
    ``fimiscope import batch`` turns back into the stage's group)."""
    return {
        "members": [names[m] for m in g.members], "score": g.score, "density": g.density,
        "edges": [{**e, "a": names[e["a"]], "b": names[e["b"]]} for e in g.edges],
        "items": [{**it, "actions": [{**x, "account": names[x["account"]], "post": refs[x["post"]]}
                                     for x in it["actions"]]} for it in g.items],
        "kinds": g.kinds, "fastest_s": g.fastest_s, "median_s": g.median_s, "first_at": g.first_at,
        "last_at": g.last_at, "hijacked": [names[m] for m in g.hijacked], "platforms": g.platforms,
        "languages": g.languages,
    }


def run(spark: Any, inputs: list[str], out_dir: str, params: Params | None = None) -> dict[str, int]:
    """Read ``inputs``, find coordinated groups, write Parquet under ``out_dir``: documents,
    groups (one row each, the whole group as JSON), group_members, pairs (the kept account
    pairs of each kind) and run (windows, parameters, counts). Returns counts."""
    p = params or Params()
    docs = read_documents(spark, inputs).cache()
    accounts, groups, results, refs = detect(spark, docs, p)
    names = accounts.names
    docs.write.mode("overwrite").parquet(f"{out_dir}/documents")
    group_rows = [(i, len(g.members), g.score, g.density, json.dumps(group_json(g, names, refs)))
                  for i, g in enumerate(groups)]
    spark.createDataFrame(group_rows, "rank int, size int, score double, density double, group string").write.mode(
        "overwrite").parquet(f"{out_dir}/groups")
    spark.createDataFrame([(i, names[m]) for i, g in enumerate(groups) for m in g.members],
                          "rank int, account string").write.mode("overwrite").parquet(f"{out_dir}/group_members")
    n = max(len(accounts), 1)
    pair_rows = []
    for kind, r in results.items():
        s = r.scores
        for i in np.flatnonzero(s.kept).tolist():
            key = int(s.key[i])
            pair_rows.append((names[key // n], names[key % n], kind, int(s.count[i]), int(s.episodes[i]),
                              float(s.weight[i]), float(s.p_value[i]), float(s.fastest[i]), float(s.median[i])))
    spark.createDataFrame(pair_rows, "account_a string, account_b string, kind string, count long, episodes long, "
                                     "weight double, p_value double, fastest_s double, median_s double").write.mode(
        "overwrite").parquet(f"{out_dir}/pairs_coordination")
    posts = int(docs.count())
    run_info = {
        "posts": posts,
        "groups": len(groups),
        "windows": {kind: r.window.as_dict() for kind, r in results.items()},
        "parameters": p.as_dict(),
        "counts": {kind: {"actions": r.actions, "pairs": r.pairs, "repeated": r.repeated, "kept": r.kept}
                   for kind, r in results.items()},
    }
    spark.createDataFrame([(json.dumps(run_info),)], "run string").write.mode("overwrite").parquet(f"{out_dir}/run")
    docs.unpersist()
    return {"documents": posts, "accounts": len(accounts), "pairs": len(pair_rows), "groups": len(groups)}
