"""Coordinated behaviour: accounts and outlets that act in concert, found as groups with the
co-actions that prove it.

1. **Actions.** Every stored post or article by a source (``platform:account`` or an outlet's
   domain) becomes actions of four kinds: *link* (each normalised URL it carries), *share*
   (the item it reshares or forwards, ``shared_from``), *post* (its text, as a near-duplicate
   class from the MinHash kernel) and *hashtag* (its sequence of two or more hashtags).
2. **Windows.** Per kind, from the data unless given (``index/coaction.estimate_window``).
3. **Pairs.** Accounts that co-act on the same item within the window; repeated pairs only,
   corrected for chance: the item's popularity, both accounts' activity, and repetition in
   separate episodes (``score_pairs``, ``docs/coordination.md``).
4. **Groups.** Leiden communities (igraph + leidenalg) of the graph of kept pairs; a group
   keeps its id across runs while it keeps most of its members.
5. **Signals.** One per group above the thresholds, with the shared items, each member's
   time of action and delay as evidence.

The core (``detect``) works on a ``PostTable`` with no store, so ``eval/coordination.py`` and
``benchmarks/coordination_bench.py`` run exactly what the stage runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fimiscope.config import Settings
from fimiscope.core.model import Evidence, Signal
from fimiscope.index import coaction as k
from fimiscope.pipeline import Stage, StageReport, register
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import watermarks as watermark_store

VERSION = "1"
KINDS = ("link", "share", "post", "hashtag")


@dataclass(slots=True)
class Params:
    window: float | None = None  # seconds for every kind; None: estimated per kind from the data
    windows: dict[str, float] = field(default_factory=dict)  # per-kind override
    kinds: tuple[str, ...] = KINDS
    min_repeat: int = 2  # separate episodes a pair needs
    alpha: float = 0.01  # family-wise: divided by the pairs tested
    min_weight: float = 1.0  # popularity-weighted repeats a pair needs
    episode_gap: float = 3600.0  # co-actions closer than this to the pair's previous one are one episode
    min_group: int = 3
    min_density: float = 0.3  # share of a group's member pairs that are kept pairs
    min_score: float = 0.2
    post_threshold: float = 0.6  # MinHash Jaccard (word 3-shingles) for near-identical texts
    post_min_tokens: int = 6
    post_chars: int = 1000  # an article is compared by its title and opening
    max_item_accounts: int | None = 5000
    window_cap: float = 3600.0
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["kinds"] = list(self.kinds)
        return out


@dataclass(slots=True)
class PostTable:
    """Posts in columns. ``key`` identifies a post for ``shared_from`` look-ups (document key,
    ``source/external_id`` and URL all resolve); ``ref`` is what evidence cites (document id)."""

    account: list[str]
    time: NDArray[np.float64]  # epoch seconds
    links: list[list[str]]
    shared_from: list[str | None]
    text: list[str]
    ref: list[str]
    keys: list[list[str]] = field(default_factory=list)
    platform: list[str] = field(default_factory=list)
    language: list[str | None] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)  # shortener link -> its expansion, when known

    def __len__(self) -> int:
        return len(self.account)


@dataclass(slots=True)
class Actions:
    kind: str
    account: NDArray[np.int64]
    item: NDArray[np.int64]
    time: NDArray[np.float64]
    post: NDArray[np.int64]  # row of the PostTable
    items: list[str]  # item code -> what an analyst reads (URL, shared post, text, hashtags)


def share_item(shared: str, text: str) -> str:
    """The item a reshare acts on: what it names, or for a forward that names only a channel,
    the channel and the forwarded text."""
    s = shared.strip()
    if "://" in s or "/" in s or "#" in s:
        return s
    # a forward names only the channel it came from (Telegram exports): the item is the
    # channel plus the forwarded text
    return f"{s} | {k.post_text(text)[:200]}"


def build_actions(
    posts: PostTable, acc: NDArray[np.int64], kinds: Sequence[str], post_params: Params
) -> dict[str, Actions]:
    """Actions of each kind from the posts; ``acc`` is each post's account code."""
    out: dict[str, Actions] = {}
    if "link" in kinds:
        items = k.Codes()
        rows: list[int] = []
        codes: list[int] = []
        memo: dict[str, str | None] = {}
        for i, links in enumerate(posts.links):
            seen: set[int] = set()
            for url in links:
                norm = memo.get(url, "")
                if norm == "":
                    norm = memo[url] = k.normalize_url(url, posts.resolved)
                if norm is None:
                    continue
                c = items.code(norm)
                if c not in seen:
                    seen.add(c)
                    rows.append(i)
                    codes.append(c)
        r = np.asarray(rows, dtype=np.int64)
        out["link"] = Actions("link", acc[r], np.asarray(codes, dtype=np.int64), posts.time[r], r, items.names)
    if "share" in kinds:
        where: dict[str, int] = {}
        for i, keys in enumerate(posts.keys):
            for key in keys:
                where.setdefault(key, i)
        items = k.Codes()
        rows, codes = [], []
        seeds: dict[int, int] = {}
        for i, shared in enumerate(posts.shared_from):
            if not shared:
                continue
            key = share_item(shared, posts.text[i])
            c = items.code(key)
            rows.append(i)
            codes.append(c)
            origin = where.get(shared.strip())
            if origin is not None and origin != i:
                seeds[c] = origin
        # the author of the reshared post acted on it too, when it was posted
        for c, origin in seeds.items():
            rows.append(origin)
            codes.append(c)
        r = np.asarray(rows, dtype=np.int64)
        out["share"] = Actions("share", acc[r], np.asarray(codes, dtype=np.int64), posts.time[r], r, items.names)
    if "post" in kinds:
        texts = [k.post_text(t[: post_params.post_chars]) for t in posts.text]
        near = k.near_duplicate_items(
            texts, threshold=post_params.post_threshold, min_tokens=post_params.post_min_tokens
        )
        r = np.flatnonzero(near >= 0).astype(np.int64)
        items_arr = near[r]
        # show each class by its first text
        names: dict[int, str] = {}
        for i, c in zip(r.tolist(), items_arr.tolist(), strict=True):
            names.setdefault(c, posts.text[i][:280])
        uniq, dense = np.unique(items_arr, return_inverse=True)
        labels = [names[int(c)] for c in uniq.tolist()]
        out["post"] = Actions("post", acc[r], dense.astype(np.int64), posts.time[r], r, labels)
    if "hashtag" in kinds:
        items = k.Codes()
        rows, codes = [], []
        for i, text in enumerate(posts.text):
            seq = k.hashtag_sequence(text)
            if seq:
                rows.append(i)
                codes.append(items.code(seq))
        r = np.asarray(rows, dtype=np.int64)
        out["hashtag"] = Actions("hashtag", acc[r], np.asarray(codes, dtype=np.int64), posts.time[r], r, items.names)
    return out


