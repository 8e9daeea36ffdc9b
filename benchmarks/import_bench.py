"""Bulk import speed: `fimiscope import jsonl` against the reference tools, same file, one run.

Contenders (each in its own process, so peak memory is its own):
  fimiscope/sqlite      our full path: parse + validate + raw archive (zstd) + upsert + FTS5
  ... 1 worker          the same, content hash, zstd and lemmas in a worker process
  sqlite-utils          simonw's sqlite-utils insert_all + FTS5 (the tool for JSONL -> SQLite)
  raw sqlite3           executemany into a plain table, no FTS, no archive: the floor
  fimiscope/postgresql  our full path into PostgreSQL (with --pg URL)
  psycopg COPY          COPY into a plain table: PostgreSQL's floor

docs/cpu-s counts the client's CPU and, for PostgreSQL on this machine, its server process's
(read from /proc): on a shared machine the wall clock mostly measures the neighbours.

    python benchmarks/import_bench.py --n 1000000 [--pg postgresql://postgres@127.0.0.1:5432/test]
    python benchmarks/import_bench.py --n 100000 --pg URL --only "fimiscope / postgresql,psycopg COPY (no FTS)"
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "government ministry election vote sanctions grain corridor energy prices protest minister report "
    "vláda volby sankce energie ceny protest ministr zpráva правительство выборы санкции энергия цены "
    "протест министр доклад NATO EU Prague Moscow Kyiv Warsaw Bratislava"
).split()


def generate(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 120)))
            row = {
                "url": f"https://site{i % 500}.example/article/{i}",
                "source": f"site{i % 500}.example",
                "title": " ".join(rng.choice(WORDS) for _ in range(8)),
                "text": text,
                "language": rng.choice(["en", "cs", "ru"]),
                "published_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "author": f"author {i % 97}",
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# PostgreSQL's server processes of a contender, when they run on this machine: their CPU time
# is read from /proc before the connections close (the server's work is most of PostgreSQL's
# cost per document, and on a shared machine CPU time is steadier than the wall clock).
_PG_PIDS: set[int] = set()


def _server_cpu() -> float | None:
    total = 0.0
    try:
        for pid in _PG_PIDS:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None  # a server on another machine
    return total if _PG_PIDS else None


def run_fimiscope(path: Path, url: str) -> float | None:
    from sqlalchemy import event

    from fimiscope.collect.generic import open_input, read_jsonl
    from fimiscope.pipeline import ingest
    from fimiscope.store import Store

    store = Store.open(url)
    if store.dialect == "postgresql":
        store.engine.dispose()

        @event.listens_for(store.engine, "connect")
        def _pid(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                _PG_PIDS.add(cur.fetchone()[0])

    with open_input(path) as stream:
        report = ingest(store, read_jsonl(stream))
    assert report.new > 0 and not report.rejected, report.rejected[:3]
    return _server_cpu()


def run_sqlite_utils(path: Path, db_path: str) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA journal_mode=WAL")

    def rows():  # type: ignore[no-untyped-def]
        with path.open(encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)

    db["documents"].insert_all(rows(), pk="url", batch_size=2000)
    db["documents"].enable_fts(["title", "text"], create_triggers=True)


def run_raw_sqlite(path: Path, db_path: str) -> None:
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE d (url TEXT PRIMARY KEY, source TEXT, title TEXT, text TEXT, language TEXT, "
                 "published_at TEXT, author TEXT)")
    cols = ("url", "source", "title", "text", "language", "published_at", "author")
    batch = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            batch.append(tuple(row[c] for c in cols))
            if len(batch) >= 5000:
                conn.executemany("INSERT INTO d VALUES (?,?,?,?,?,?,?)", batch)
                conn.commit()
                batch.clear()
    conn.executemany("INSERT INTO d VALUES (?,?,?,?,?,?,?)", batch)
    conn.commit()


def run_pg_copy(path: Path, url: str) -> float | None:
    import psycopg

    with psycopg.connect(url) as conn:
        _PG_PIDS.add(conn.info.backend_pid)
        conn.execute("CREATE TABLE d (url TEXT PRIMARY KEY, source TEXT, title TEXT, text TEXT, language TEXT, "
                     "published_at TIMESTAMPTZ, author TEXT)")
        cols = ("url", "source", "title", "text", "language", "published_at", "author")
        with conn.cursor().copy(f"COPY d ({', '.join(cols)}) FROM STDIN") as copy, path.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                copy.write_row(tuple(row[c] for c in cols))
        conn.commit()
        return _server_cpu()


def child(args: argparse.Namespace) -> None:
    path = Path(args.file)
    start = time.perf_counter()
    server: float | None = None
    if args.child == "fimiscope":
        server = run_fimiscope(path, args.target)
    elif args.child == "fimiscope-workers":  # the preparation in one worker process
        os.environ["FIMISCOPE_IMPORT_PROCESSES"] = "1"
        server = run_fimiscope(path, args.target)
    elif args.child == "sqlite-utils":
        run_sqlite_utils(path, args.target)
    elif args.child == "raw-sqlite3":
        run_raw_sqlite(path, args.target)
    elif args.child == "psycopg-copy":
        server = run_pg_copy(path, args.target)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # The worker processes an import prepares its batches in (ended by now): their CPU counts,
    # and the largest one's peak memory is added to this process's.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = (usage.ru_maxrss + workers.ru_maxrss) / 1024
    # CPU seconds of this process (the client; a PostgreSQL server's own work is not in it):
    # on a shared machine the wall clock depends on the neighbours, the CPU time much less.
    cpu = usage.ru_utime + usage.ru_stime + workers.ru_utime + workers.ru_stime
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "cpu_s": cpu, "server_cpu_s": server}))


def _fresh_pg_schema(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("FIMISCOPE_TEST_DATABASE_URL"))
    parser.add_argument("--child")
    parser.add_argument("--file")
    parser.add_argument("--target")
    parser.add_argument("--only", help="comma-separated contender labels to run, e.g. "
                        "'fimiscope / postgresql,psycopg COPY (no FTS)' (default: all)")
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    work = Path(tempfile.mkdtemp(prefix="fimiscope-bench-"))
    data = work / "docs.jsonl"
    print(f"generating {args.n:,} documents ...", file=sys.stderr)
    generate(data, args.n)
    size_mb = data.stat().st_size / 1e6
    plans = [
        ("fimiscope / sqlite", "fimiscope", f"sqlite:///{work / 'ours.sqlite3'}"),
        ("fimiscope / sqlite, 1 worker", "fimiscope-workers", f"sqlite:///{work / 'ours2.sqlite3'}"),
        ("sqlite-utils / sqlite", "sqlite-utils", str(work / "su.sqlite3")),
        ("raw sqlite3 (no FTS)", "raw-sqlite3", str(work / "raw.sqlite3")),
    ]
    if args.pg:
        plans.append(("fimiscope / postgresql", "fimiscope", _fresh_pg_schema(args.pg, "bench_ours")))
        plans.append(("psycopg COPY (no FTS)", "psycopg-copy", _fresh_pg_schema(args.pg, "bench_copy")))
    if args.only:
        plans = [p for p in plans if p[0] in args.only.split(",")]
    results = []
    for label, kind, target in plans:
        print(f"running {label} ...", file=sys.stderr)
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--file", str(data), "--target", target],
            capture_output=True, text=True, check=True,
        )
        res = json.loads(out.stdout.strip().splitlines()[-1])
        # CPU: the client's, plus the PostgreSQL server's where it could be read (SQLite's
        # work is in the client process).
        cpu = res["cpu_s"] + (res["server_cpu_s"] or 0.0)
        results.append((label, res["seconds"], res["peak_mb"], cpu, res["server_cpu_s"]))
    base = next((r for r in results if r[0].startswith("sqlite-utils")), results[0])
    copy = next((r for r in results if r[0].startswith("psycopg COPY")), None)
    print(f"\n{args.n:,} documents, {size_mb:,.0f} MB of JSONL, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'contender':28} {'docs/s':>10} {'docs/cpu-s':>11} {'server cpu':>11} {'peak MB':>9} "
          f"{'vs sqlite-utils':>16} {'(cpu)':>7} {'vs COPY (cpu)':>14}")
    for label, secs, peak, cpu, server in results:
        vs_copy = f"{copy[3] / cpu:>13.2f}x" if copy and server is not None else f"{'':>14}"
        print(f"{label:28} {args.n / secs:>10,.0f} {args.n / cpu:>11,.0f} "
              f"{(f'{server:.1f} s' if server is not None else '-'):>11} {peak:>9,.0f} {base[1] / secs:>15.2f}x "
              f"{base[3] / cpu:>6.2f}x {vs_copy}")
    print(json.dumps({label: {"docs_per_s": round(args.n / s), "docs_per_cpu_s": round(args.n / c), "peak_mb": round(p),
                              "server_cpu_s": None if sv is None else round(sv, 1)}
                      for label, s, p, c, sv in results}))


if __name__ == "__main__":
    main()
