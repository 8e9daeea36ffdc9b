"""Where the laundering stage's time goes as the store grows: per window of batches, the wall
and CPU time per document, the time in SQL, and what the stage fetched per document (candidate
units from the LSH buckets, documents sharing rare anchors, verified pairs, cluster members
loaded). A cost that grows with the store shows as a column that grows down the table.

    python benchmarks/laundering_profile.py --n 10000 [--legacy-corpus] [--window 2000] [--given-languages]

``--legacy-corpus`` writes the scale corpus as it was before sentences were spliced (each
original a run of sentences of one of ~2,500 articles), to compare. ``--given-languages``: each
document carries the language its text was drawn from (spliced corpus only), so the language
stage is not run first. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--legacy-corpus", action="store_true")
    parser.add_argument("--skip-language", action="store_true")
    parser.add_argument("--given-languages", action="store_true",
                        help="documents carry their language: the language stage is not run")
    parser.add_argument("--cprofile", action="store_true", help="cProfile the first and the last window")
    parser.add_argument("--target", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    import sqlalchemy as sa

    from fimiscope import pipeline
    from fimiscope.collect.generic import open_input, read_jsonl
    from fimiscope.config import Settings
    from fimiscope.detect import laundering as stage_mod
    from fimiscope.store import Store
    from fimiscope.store import laundering as db

    work = Path(tempfile.mkdtemp(prefix="fimiscope-lprof-"))
    data = work / "c.jsonl"
    if args.given_languages and args.legacy_corpus:
        parser.error("--given-languages needs the spliced corpus")
    copies = write_corpus(data, args.n, splice=not args.legacy_corpus, languages=args.given_languages)
    target = args.target or f"sqlite:///{work / 's.sqlite3'}"
    cfg = Settings(database_url=target)
    store = Store.from_settings(cfg)
    with open_input(data) as stream:
        pipeline.ingest(store, read_jsonl(stream))
    if not (args.skip_language or args.given_languages):
        pipeline.run(store, only=["extract.language"], settings=cfg)

    c: Counter[str] = Counter()
    sql = {"s": 0.0, "t0": 0.0}

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def _before(*_a: Any) -> None:
        sql["t0"] = time.perf_counter()

    @sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
    def _after(*_a: Any) -> None:
        sql["s"] += time.perf_counter() - sql["t0"]
        c["statements"] += 1

    def counting(name: str, fn: Any, measure: Any) -> Any:
        def wrapped(*a: Any, **k: Any) -> Any:
            out = fn(*a, **k)
            c[name] += measure(a, out)
            return out
        return wrapped

    db.bucket_matches = counting("bucket_rows", db.bucket_matches, lambda a, out: len(out))
    db.units = counting("candidate_units", db.units, lambda a, out: len(out))
    db.documents_with_anchors = counting("anchor_hits", db.documents_with_anchors, lambda a, out: len(out))
    db.get_cluster = counting("cluster_members", db.get_cluster, lambda a, out: len(out["members"]))
    db.members_of = counting("recluster_members", db.members_of, lambda a, out: sum(map(len, out.values())))
    db.edges_touching = counting("edges_loaded", db.edges_touching, lambda a, out: len(out))
    orig_write = stage_mod.LaunderingStage._write_edges
    stage_mod.LaunderingStage._write_edges = lambda self, m, conn: (c.update(pairs=len(m)), orig_write(self, m, conn))[1]

    windows: list[dict[str, Any]] = []
    state = {"docs": 0, "t": time.perf_counter(), "cpu": time.process_time(), "sql": 0.0, "c": Counter()}
    orig_process = stage_mod.LaunderingStage.process

    def flush() -> None:
        n = state["docs"]
        if not n:
            return
        row = {"upto": (windows[-1]["upto"] if windows else 0) + n, "docs": n,
               "ms_per_doc": round(1000 * (time.perf_counter() - state["t"]) / n, 2),
               "cpu_ms_per_doc": round(1000 * (time.process_time() - state["cpu"]) / n, 2),
               "sql_ms_per_doc": round(1000 * (sql["s"] - state["sql"]) / n, 2)}
        for k in ("statements", "bucket_rows", "candidate_units", "pairs", "anchor_hits", "cluster_members",
                  "recluster_members", "edges_loaded"):
            row[k] = round((c[k] - state["c"][k]) / n, 2)
        windows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        state.update(docs=0, t=time.perf_counter(), cpu=time.process_time(), sql=sql["s"], c=Counter(c))

    import cProfile
    import pstats

    profiles: dict[str, cProfile.Profile] = {}

    def process(self: Any, store: Any, docs: Any, conn: Any) -> int:
        done = (windows[-1]["upto"] if windows else 0) + state["docs"]
        which = "first" if done < args.window else "last" if done >= args.n - args.window else ""
        prof = profiles.setdefault(which, cProfile.Profile()) if args.cprofile and which else None
        if prof:
            prof.enable()
        out = orig_process(self, store, docs, conn)
        if prof:
            prof.disable()
        state["docs"] += len(docs)
        if state["docs"] >= args.window:
            flush()
        return out

    stage_mod.LaunderingStage.process = process
    start = time.perf_counter()
    report = pipeline.run(store, only=["detect.laundering"], settings=cfg)[0]
    flush()
    total = time.perf_counter() - start
    for which, prof in profiles.items():
        print(f"--- cProfile, {which} window (tottime, top 20)")
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    print(f"{args.n} documents ({copies} planted copies, {'legacy' if args.legacy_corpus else 'spliced'} corpus): "
          f"{report.processed / total:.1f} docs/s, {report.signals} signals, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, load average {os.getloadavg()[0]:.1f}")
    print(json.dumps({"n": args.n, "legacy": args.legacy_corpus, "docs_per_s": report.processed / total,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "windows": windows}))


if __name__ == "__main__":
    main()