@dataclass(slots=True)
class KindResult:
    kind: str
    window: k.WindowEstimate
    actions: int
    pairs: int  # pairs with at least one co-action
    repeated: int  # pairs with at least min_repeat distinct items
    kept: int
    scores: k.PairScores
    details: k.PairCoActions
    chance_rate: float


@dataclass(slots=True)
class Group:
    members: list[int]  # account codes
    score: float
    density: float
    edges: list[dict[str, Any]]
    items: list[dict[str, Any]]  # shared items with each member's action and delay
    kinds: dict[str, int]
    fastest_s: float | None
    median_s: float | None
    first_at: float | None
    last_at: float | None
    hijacked: list[int]
    platforms: list[str]
    languages: list[str]


@dataclass(slots=True)
class Detection:
    accounts: k.Codes
    kinds: dict[str, KindResult]
    groups: list[Group]
    params: Params

    def windows(self) -> dict[str, dict[str, object]]:
        return {kind: r.window.as_dict() for kind, r in self.kinds.items()}


def score_kind(acts: Actions, n_accounts: int, params: Params) -> KindResult:
    if params.windows.get(acts.kind) is not None:
        win = k.WindowEstimate(float(params.windows[acts.kind]), 0, 0, "given")
    elif params.window is not None:
        win = k.WindowEstimate(float(params.window), 0, 0, "given")
    else:
        win = k.estimate_window(acts.item, acts.time, cap=params.window_cap)
    kw = {"max_item_accounts": params.max_item_accounts}
    keys, counts = k.pair_counts(acts.account, acts.item, acts.time, win.seconds, n_accounts, **kw)
    repeated = keys[counts >= params.min_repeat]
    details = k.pair_details(acts.account, acts.item, acts.time, win.seconds, n_accounts, repeated, **kw)
    activity = k.account_item_counts(acts.account, acts.item, n_accounts)
    popularity = k.item_account_counts(acts.account, acts.item)
    return score_counted(acts.kind, win, int(acts.item.size), int(keys.size), int(repeated.size),
                         int(counts.sum()), details, activity, popularity, n_accounts, params)


