"""The laundering detector at corpus scale: the Spark job (`fimiscope batch laundering`,
local[2]) beside the single-process stage (`fimiscope run --stage laundering` on SQLite), on
the scale corpus (benchmarks/scale_corpus.py), and whether they agree on the pairs.

    python benchmarks/spark_bench.py --stage-n 2000 --spark-sizes 2000,20000

The Spark figures include the JVM's start (about a minute on a loaded 2-core machine) and
are also given without it (the job's own time). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import write_corpus


def spark_job(corpus: Path, out: Path, master: str) -> dict[str, float]:
    from fimiscope.batch import laundering as job
    from fimiscope.batch.spark import session

    start = time.perf_counter()
    spark = session(master, "spark_bench")
    started = time.perf_counter()
    counts = job.run(spark, [str(corpus)], str(out))
    done = time.perf_counter()
    spark.stop()
    return {**counts, "seconds": done - start, "job_seconds": done - started}


def stage(corpus: Path, db: Path) -> dict[str, float]:
    exe = [sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{db}"]
    subprocess.run([*exe, "import", "jsonl", str(corpus)], check=True, capture_output=True)
    start = time.perf_counter()
    res = subprocess.run([*exe, "run", "--stage", "laundering", "--format", "json"], check=True,
                         capture_output=True, text=True)
    return {"seconds": time.perf_counter() - start, "documents": json.loads(res.stdout)[0]["processed"]}


def stage_pairs(db: Path) -> set[frozenset[str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT a.key, b.key FROM laundering_edges e JOIN documents a ON a.id = e.copier_document_id "
            "JOIN documents b ON b.id = e.copied_document_id WHERE e.method != 'translation'").fetchall()
    return {frozenset(r) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage-n", type=int, default=2000)
    parser.add_argument("--spark-sizes", default="2000,20000")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    import pyarrow.parquet as pq

    work = Path(tempfile.mkdtemp(prefix="fimiscope-spark-"))
    rows = []
    sizes = sorted({args.stage_n, *(int(x) for x in args.spark_sizes.split(","))})
    print(f"{'size':>8} {'contender':28} {'docs/s':>9} {'seconds':>8} {'pairs':>7}")
    for n in sizes:
        corpus = work / f"c{n}.jsonl"
        write_corpus(corpus, n)
        got = spark_job(corpus, work / f"out{n}", args.master)
        pairs = {frozenset((r["a_key"], r["b_key"])) for r in pq.read_table(work / f"out{n}" / "pairs").to_pylist()}
        rows.append({"size": n, "contender": f"spark {args.master}", "docs_per_s": round(n / got["seconds"], 1),
                     "job_docs_per_s": round(n / got["job_seconds"], 1), "seconds": round(got["seconds"], 1),
                     "pairs": len(pairs)})
        print(f"{n:>8,} {'spark ' + args.master:28} {n / got['seconds']:>9,.1f} {got['seconds']:>8.1f} "
              f"{len(pairs):>7,}  (without the JVM start: {n / got['job_seconds']:,.1f} docs/s)", flush=True)
        if n == args.stage_n:
            db = work / f"s{n}.sqlite3"
            st = stage(corpus, db)
            mine = stage_pairs(db)
            rows.append({"size": n, "contender": "stage (1 process, SQLite)", "docs_per_s": round(n / st["seconds"], 1),
                         "seconds": round(st["seconds"], 1), "pairs": len(mine), "same_pairs": mine == pairs,
                         "only_stage": len(mine - pairs), "only_spark": len(pairs - mine)})
            print(f"{n:>8,} {'stage (1 process, SQLite)':28} {n / st['seconds']:>9,.1f} {st['seconds']:>8.1f} "
                  f"{len(mine):>7,}  same lexical pairs: {mine == pairs} (stage only {len(mine - pairs)}, "
                  f"spark only {len(pairs - mine)})", flush=True)
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
