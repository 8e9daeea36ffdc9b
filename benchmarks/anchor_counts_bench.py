"""The laundering stage's anchor document frequencies: counted over the postings (what the stage
did before ``laundering_anchor_counts``) beside read from the kept counts, per batch of 500
documents' anchors, as a SQLite store of anchors grows. CPU milliseconds per batch; the two
answers are compared.

    python benchmarks/anchor_counts_bench.py [--sizes 10000,50000,200000]

Anchors are drawn from a heavy-tailed (Pareto) vocabulary, 20 per document, so common ones (a
year, a capital) sit in a large share of documents, as names and numbers do in news.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.store import Store
from fimiscope.store import laundering as db
from fimiscope.store.sql import chunks
from fimiscope.store.tables_laundering import laundering_anchors


def counted_over_postings(conn: Connection, anchors: set[str]) -> dict[str, int]:
    t = laundering_anchors
    out: dict[str, int] = {}
    for part in chunks(sorted(anchors), 500):
        q = sa.select(t.c.anchor, sa.func.count()).where(t.c.anchor.in_(part)).group_by(t.c.anchor)
        out.update({str(a): int(n) for a, n in conn.execute(q)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000,200000")
    args = ap.parse_args()
    rng = random.Random(1)
    vocab = [f"e:w{i}" for i in range(200_000)]

    def doc_anchors() -> set[str]:
        return {vocab[min(int(rng.paretovariate(0.6)) - 1, len(vocab) - 1)] for _ in range(20)}

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/anchors.db")
        n = 0
        print(f"{'documents':>10} {'postings':>10} {'anchors':>8} {'postings ms':>12} {'kept ms':>8} {'ratio':>6} same")
        for size in (int(x) for x in args.sizes.split(",")):
            while n < size:
                store.write(db.insert_anchors_many, {f"d{n + i}": doc_anchors() for i in range(5000)})
                n += 5000
            batch = {a for _ in range(500) for a in doc_anchors()}
            with store.connect() as conn:
                postings = int(conn.execute(sa.select(sa.func.count()).select_from(laundering_anchors)).scalar_one())
                t0 = time.process_time()
                old = counted_over_postings(conn, batch)
                t1 = time.process_time()
                new = db.anchor_df(conn, batch)
                t2 = time.process_time()
            row = {"documents": n, "postings": postings, "anchors": len(batch), "postings_ms": round(1000 * (t1 - t0), 1),
                   "kept_ms": round(1000 * (t2 - t1), 1), "same": old == new}
            rows.append(row)
            print(f"{n:>10,} {postings:>10,} {len(batch):>8} {row['postings_ms']:>12} {row['kept_ms']:>8} "
                  f"{row['postings_ms'] / max(row['kept_ms'], 0.1):>5.1f}x {old == new}")
        store.close()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