def score_counted(
    kind: str,
    win: k.WindowEstimate,
    n_actions: int,
    n_pairs: int,
    n_repeated: int,
    total: int,
    details: k.PairCoActions,
    activity: NDArray[np.int64],
    popularity: NDArray[np.int64],
    n_accounts: int,
    params: Params,
) -> KindResult:
    """The chance-corrected scores of one kind from its counts: ``n_pairs`` pairs that co-acted
    (``total`` co-actions, one per pair and item), the co-actions of the ``n_repeated`` that
    repeat (``details``), each account's activity and each item's popularity. ``score_kind``
    counts in memory; ``batch.coordination`` counts on Spark and scores here."""
    # Chance is estimated from every pair's co-actions (the maximum-likelihood rate under
    # independence), then again without the pairs found beyond chance, until nothing changes:
    # a campaign's own co-actions must not raise the bar it is tested against.
    possible = k.possible_pairs(activity)
    out_keys = np.empty(0, dtype=np.int64)
    rate = k.chance_rate(total, activity)
    for _ in range(8):
        scores = k.score_pairs(
            details,
            n_accounts=n_accounts,
            activity=activity,
            popularity=popularity,
            chance_rate=rate,
            episode_gap=max(params.episode_gap, win.seconds),
            min_repeat=params.min_repeat,
            alpha=params.alpha,
            tested=n_pairs,
            min_weight=params.min_weight,
        )
        kept_keys = scores.key[scores.kept]
        if np.array_equal(kept_keys, out_keys):
            break
        out_keys = kept_keys
        a, b = kept_keys // n_accounts, kept_keys % n_accounts
        kept_total = int(scores.count[scores.kept].sum())
        kept_possible = float((activity[a].astype(np.float64) * activity[b]).sum())
        rate = (total - kept_total) / (possible - kept_possible) if possible > kept_possible else 0.0
    return KindResult(kind, win, n_actions, n_pairs, n_repeated, int(scores.kept.sum()), scores, details, rate)


def detect(posts: PostTable, params: Params | None = None, accounts: k.Codes | None = None) -> Detection:
    """Groups of coordinated accounts in ``posts``."""
    params = params or Params()
    accounts = accounts or k.Codes()
    acc = accounts.codes(posts.account)
    acts = build_actions(posts, acc, params.kinds, params)
    first_seen = np.full(len(accounts), np.inf)
    np.minimum.at(first_seen, acc, posts.time)
    return detect_actions(acts, accounts, params, posts, first_seen)


def detect_actions(
    acts: Mapping[str, Actions],
    accounts: k.Codes,
    params: Params,
    posts: PostTable | None = None,
    first_seen: NDArray[np.float64] | None = None,
) -> Detection:
    """Groups from ready-made actions (``first_seen``: each account's first post, for the
    taken-over check; its first action when not given)."""
    n = max(len(accounts), 1)
    results = {kind: score_kind(a, n, params) for kind, a in acts.items() if a.item.size}
    return groups_of(results, acts, accounts, params, posts, first_seen)


