"""`fimiscope run` stage by stage at growing store sizes: documents/s per stage and peak memory,
on the scale corpus (real news sentences with planted copies, benchmarks/scale_corpus.py);
then `extract.language` with 1 and 2 workers on PostgreSQL (--pg).

Each size runs in a fresh process and a fresh SQLite store (peak memory is its own):

    python benchmarks/pipeline_bench.py --sizes 1000,2000,4000 [--stages language,laundering]
        [--given-languages] [--pg postgresql://postgres@127.0.0.1:5432/test --workers-n 10000]

``--given-languages``: each document carries the language its text was drawn from, so
``--stages laundering`` measures the laundering stage alone on a large store without first
running the language stage over it (which costs more than the laundering stage itself).

Ends with one JSON line.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import write_corpus


def child(args: argparse.Namespace) -> None:
    from fimiscope import pipeline
    from fimiscope.collect.generic import open_input, read_jsonl
    from fimiscope.config import Settings
    from fimiscope.store import Store

    cfg = Settings(database_url=args.target)
    store = Store.from_settings(cfg)
    out: dict[str, object] = {}
    start, cpu = time.perf_counter(), time.process_time()
    with open_input(Path(args.file)) as stream:
        imported = pipeline.ingest(store, read_jsonl(stream))
    out["import"] = {"docs": imported.new, "seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}
    out["import_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log = Path(args.progress_log) if args.progress_log else None

    def on_stage(cls: type) -> Callable[[int, int], None]:
        t0, c0 = time.perf_counter(), time.process_time()

        def progress(done: int, total: int) -> None:
            # one line per batch: the per-window cost as the store grows (partial figures if cut short)
            if log is not None:
                with log.open("a") as fh:
                    fh.write(json.dumps({"stage": getattr(cls, "name", ""), "done": done, "total": total,
                                         "seconds": round(time.perf_counter() - t0, 2),
                                         "cpu_s": round(time.process_time() - c0, 2),
                                         "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                                         "load": round(os.getloadavg()[0], 2)}) + "\n")
        return progress

    for stage in args.stages.split(","):
        start, cpu = time.perf_counter(), time.process_time()
        reports = pipeline.run(store, only=[stage], settings=cfg, workers=args.workers, on_stage=on_stage)
        # cpu_s: this process only (with --workers > 1 the workers' CPU is not in it)
        out[stage] = {"docs": reports[0].processed, "seconds": time.perf_counter() - start,
                      "cpu_s": time.process_time() - cpu, "signals": reports[0].signals}
        out[f"{stage}_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["children_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(out))


def _pg_schema(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


def _run(file: Path, target: str, stages: str, workers: int, progress_log: str = "") -> dict[str, object]:
    res = subprocess.run([sys.executable, __file__, "--child", "--file", str(file), "--target", target,
                          "--stages", stages, "--workers", str(workers), "--progress-log", progress_log],
                         capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,4000")
    parser.add_argument("--stages", default="language,laundering")
    parser.add_argument("--given-languages", action="store_true")
    parser.add_argument("--pg", default=None)
    parser.add_argument("--workers-n", type=int, default=10_000)
    parser.add_argument("--pg-stages", default="language", help="stages run with 1 and 2 workers on PostgreSQL")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--file")
    parser.add_argument("--target")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--progress-log", default="",
                        help="append one JSON line per batch of each stage (documents done, wall and CPU seconds, "
                             "peak MB) to this file, so a run cut short still leaves its per-window figures")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="fimiscope-pipeline-"))
    rows = []
    print(f"{'size':>8} {'stage':>12} {'docs/s':>9} {'docs/cpu-s':>10} {'seconds':>8} {'peak MB':>8}")
    for n in [int(x) for x in args.sizes.split(",") if x]:  # --sizes "": only the PostgreSQL workers part
        data = work / f"c{n}.jsonl"
        write_corpus(data, n, languages=args.given_languages)
        if args.progress_log:
            Path(f"{args.progress_log}.{n}").unlink(missing_ok=True)
        got = _run(data, f"sqlite:///{work / f's{n}.sqlite3'}", args.stages, 1,
                   f"{args.progress_log}.{n}" if args.progress_log else "")
        store_mb = sum(p.stat().st_size for p in work.glob(f"s{n}.sqlite3*")) / 2**20
        print(f"{n:>8,} {'store file':>12} {store_mb:>9,.0f} MB", flush=True)
        for stage in ["import", *args.stages.split(",")]:
            r = got[stage]
            assert isinstance(r, dict)
            rate = r["docs"] / r["seconds"] if r["seconds"] else 0.0
            cpu_rate = r["docs"] / r["cpu_s"] if r["cpu_s"] else 0.0
            # peak memory of the process after this stage (the import's is the process's at that point)
            peak = float(got.get(f"{stage}_peak_mb", got["peak_mb"]))  # type: ignore[arg-type]
            rows.append({"size": n, "stage": stage, "docs_per_s": round(rate, 1), "docs_per_cpu_s": round(cpu_rate, 1),
                         "seconds": round(r["seconds"], 1), "peak_mb": round(peak), "backend": "sqlite",
                         "workers": 1, "store_mb": round(store_mb)})
            print(f"{n:>8,} {stage:>12} {rate:>9,.1f} {cpu_rate:>10,.1f} {r['seconds']:>8.1f} {peak:>8,.0f}",
                  flush=True)
    if args.pg:
        data = work / "workers.jsonl"
        write_corpus(data, args.workers_n)
        for workers in (1, 2):
            got = _run(data, _pg_schema(args.pg, f"bench_workers_{workers}"), args.pg_stages, workers)
            for stage in args.pg_stages.split(","):
                r = got[stage]
                assert isinstance(r, dict)
                rate = r["docs"] / r["seconds"] if r["seconds"] else 0.0
                rows.append({"size": args.workers_n, "stage": stage, "docs_per_s": round(rate, 1),
                             "seconds": round(r["seconds"], 1), "peak_mb": round(float(got["peak_mb"])),
                             "backend": "postgresql", "workers": workers})
                print(f"{args.workers_n:>8,} {stage:>12} {rate:>9,.1f} {'':>10} {r['seconds']:>8.1f} "
                      f"{got['peak_mb']:>8,.0f}  postgresql, {workers} worker(s)", flush=True)
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
