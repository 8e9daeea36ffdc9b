"""Co-link and co-share (co-retweet) networks: fimiscope's kernel beside the QUT
coordination-network-toolkit (1.5.2), on the same posts, at the same window.

    nice -n 10 python benchmarks/coordination_bench.py --n 1000000 [--n 10000000] [--window 60]
        [--post-n 1000000] [--toolkit-max N] [--toolkit-timeout S]

Synthetic posts (seeded): skewed account activity (one account per 50 posts, the busiest
with about 0.2 % of posts at 10M), 60 % carry one link (skewed popularity over one URL per 5
posts, the top URL about 0.6 % of links), 30 % reshare an item (one per 10 posts, skewed the
same way), spread over 30 days. Each contender runs in its own process, so its peak memory (max RSS, its worker
processes included) is its own:

* ``toolkit``: ``preprocess_data`` into its SQLite file, then ``compute_co_link_network`` and
  ``compute_co_retweet_parallel`` (2 worker processes: this machine has 2 cores).
* ``ours``: strings to codes (``index/coaction.Codes``; URLs normalised), then
  ``pair_counts`` per kind, in chunks of 2M actions.
* ``ours-detect``: the whole detector core (window estimated, chance correction, Leiden) on
  link + share, to show what the analysis costs beyond the raw networks.
* ``ours-post`` (``--post-n``): the co-post kind on texts (near-duplicate classes with the
  MinHash kernel, then pairs), templates reworded like the eval's.
* ``ours, whole stage`` (``--stage-n``): ``detect.coordination`` on a SQLite store of that
  many posts with links, reshares and texts: reading the store, every kind, writing groups.

Agreement: the toolkit's edges (user_1 != user_2, undirected) against ours, as a Jaccard of
the edge sets at weight >= 1 (any co-action) and at weight >= 2 (ours: distinct items; the
toolkit's: distinct messages of user_1, so the two weights can differ on a user's repeated
posts of one item). Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DAYS = 30


def _skewed(rng: np.random.Generator, n: int, size: int, power: float) -> np.ndarray:
    """Ids 0..size-1, the low ones most popular: floor(size * u**power). The most popular id
    gets about size**(-1/power) of the draws (a few percent at most here), unlike a Zipf draw,
    whose first id would take a quarter of every share and make one URL a quadratic monster."""
    return np.minimum((size * rng.random(n) ** power).astype(np.int64), size - 1)


def generate(n: int, folder: Path, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    account = _skewed(rng, n, max(n // 50, 10), 2.0)
    t = np.sort(rng.uniform(0, DAYS * 86400, size=n)).astype(np.int64) + 1_600_000_000
    kind = rng.random(n)
    has_link = kind < 0.6
    is_share = (kind >= 0.6) & (kind < 0.9)
    url = np.where(has_link, _skewed(rng, n, max(n // 5, 10), 3.0), -1)
    share = np.where(is_share, _skewed(rng, n, max(n // 10, 10), 3.0), -1)
    np.savez(folder / "posts.npz", account=account, time=t, url=url, share=share)


def _load(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "posts.npz") as z:
        return {k: z[k] for k in z.files}


def _peak_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def _url(u: int) -> str:
    return f"https://www.site{u % 997}.example/story/{u}?utm_source=feed"


def worker_toolkit(folder: Path, window: float) -> dict[str, Any]:
    from coordination_network_toolkit.compute_networks import compute_co_link_network, compute_co_retweet_parallel
    from coordination_network_toolkit.preprocess import preprocess_data

    d = _load(folder)
    db = str(folder / "toolkit.db")
    if os.path.exists(db):
        os.remove(db)
    t0 = time.perf_counter()
    rows = (
        (
            str(i),
            str(int(a)),
            "",
            (f"r{int(s)}" if s >= 0 else None),
            None,
            "",
            int(tm),
            [_url(int(u))] if u >= 0 else [],
        )
        for i, (a, tm, u, s) in enumerate(zip(d["account"], d["time"], d["url"], d["share"], strict=True))
    )
    preprocess_data(db, rows)
    t1 = time.perf_counter()
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        compute_co_link_network(db, window, n_threads=2, min_edge_weight=1)
        compute_co_retweet_parallel(db, window, n_threads=2, min_edge_weight=1)
    t2 = time.perf_counter()
    import sqlite3

    con = sqlite3.connect(db)
    edges: dict[str, dict[str, int]] = {}
    for table, kind in (("co_link_network", "link"), ("co_retweet_network", "share")):
        e: dict[str, int] = {}
        for u1, u2, w in con.execute(f"select user_1, user_2, weight from {table} where user_1 != user_2"):
            a, b = sorted((int(u1), int(u2)))
            key = f"{a}-{b}"
            e[key] = max(e.get(key, 0), int(w))
        edges[kind] = e
    con.close()
    out = folder / "toolkit_edges.json"
    out.write_text(json.dumps(edges))
    return {
        "prepare_s": t1 - t0,
        "network_s": t2 - t1,
        "peak_mb": _peak_mb(),
        "edges": str(out),
        "db_mb": os.path.getsize(db) / 2**20,
    }


def _actions(d: dict[str, np.ndarray]) -> tuple[Any, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Strings as the detector sees them (account names, URLs) to codes, per kind."""
    from fimiscope.index import coaction as k

    accounts = k.Codes()
    acc = accounts.codes([f"x:{int(a)}" for a in d["account"]])
    has = d["url"] >= 0
    items = k.Codes()
    memo: dict[int, int] = {}
    codes = []
    for u in d["url"][has].tolist():
        c = memo.get(u)
        if c is None:
            c = memo[u] = items.code(k.normalize_url(_url(u)) or "")
        codes.append(c)
    sh = d["share"] >= 0
    share_items = k.Codes()
    share_codes = share_items.codes([f"r{int(s)}" for s in d["share"][sh]])
    t = d["time"].astype(np.float64)
    return accounts, {
        "link": (acc[has], np.asarray(codes, dtype=np.int64), t[has]),
        "share": (acc[sh], share_codes, t[sh]),
    }