def groups_of(
    results: Mapping[str, KindResult],
    acts: Mapping[str, Actions],
    accounts: k.Codes,
    params: Params,
    posts: PostTable | None = None,
    first_seen: NDArray[np.float64] | None = None,
) -> Detection:
    """Groups from the scored kinds: Leiden communities of the kept pairs, each checked and
    described (``acts`` needs the actions of the kept pairs' accounts on their shared items)."""
    n = max(len(accounts), 1)
    # one graph: an edge per pair kept in any kind, weighted by its popularity-weighted repeats
    ek: list[NDArray[np.int64]] = []
    ew: list[NDArray[np.float64]] = []
    for r in results.values():
        ek.append(r.scores.key[r.scores.kept])
        ew.append(r.scores.weight[r.scores.kept])
    keys = np.concatenate(ek) if ek else np.empty(0, dtype=np.int64)
    weights = np.concatenate(ew) if ew else np.empty(0)
    ukeys: NDArray[np.int64] = keys
    uw: NDArray[np.float64] = weights
    if keys.size:
        ukeys, inv = np.unique(keys, return_inverse=True)
        uw = np.bincount(inv, weights=weights).astype(np.float64)
    a, b = ukeys // n, ukeys % n
    comm = k.communities(n, a, b, uw, seed=params.seed, dense=params.min_density)
    groups: list[Group] = []
    edge_set = set(ukeys.tolist())
    for c in np.unique(comm[comm >= 0]).tolist():
        members = np.flatnonzero(comm == c)
        if members.size < params.min_group:
            continue
        g = _group(members, edge_set, n, results, acts, params, posts, first_seen)
        if g is not None:
            groups.append(g)
    groups.sort(key=lambda g: (-g.score, -len(g.members), g.members[0]))
    return Detection(accounts, dict(results), groups, params)


def _group(
    members: NDArray[np.int64],
    edge_set: set[int],
    n: int,
    results: Mapping[str, KindResult],
    acts: Mapping[str, Actions],
    params: Params,
    posts: PostTable | None,
    first_seen: NDArray[np.float64] | None,
) -> Group | None:
    mem = members.tolist()
    mset = set(mem)
    possible = len(mem) * (len(mem) - 1) / 2
    internal = [x * n + y for i, x in enumerate(mem) for y in mem[i + 1 :] if x * n + y in edge_set]
    density = len(internal) / possible if possible else 0.0
    if density < params.min_density:
        return None
    edges: list[dict[str, Any]] = []
    episodes: list[int] = []
    delays: list[float] = []
    kinds: dict[str, int] = {}
    internal_arr = np.asarray(internal, dtype=np.int64)
    member_pairs = np.asarray([x * n + y for i, x in enumerate(mem) for y in mem[i + 1 :]], dtype=np.int64)
    for kind, r in results.items():
        s = r.scores
        sel = np.flatnonzero(np.isin(s.key, internal_arr) & s.kept)
        for i in sel.tolist():
            key = int(s.key[i])
            edges.append(
                {
                    "a": key // n,
                    "b": key % n,
                    "kind": kind,
                    "count": int(s.count[i]),
                    "episodes": int(s.episodes[i]),
                    "weight": round(float(s.weight[i]), 4),
                    "expected": float(s.expected[i]),
                    "p_value": float(s.p_value[i]),
                    "fastest_s": round(float(s.fastest[i]), 3),
                    "median_s": round(float(s.median[i]), 3),
                }
            )
            episodes.append(int(s.episodes[i]))
        # the group's co-actions of this kind: every repeated member pair's, whichever kind
        # made the pair significant (a kind only the group uses has no background to beat)
        d = r.details
        rows = np.isin(d.key, member_pairs)
        delays.extend(d.delay[rows].tolist())
        kinds[kind] = int(rows.sum())
    if not edges:
        return None
    med_ep = float(np.median(episodes))
    score = round(density * (1.0 - float(np.exp(-(med_ep - 1.0) / 2.0))), 4)
    if score < params.min_score:
        return None
    items, first_act = _shared_items(mset, member_pairs, results, acts)
    times = [x["at"] for it in items for x in it["actions"]]
    first_at = min(times) if times else None
    last_at = max(times) if times else None
    hijacked = _hijacked(mem, first_act, first_at, last_at, acts, first_seen)
    platforms: set[str] = set()
    languages: set[str] = set()
    if posts is not None:
        for it in items:
            for x in it["actions"]:
                p = x["post"]
                if posts.platform:
                    platforms.add(posts.platform[p])
                if posts.language and posts.language[p]:
                    languages.add(str(posts.language[p]))
    return Group(
        members=mem,
        score=score,
        density=round(density, 4),
        edges=edges,
        items=items,
        kinds=kinds,
        fastest_s=round(min(delays), 3) if delays else None,
        median_s=round(float(np.median(delays)), 3) if delays else None,
        first_at=first_at,
        last_at=last_at,
        hijacked=hijacked,
        platforms=sorted(platforms),
        languages=sorted(languages),
    )


