"""The detectors at corpus scale: each Spark job (`fimiscope batch laundering|claims|
coordination`, local[2]) beside its single-process stage (`fimiscope run --stage ...` on
SQLite) on the same corpus, and whether they agree.

    python benchmarks/spark_bench.py --stage-n 2000 --spark-sizes 2000,20000
    python benchmarks/spark_bench.py --jobs claims,coordination --claims-n 5000 --coordination-n 20000

* laundering: the scale corpus (benchmarks/scale_corpus.py); agreement on the lexical pairs.
* claims: the scale corpus with a reworded known claim planted in one document of 20, against
  ``--claims`` known claims (CheckThat! 2022 2A verified claims and EUvsDisinfo summaries from
  ../shared/data/claims; the planted ones among them); agreement on (document, claim, span).
* coordination: benchmarks/coordination_bench.py's synthetic posts (skewed activity, links
  and reshares over 30 days) with a planted group of 8 accounts posting one link seconds apart
  on 10 days; agreement on the groups' members and the kept pairs.

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
from scale_corpus import shared_data, write_corpus


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
    res = subprocess.run(
        [*exe, "run", "--stage", "laundering", "--format", "json"], check=True, capture_output=True, text=True
    )
    return {"seconds": time.perf_counter() - start, "documents": json.loads(res.stdout)[0]["processed"]}


def stage_pairs(db: Path) -> set[frozenset[str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT a.key, b.key FROM laundering_edges e JOIN documents a ON a.id = e.copier_document_id "
            "JOIN documents b ON b.id = e.copied_document_id WHERE e.method != 'translation'"
        ).fetchall()
    return {frozenset(r) for r in rows}


CLAIMS_DATA = shared_data() / "claims"


def claims_corpus(work: Path, n: int, n_claims: int) -> tuple[Path, Path, list[dict[str, str]]]:
    """The scale corpus with a reworded claim planted in one document of 20; the claims file."""
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from claims_bench import load_texts, synthesize

    rng = random.Random(11)
    if (CLAIMS_DATA / "checkthat2022-2a").exists():
        texts, _prose = load_texts(CLAIMS_DATA)
    else:
        print(f"{CLAIMS_DATA} not found: synthetic claims", file=sys.stderr)
        words = "minister border vaccine election sanctions grain refugees convoy leak report".split()
        texts = [" ".join(rng.choice(words) for _ in range(15)) + "." for _ in range(n_claims)]
    rng.shuffle(texts)
    claims = [{"text": t} for t in dict.fromkeys(t.strip() for t in texts if t.strip())][:n_claims]
    planted = synthesize([c["text"] for c in claims[: max(n // 20, 1)]], max(n // 20, 1), rng)
    base = work / f"base{n}.jsonl"
    write_corpus(base, n)
    corpus = work / f"claims{n}.jsonl"
    with base.open() as src, corpus.open("w") as dst:
        for i, line in enumerate(src):
            obj = json.loads(line)
            if i % 20 == 7 and i // 20 < len(planted):
                obj["text"] += "\n\n" + planted[i // 20]
            dst.write(json.dumps(obj) + "\n")
    path = work / f"claims{n}.json"
    path.write_text(json.dumps(claims))
    return corpus, path, claims


def run_claims(work: Path, n: int, n_claims: int, master: str) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    from fimiscope.batch import claims as job
    from fimiscope.batch.spark import session
    from fimiscope.store.claims import claim_key

    corpus, path, claims = claims_corpus(work, n, n_claims)
    known = [{"key": claim_key(c["text"]), "text": c["text"], "title": None} for c in claims]
    start = time.perf_counter()
    spark = session(master, "spark_bench claims")
    started = time.perf_counter()
    counts = job.run(spark, [str(corpus)], known, str(work / f"claims-out{n}"))
    done = time.perf_counter()
    spark.stop()
    text_of = {c["key"]: c["text"] for c in known}
    mine = {
        (r["document_key"], text_of[r["claim_key"]], r["span_start"], r["span_end"])
        for r in pq.read_table(work / f"claims-out{n}" / "claim_matches").to_pylist()
    }
    db = work / f"claims{n}.sqlite3"
    exe = [sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{db}"]
    subprocess.run([*exe, "claims", "import", "json", str(path)], check=True, capture_output=True)
    subprocess.run([*exe, "import", "jsonl", str(corpus)], check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([*exe, "run", "--stage", "claims", "--format", "json"], check=True, capture_output=True)
    stage_s = time.perf_counter() - t0
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT d.key, json_extract(s.details, '$.claim_text'), json_extract(s.details, '$.span_start'), "
            "json_extract(s.details, '$.span_end') FROM signals s JOIN evidence e ON e.signal_id = s.id "
            "JOIN documents d ON d.id = e.document_id WHERE s.type = 'claim_match'"
        ).fetchall()
    theirs = {tuple(r) for r in rows}
    return [
        {
            "job": "claims",
            "size": n,
            "claims": len(claims),
            "contender": f"spark {master}",
            "docs_per_s": round(n / (done - start), 1),
            "job_docs_per_s": round(n / (done - started), 1),
            "seconds": round(done - start, 1),
            "matches": counts["matches"],
        },
        {
            "job": "claims",
            "size": n,
            "claims": len(claims),
            "contender": "stage (1 process, SQLite)",
            "docs_per_s": round(n / stage_s, 1),
            "seconds": round(stage_s, 1),
            "matches": len(theirs),
            "same_matches": mine == theirs,
            "only_stage": len(theirs - mine),
            "only_spark": len(mine - theirs),
        },
    ]


def coordination_corpus(work: Path, n: int) -> Path:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from coordination_bench import _load, _url, generate

    folder = work / f"coord{n}"
    folder.mkdir(exist_ok=True)
    generate(n, folder)
    d = _load(folder)
    rows = []
    for i, (a, tm, u, sh) in enumerate(zip(d["account"], d["time"], d["url"], d["share"], strict=True)):
        row = {
            "id": str(i),
            "source": f"x:user{int(a)}",
            "platform": "x",
            "text": f"post {i} by {int(a)}",
            "t": int(tm),
        }
        if u >= 0:
            row["links"] = [_url(int(u))]
        if sh >= 0:
            row["shared_from"] = f"x:seed/{int(sh)}"
        rows.append(row)
    rng = np.random.default_rng(3)
    t0, t1 = int(d["time"].min()), int(d["time"].max())
    for push in range(10):  # the planted group: 8 accounts, one link, seconds apart, 10 days
        when = t0 + push * (t1 - t0) // 10 + 3600
        for m in rng.permutation(8).tolist():
            when += int(rng.integers(3, 30))
            rows.append(
                {
                    "id": f"g{push}-{m}",
                    "source": f"x:planted{m}",
                    "platform": "x",
                    "text": f"push {push} from {m}",
                    "t": when,
                    "links": [f"https://planted.example/push-{push}"],
                }
            )
    rows.sort(key=lambda r: r["t"])
    from datetime import UTC, datetime

    path = work / f"coord{n}.jsonl"
    with path.open("w") as f:
        for r in rows:
            r["published_at"] = datetime.fromtimestamp(r.pop("t"), tz=UTC).isoformat()
            f.write(json.dumps(r) + "\n")
    return path


def run_coordination(work: Path, n: int, master: str) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    from fimiscope.batch import coordination as job
    from fimiscope.batch.spark import session

    corpus = coordination_corpus(work, n)
    start = time.perf_counter()
    spark = session(master, "spark_bench coordination")
    started = time.perf_counter()
    counts = job.run(spark, [str(corpus)], str(work / f"coord-out{n}"))
    done = time.perf_counter()
    spark.stop()
    mine = {
        frozenset(json.loads(r["group"])["members"])
        for r in pq.read_table(work / f"coord-out{n}" / "groups").to_pylist()
    }
    db = work / f"coord{n}.sqlite3"
    exe = [sys.executable, "-m", "fimiscope", "--database-url", f"sqlite:///{db}"]
    subprocess.run([*exe, "import", "jsonl", str(corpus)], check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([*exe, "run", "--stage", "coordination", "--format", "json"], check=True, capture_output=True)
    stage_s = time.perf_counter() - t0
    import sqlite3

    with sqlite3.connect(db) as conn:
        members: dict[str, set[str]] = {}
        for gid, acc in conn.execute("SELECT group_id, account FROM coordination_members").fetchall():
            members.setdefault(gid, set()).add(acc)
    theirs = {frozenset(m) for m in members.values()}
    posts = sum(1 for _ in corpus.open())
    return [
        {
            "job": "coordination",
            "size": posts,
            "contender": f"spark {master}",
            "docs_per_s": round(posts / (done - start), 1),
            "job_docs_per_s": round(posts / (done - started), 1),
            "seconds": round(done - start, 1),
            "groups": counts["groups"],
            "kept_pairs": counts["pairs"],
        },
        {
            "job": "coordination",
            "size": posts,
            "contender": "stage (1 process, SQLite)",
            "docs_per_s": round(posts / stage_s, 1),
            "seconds": round(stage_s, 1),
            "groups": len(theirs),
            "same_groups": mine == theirs,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", default="laundering", help="laundering, claims, coordination (comma-separated)")
    parser.add_argument("--stage-n", type=int, default=2000)
    parser.add_argument("--spark-sizes", default="2000,20000")
    parser.add_argument("--claims-n", type=int, default=5000, help="documents for the claims job")
    parser.add_argument("--claims", type=int, default=5000, help="known claims for the claims job")
    parser.add_argument("--coordination-n", type=int, default=20000, help="posts for the coordination job")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    import pyarrow.parquet as pq

    work = Path(tempfile.mkdtemp(prefix="fimiscope-spark-"))
    jobs = args.jobs.split(",")
    rows: list[dict[str, object]] = []
    if "claims" in jobs:
        for r in run_claims(work, args.claims_n, args.claims, args.master):
            rows.append(r)
            print(json.dumps(r), flush=True)
    if "coordination" in jobs:
        for r in run_coordination(work, args.coordination_n, args.master):
            rows.append(r)
            print(json.dumps(r), flush=True)
    if "laundering" not in jobs:
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        print(json.dumps(rows))
        return
    sizes = sorted({args.stage_n, *(int(x) for x in args.spark_sizes.split(","))})
    print(f"{'size':>8} {'contender':28} {'docs/s':>9} {'seconds':>8} {'pairs':>7}")
    for n in sizes:
        corpus = work / f"c{n}.jsonl"
        write_corpus(corpus, n)
        got = spark_job(corpus, work / f"out{n}", args.master)
        pairs = {frozenset((r["a_key"], r["b_key"])) for r in pq.read_table(work / f"out{n}" / "pairs").to_pylist()}
        rows.append(
            {
                "size": n,
                "contender": f"spark {args.master}",
                "docs_per_s": round(n / got["seconds"], 1),
                "job_docs_per_s": round(n / got["job_seconds"], 1),
                "seconds": round(got["seconds"], 1),
                "pairs": len(pairs),
            }
        )
        print(
            f"{n:>8,} {'spark ' + args.master:28} {n / got['seconds']:>9,.1f} {got['seconds']:>8.1f} "
            f"{len(pairs):>7,}  (without the JVM start: {n / got['job_seconds']:,.1f} docs/s)",
            flush=True,
        )
        if n == args.stage_n:
            db = work / f"s{n}.sqlite3"
            st = stage(corpus, db)
            mine = stage_pairs(db)
            rows.append(
                {
                    "size": n,
                    "contender": "stage (1 process, SQLite)",
                    "docs_per_s": round(n / st["seconds"], 1),
                    "seconds": round(st["seconds"], 1),
                    "pairs": len(mine),
                    "same_pairs": mine == pairs,
                    "only_stage": len(mine - pairs),
                    "only_spark": len(pairs - mine),
                }
            )
            print(
                f"{n:>8,} {'stage (1 process, SQLite)':28} {n / st['seconds']:>9,.1f} {st['seconds']:>8.1f} "
                f"{len(mine):>7,}  same lexical pairs: {mine == pairs} (stage only {len(mine - pairs)}, "
                f"spark only {len(pairs - mine)})",
                flush=True,
            )
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