def worker_ours(folder: Path, window: float) -> dict[str, Any]:
    from fimiscope.index import coaction as k

    d = _load(folder)
    t0 = time.perf_counter()
    accounts, acts = _actions(d)
    del d
    t1 = time.perf_counter()
    n = len(accounts)
    edges: dict[str, dict[str, int]] = {}
    for kind, (a, it, t) in acts.items():
        keys, counts = k.pair_counts(a, it, t, window, n, max_item_accounts=None)
        # account codes back to the generator's account numbers
        names = accounts.names
        lo, hi = keys // n, keys % n
        e = {}
        for x, y, c in zip(lo.tolist(), hi.tolist(), counts.tolist(), strict=True):
            p, q = sorted((int(names[x][2:]), int(names[y][2:])))
            e[f"{p}-{q}"] = c
        edges[kind] = e
    t2 = time.perf_counter()
    out = folder / "ours_edges.json"
    out.write_text(json.dumps(edges))
    return {"prepare_s": t1 - t0, "network_s": t2 - t1, "peak_mb": _peak_mb(), "edges": str(out)}


def worker_detect(folder: Path, window: float) -> dict[str, Any]:
    from fimiscope.detect.coordination import Actions, Params, detect_actions

    d = _load(folder)
    t0 = time.perf_counter()
    accounts, raw = _actions(d)
    acts = {kind: Actions(kind, a, it, t, np.arange(a.size), []) for kind, (a, it, t) in raw.items()}
    found = detect_actions(acts, accounts, Params(kinds=("link", "share"), window=window))
    secs = time.perf_counter() - t0
    return {
        "prepare_s": 0.0,
        "network_s": secs,
        "peak_mb": _peak_mb(),
        "groups": len(found.groups),
        "windows": found.windows(),
        "kept": {kk: r.kept for kk, r in found.kinds.items()},
    }