def _shared_items(
    mset: set[int], member_pairs: NDArray[np.int64], results: Mapping[str, KindResult], acts: Mapping[str, Actions]
) -> tuple[list[dict[str, Any]], dict[int, float]]:
    """Items two or more members co-acted on, with every member's first action on each and its
    delay after the first member's."""
    items: list[dict[str, Any]] = []
    first_act: dict[int, float] = {}
    mem = np.asarray(sorted(mset), dtype=np.int64)
    for kind, r in results.items():
        d = r.details
        a = acts[kind]
        rows = np.isin(d.key, member_pairs)
        item_codes = np.unique(d.item[rows])
        if item_codes.size == 0:
            continue
        sel = np.flatnonzero(np.isin(a.account, mem) & np.isin(a.item, item_codes))
        order = sel[np.lexsort((a.time[sel], a.item[sel]))]
        by_item: dict[int, list[int]] = {}
        for i in order.tolist():
            by_item.setdefault(int(a.item[i]), []).append(i)
        for code, idx in by_item.items():
            seen: dict[int, int] = {}
            for i in idx:
                seen.setdefault(int(a.account[i]), i)
            if len(seen) < 2:
                continue
            t0 = min(float(a.time[i]) for i in seen.values())
            actions = sorted(
                (
                    {
                        "account": acc,
                        "post": int(a.post[i]),
                        "at": float(a.time[i]),
                        "delay_s": round(float(a.time[i]) - t0, 3),
                    }
                    for acc, i in seen.items()
                ),
                key=lambda x: (x["at"], x["account"]),
            )
            for x in actions:
                acc_code, at = int(x["account"]), float(x["at"])
                first_act[acc_code] = min(first_act.get(acc_code, at), at)
            items.append({"kind": kind, "item": a.items[code], "at": t0, "actions": actions})
    items.sort(key=lambda x: (x["at"], x["kind"], x["item"]))
    return items, first_act


def _hijacked(
    mem: list[int],
    first_act: Mapping[int, float],
    first_at: float | None,
    last_at: float | None,
    acts: Mapping[str, Actions],
    first_seen: NDArray[np.float64] | None,
    *,
    old_days: float = 30.0,
    late_share: float = 0.25,
) -> list[int]:
    """Members that look taken over: seen long before (``old_days``) their first co-action,
    which came late in the group's life (after ``late_share`` of its active period)."""
    if first_at is None or last_at is None or last_at <= first_at:
        return []
    seen_at: dict[int, float] = {}
    if first_seen is not None:
        seen_at = {m: float(first_seen[m]) for m in mem if m < first_seen.size}
    else:
        for a in acts.values():
            sel = np.isin(a.account, np.asarray(mem, dtype=np.int64))
            for acc, t in zip(a.account[sel].tolist(), a.time[sel].tolist(), strict=True):
                seen_at[acc] = min(seen_at.get(acc, t), t)
    out = []
    span = last_at - first_at
    for m in mem:
        joined, seen = first_act.get(m), seen_at.get(m)
        if joined is None or seen is None:
            continue
        if joined - first_at > late_share * span and joined - seen > old_days * 86400:
            out.append(m)
    return out


# --- the stage --------------------------------------------------------------------------------


def _epoch(value: Any) -> float:
    from datetime import UTC

    # naive datetimes from the store are UTC already (SQLite keeps no zone)
    return float(value.replace(tzinfo=UTC).timestamp() if value.tzinfo is None else value.timestamp())


def _at(seconds: float | None) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def posts_from_store(conn: Any) -> PostTable:
    """Every stored document with a source and a time, as the detector's columns."""
    from fimiscope.store import coordination as db

    cols: dict[str, list[Any]] = {
        x: [] for x in ("account", "time", "links", "shared_from", "text", "ref", "keys", "platform", "language")
    }
    resolved: dict[str, str] = {}
    for (
        doc_id,
        key,
        url,
        external_id,
        platform,
        language,
        links,
        shared_from,
        title,
        text,
        at,
        meta,
        source,
    ) in db.iter_posts(conn):
        if at is None:
            continue
        cols["account"].append(source)
        cols["time"].append(_epoch(at))
        cols["links"].append([u for u in (links or []) if isinstance(u, str)])
        cols["shared_from"].append(shared_from)
        cols["text"].append(f"{title} {text}" if title else text)
        cols["ref"].append(doc_id)
        keys = [key]
        if external_id:
            keys.append(f"{source}/{external_id}")
        if url:
            keys.append(url)
        cols["keys"].append(keys)
        cols["platform"].append(platform)
        cols["language"].append(language)
        # collectors that expand shortened links record them (metadata.resolved_links: {short: long})
        expanded = meta.get("resolved_links") if isinstance(meta, dict) else None
        if isinstance(expanded, dict):
            resolved.update({str(a): str(b) for a, b in expanded.items() if isinstance(b, str)})
    return PostTable(
        account=cols["account"],
        time=np.asarray(cols["time"], dtype=np.float64),
        links=cols["links"],
        shared_from=cols["shared_from"],
        text=cols["text"],
        ref=cols["ref"],
        keys=cols["keys"],
        platform=cols["platform"],
        language=cols["language"],
        resolved=resolved,
    )


