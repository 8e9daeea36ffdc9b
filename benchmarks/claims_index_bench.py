"""The claim matcher's index at a start: rebuilt from every claim (what each process did before
the index was kept in the store) against loaded from the store, and claims added to a kept
index against a rebuild. One run, same store, CPU seconds (process time) and wall seconds.

Claims: the 14,231 Snopes claims of CLEF CheckThat! 2022 Task 2A (../shared/data/claims);
without the data file, generated sentences (said on stderr).

    python benchmarks/claims_index_bench.py [--add 200]

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scale_corpus import shared_data

DATA = shared_data() / "claims" / "checkthat2022-2a" / "verified_claims.docs.tsv"


def claim_texts() -> list[tuple[str, str]]:
    if not DATA.exists():
        print(f"{DATA} not found: generated claims", file=sys.stderr)
        rng = random.Random(5)
        words = "vaccine election fraud border troops gas prices ban minister secret plan video shows".split()
        return [(" ".join(rng.choice(words) for _ in range(18)) + f" {i}.", "") for i in range(14_000)]
    csv.field_size_limit(10_000_000)
    with DATA.open(encoding="utf-8") as f:
        return [(row["vclaim"], row["title"]) for row in csv.DictReader(f, delimiter="\t") if row["vclaim"]]


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--add", type=int, default=200, help="claims added after the index was saved")
    args = parser.parse_args()

    from fimiscope.core.model import Claim
    from fimiscope.detect import claims as detect_claims
    from fimiscope.index.bm25 import TUNED_ANALYZER, TUNED_B, TUNED_K1, BM25Index
    from fimiscope.store import Store
    from fimiscope.store.claims import claim_set, load_claim_index, upsert_claims

    texts = claim_texts()
    first, later = texts[: len(texts) - args.add], texts[len(texts) - args.add :]
    store = Store.open(f"sqlite:///{Path(tempfile.mkdtemp(prefix='fimiscope-claims-')) / 'c.sqlite3'}")
    upsert_claims(store, [Claim(text=t, title=ti or None) for t, ti in first])

    def rebuild() -> BM25Index:  # what every process start did before
        pairs = [(cid, detect_claims.claim_pair_text(t, ti)) for cid, t, ti in detect_claims.iter_claim_texts(store)]
        return BM25Index.build(pairs, TUNED_ANALYZER, k1=TUNED_K1, b=TUNED_B)

    def start() -> str:  # a new process: nothing in memory
        detect_claims._CACHE.clear()
        return detect_claims.matcher_for(store)[1].origin

    rows = []
    w, c, _ = timed(rebuild)
    rows.append((f"rebuild from {len(first):,} claims (before)", w, c, "built"))
    w, c, origin = timed(start)
    rows.append(("first start: build + save", w, c, origin))
    w, c, origin = timed(start)
    rows.append(("next start: load", w, c, origin))
    upsert_claims(store, [Claim(text=t, title=ti or None) for t, ti in later])
    w, c, origin = timed(start)
    rows.append((f"start after {len(later)} new claims: load + add + save", w, c, origin))
    w, c, _ = timed(rebuild)
    rows.append((f"rebuild from {claim_set(store).count:,} claims (before)", w, c, "built"))
    saved = load_claim_index(store, detect_claims.index_name())
    assert saved is not None
    base_load, base_add = rows[0][2], rows[4][2]
    print(f"\n{claim_set(store).count:,} claims; saved index {len(saved.data) / 1e6:.1f} MB (before zstd)\n")
    print(f"{'what':52} {'wall s':>7} {'CPU s':>7} {'vs rebuild (CPU)':>17}  index")
    for i, (label, wall, cpu, how) in enumerate(rows):
        ref = base_add if i >= 3 else base_load
        print(f"{label:52} {wall:>7.2f} {cpu:>7.2f} {ref / cpu if cpu else float('inf'):>16.1f}x  {how}")
    print(json.dumps({label: {"wall_s": round(w, 3), "cpu_s": round(c, 3), "index": how} for label, w, c, how in rows}))


if __name__ == "__main__":
    main()