def worker_post(folder: Path, window: float, n: int) -> dict[str, Any]:
    from fimiscope.detect.coordination import Params, PostTable, detect

    rng = np.random.default_rng(3)
    vocab = np.array([f"w{i}" for i in range(20000)])
    n_acc = max(n // 50, 10)
    account = [f"x:{int(a)}" for a in (rng.zipf(1.6, size=n) - 1) % n_acc]
    t = np.sort(rng.uniform(0, DAYS * 86400, size=n)) + 1_600_000_000
    # a tenth of posts reword one of n/100 templates, the rest are their own text
    templates = [list(vocab[rng.integers(0, vocab.size, size=18)]) for _ in range(max(n // 100, 1))]
    texts = []
    for _i in range(n):
        if rng.random() < 0.1:
            words = list(templates[int(rng.zipf(1.5)) % len(templates)])
            if rng.random() < 0.3:
                words[int(rng.integers(0, len(words)))] = str(vocab[int(rng.integers(0, vocab.size))])
            texts.append(" ".join(words))
        else:
            texts.append(" ".join(vocab[rng.integers(0, vocab.size, size=int(rng.integers(8, 30)))]))
    posts = PostTable(
        account=account,
        time=t,
        links=[[] for _ in range(n)],
        shared_from=[None] * n,
        text=texts,
        ref=[str(i) for i in range(n)],
    )
    t0 = time.perf_counter()
    found = detect(posts, Params(kinds=("post",), window=window))
    secs = time.perf_counter() - t0
    r = found.kinds["post"]
    return {"prepare_s": 0.0, "network_s": secs, "peak_mb": _peak_mb(), "pairs": r.pairs, "kept": r.kept}


def worker_stage(folder: Path, window: float, n: int) -> dict[str, Any]:
    """The whole stage on a SQLite store of ``n`` posts (links, reshares, texts): reading the
    store, detecting, writing groups and signals. Loading the store is not timed."""
    from datetime import UTC, datetime

    from fimiscope.core.model import Document
    from fimiscope.detect.coordination import CoordinationStage, Params
    from fimiscope.store import Store
    from fimiscope.store import documents as document_store

    generate(n, folder)
    d = _load(folder)
    rng = np.random.default_rng(5)
    vocab = np.array([f"w{i}" for i in range(20000)])
    store = Store.open(None, folder / "store")
    batch: list[Document] = []
    for i, (a, tm, u, sh) in enumerate(zip(d["account"], d["time"], d["url"], d["share"], strict=True)):
        text = " ".join(vocab[rng.integers(0, vocab.size, size=12)])
        batch.append(
            Document(
                text=text,
                external_id=str(i),
                source=f"x:user{int(a)}",
                platform="x",
                published_at=datetime.fromtimestamp(int(tm), tz=UTC),
                links=[_url(int(u))] if u >= 0 else [],
                shared_from=f"x:seed/{int(sh)}" if sh >= 0 else None,
            )
        )
        if len(batch) == 20_000:
            store.write(document_store.upsert_documents, batch)
            batch = []
    if batch:
        store.write(document_store.upsert_documents, batch)
    t0 = time.perf_counter()
    report = CoordinationStage(Params(window=window), force=True).run(store, batch_size=500, progress=lambda *_: None)
    secs = time.perf_counter() - t0
    store.close()
    return {"prepare_s": 0.0, "network_s": secs, "peak_mb": _peak_mb(), "groups": len(report.details["groups"])}


def _run(
    worker: str, folder: Path, window: float, extra: list[str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        worker,
        "--folder",
        str(folder),
        "--window",
        str(window),
        *(extra or []),
    ]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"error": (exc.stderr or "").strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def agreement(ours_path: str, theirs_path: str) -> dict[str, Any]:
    ours = json.loads(Path(ours_path).read_text())
    theirs = json.loads(Path(theirs_path).read_text())
    out = {}
    for kind in ("link", "share"):
        o, t = ours[kind], theirs[kind]
        out[kind] = {
            "edges_ours": len(o),
            "edges_toolkit": len(t),
            "jaccard_w1": round(_jaccard(set(o), set(t)), 4),
            "jaccard_w2": round(_jaccard({e for e, w in o.items() if w >= 2}, {e for e, w in t.items() if w >= 2}), 4),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="posts (repeatable); default 1,000,000")
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--post-n", type=int, default=0, help="also time the co-post kind at this many posts")
    ap.add_argument("--stage-n", type=int, default=0, help="also time the whole stage on a SQLite store this big")
    ap.add_argument("--toolkit-timeout", type=float, default=3 * 3600)
    ap.add_argument("--skip-detect", action="store_true", help="time the raw networks only")
    ap.add_argument("--toolkit-max", type=int, default=None, help="run the toolkit only up to this many posts")
    ap.add_argument("--worker")
    ap.add_argument("--folder", type=Path)
    args = ap.parse_args(argv)
    if args.worker:
        if args.worker == "toolkit":
            res = worker_toolkit(args.folder, args.window)
        elif args.worker == "ours":
            res = worker_ours(args.folder, args.window)
        elif args.worker == "detect":
            res = worker_detect(args.folder, args.window)
        elif args.worker.startswith("stage:"):
            res = worker_stage(args.folder, args.window, int(args.worker.split(":")[1]))
        else:
            res = worker_post(args.folder, args.window, int(args.worker.split(":")[1]))
        print(json.dumps(res))
        return 0
    results: dict[str, Any] = {"window": args.window, "runs": []}
    head = f"{'posts':>11} {'contender':22} {'prepare s':>10} {'network s':>10} {'posts/s':>10} {'peak MB':>8} {'vs toolkit':>10}"
    print(head)
    print("-" * len(head))
    for n in args.n or [1_000_000]:
        with tempfile.TemporaryDirectory(prefix="coord-bench-") as tmp:
            folder = Path(tmp)
            generate(n, folder)
            run: dict[str, Any] = {"posts": n}
            if args.toolkit_max is not None and n > args.toolkit_max:
                run["toolkit"] = {"error": f"not run (--toolkit-max {args.toolkit_max:,})"}
            else:
                run["toolkit"] = _run("toolkit", folder, args.window, timeout=args.toolkit_timeout)
            run["ours"] = _run("ours", folder, args.window)
            run["ours_detect"] = (
                {"error": "not run (--skip-detect)"} if args.skip_detect else _run("detect", folder, args.window)
            )
            tk = run["toolkit"]
            tk_total = tk["prepare_s"] + tk["network_s"] if "error" not in tk else None
            for name in ("toolkit", "ours", "ours_detect"):
                r = run[name]
                if "error" in r:
                    print(f"{n:>11,} {name:22} {r['error']}")
                    continue
                total = r["prepare_s"] + r["network_s"]
                r["posts_per_s"] = n / total
                ratio = f"{tk_total / total:.2f}x" if tk_total else "-"
                print(
                    f"{n:>11,} {name:22} {r['prepare_s']:10.1f} {r['network_s']:10.1f} {n / total:10,.0f} "
                    f"{r['peak_mb']:8.0f} {ratio:>10}"
                )
            if "error" not in tk:
                run["agreement"] = agreement(run["ours"]["edges"], tk["edges"])
                for kind, a in run["agreement"].items():
                    print(
                        f"{'':>11} agreement {kind:6} edges ours {a['edges_ours']:,} toolkit {a['edges_toolkit']:,}; "
                        f"Jaccard w>=1 {a['jaccard_w1']:.4f}, w>=2 {a['jaccard_w2']:.4f}"
                    )
            results["runs"].append(run)
    if args.post_n:
        with tempfile.TemporaryDirectory(prefix="coord-bench-") as tmp:
            r = _run(f"post:{args.post_n}", Path(tmp), args.window)
            results["post"] = {"posts": args.post_n, **r}
            if "error" in r:
                print(f"{args.post_n:>11,} {'ours co-post':22} {r['error']}")
            else:
                print(
                    f"{args.post_n:>11,} {'ours co-post':22} {0.0:10.1f} {r['network_s']:10.1f} "
                    f"{args.post_n / r['network_s']:10,.0f} {r['peak_mb']:8.0f} {'-':>10}"
                )
    if args.stage_n:
        with tempfile.TemporaryDirectory(prefix="coord-bench-") as tmp:
            r = _run(f"stage:{args.stage_n}", Path(tmp), args.window)
            results["stage"] = {"posts": args.stage_n, **r}
            if "error" in r:
                print(f"{args.stage_n:>11,} {'ours, whole stage':22} {r['error']}")
            else:
                print(
                    f"{args.stage_n:>11,} {'ours, whole stage':22} {0.0:10.1f} {r['network_s']:10.1f} "
                    f"{args.stage_n / r['network_s']:10,.0f} {r['peak_mb']:8.0f} {'-':>10}"
                )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