_ITEM_WORDS = {"link": "links", "share": "reshared posts", "post": "texts", "hashtag": "hashtag sequences"}
MAX_EVIDENCE = 400  # evidence rows per signal; the group page lists every action


@register
class CoordinationStage(Stage):
    """Looks at the whole store at once (pairs span any two posts), so it reruns when new
    documents have arrived since its watermark, and writes every group and signal in one
    transaction: a killed run leaves the previous run's groups in place."""

    name = "detect.coordination"
    order = 70
    description = "Accounts and outlets acting in concert: co-link, co-share, co-post, co-hashtag groups and signals."

    def __init__(self, params: Params | None = None, *, force: bool = False) -> None:
        self.params = params or Params()
        self.force = force
        self.detection: Detection | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> CoordinationStage:
        window = settings.coordination_window_s or None
        return cls(Params(window=window, min_repeat=settings.coordination_min_repeat))

    def run(self, store: Any, *, batch_size: int, progress: Any) -> StageReport:
        from fimiscope.core.ids import new_id
        from fimiscope.store import coordination as db

        with store.connect() as conn:
            report = StageReport(stage=self.name, watermark=watermark_store.watermark(conn, self.name))
            top = document_store.max_document_seq(conn)
        if top <= report.watermark and not self.force:
            report.details = {"skipped": "no new documents since the last run"}
            return report
        with store.transaction() as conn:
            posts = posts_from_store(conn)
            progress(0, len(posts))
            found = detect(posts, self.params)
            self.detection = found
            names = found.accounts.names
            facts = db.source_facts(conn, [names[m] for g in found.groups for m in g.members])
            member_sets = [{names[m] for m in g.members} for g in found.groups]
            ids = k.stable_group_ids(member_sets, db.active_groups(conn), lambda: new_id("grp_"))
            rows = [group_row(gid, g, names, found.windows(), found.params.as_dict(), posts.ref, facts)
                    for gid, g in zip(ids, found.groups, strict=True)]
            db.write_groups(conn, rows)
            signals = [group_signal(row) for row in rows]
            if signals:
                signal_store.upsert_signals(conn, signals)
            for row, sig in zip(rows, signals, strict=True):
                db.set_signal(conn, row["id"], sig.id)
            db.record_run(
                conn,
                {
                    "posts": len(posts),
                    "groups": len(rows),
                    "windows": found.windows(),
                    "parameters": self.params.as_dict(),
                    "counts": {
                        kind: {"actions": r.actions, "pairs": r.pairs, "repeated": r.repeated, "kept": r.kept}
                        for kind, r in found.kinds.items()
                    },
                },
            )
            watermark_store.set_watermark(conn, self.name, top)
        report.processed = len(posts)
        report.signals = len(signals)
        report.watermark = top
        report.details = {"groups": [r["id"] for r in rows], "windows": found.windows()}
        progress(len(posts), len(posts))
        return report



def group_row(
    gid: str,
    g: Group,
    names: Sequence[str],
    windows: Mapping[str, Any],
    parameters: Mapping[str, Any],
    refs: Sequence[str],
    facts: Mapping[str, Any],
) -> dict[str, Any]:
    """The stored form of a group (``store.coordination.write_groups``): ``names`` of the
    account codes, ``refs`` (document ids) of the post rows, ``facts`` of the sources."""
    affiliations: dict[str, int] = {}
    members = []
    counts: dict[int, int] = {}
    first: dict[int, float] = {}
    for it in g.items:
        for x in it["actions"]:
            counts[x["account"]] = counts.get(x["account"], 0) + 1
            first[x["account"]] = min(first.get(x["account"], x["at"]), x["at"])
    for m in sorted(g.members, key=lambda m: names[m]):
        f = facts.get(names[m], {})
        tier = f.get("affiliation") or "unknown"
        affiliations[tier] = affiliations.get(tier, 0) + 1
        members.append(
            {
                "account": names[m],
                "source_id": f.get("id"),
                "platform": f.get("platform"),
                "affiliation": tier,
                "first_action_at": _at(first.get(m)),
                "actions": counts.get(m, 0),
                "hijacked": m in g.hijacked,
            }
        )
    edges = [
        {
            "account_a": min(names[e["a"]], names[e["b"]]),
            "account_b": max(names[e["a"]], names[e["b"]]),
            "kind": e["kind"],
            "count": e["count"],
            "episodes": e["episodes"],
            "weight": e["weight"],
            "expected": e["expected"],
            "p_value": e["p_value"],
            "fastest_s": e["fastest_s"],
            "median_s": e["median_s"],
        }
        for e in g.edges
    ]
    actions = [
        {
            "item_index": i,
            "account": names[x["account"]],
            "kind": it["kind"],
            "item": it["item"],
            "document_id": refs[x["post"]],
            "at": _at(x["at"]),
            "delay_s": x["delay_s"],
        }
        for i, it in enumerate(g.items)
        for x in it["actions"]
    ]
    return {
        "id": gid,
        "size": len(g.members),
        "score": g.score,
        "density": g.density,
        "kinds": g.kinds,
        "platforms": g.platforms or sorted({m["platform"] for m in members if m["platform"]}),
        "languages": g.languages,
        "affiliations": affiliations,
        "fastest_s": g.fastest_s,
        "median_s": g.median_s,
        "first_at": _at(g.first_at),
        "last_at": _at(g.last_at),
        "signal_id": None,
        "details": {
            "windows": dict(windows),
            "parameters": dict(parameters),
            "hijacked": [names[m] for m in g.hijacked],
            "items": len(g.items),
        },
        "members": members,
        "edges": edges,
        "actions": actions,
    }


def group_signal(row: Mapping[str, Any]) -> Signal:
    """The ``coordination`` signal of a stored group's row."""
    shared: dict[str, set[int]] = {}
    for a in row["actions"]:
        shared.setdefault(a["kind"], set()).add(a["item_index"])
    kinds = "shared " + ", ".join(f"{len(v)} {_ITEM_WORDS.get(kind, kind)}" for kind, v in sorted(shared.items()))
    evidence = [
        Evidence(
            document_id=a["document_id"],
            role="co_action",
            score=None,
            details={
                "kind": a["kind"],
                "item": a["item"],
                "account": a["account"],
                "at": a["at"].isoformat() if a["at"] else None,
                "delay_s": a["delay_s"],
                "item_index": a["item_index"],
            },
        )
        for a in row["actions"][:MAX_EVIDENCE]
    ]
    fastest = row["fastest_s"]
    return Signal(
        type="coordination",
        title=f"{row['size']} accounts acting in concert ({', '.join(row['platforms']) or 'web'})",
        summary=(
            f"{kinds}; fastest delay {fastest:.0f} s, median {row['median_s']:.0f} s"
            if fastest is not None
            else kinds
        ),
        score=float(row["score"]),
        detector=CoordinationStage.name,
        detector_version=VERSION,
        parameters={**row["details"]["parameters"], "windows": row["details"]["windows"]},
        evidence=evidence,
        key=f"coordination:{row['id']}",
        details={
            "group_id": row["id"],
            "accounts": [m["account"] for m in row["members"]],
            "kinds": row["kinds"],
            "fastest_s": row["fastest_s"],
            "median_s": row["median_s"],
            "first_at": row["first_at"].isoformat() if row["first_at"] else None,
            "last_at": row["last_at"].isoformat() if row["last_at"] else None,
            "platforms": row["platforms"],
            "languages": row["languages"],
            "affiliations": row["affiliations"],
            "hijacked": row["details"]["hijacked"],
            "density": row["density"],
            "evidence_truncated": len(row["actions"]) > MAX_EVIDENCE,
        },
    )
