"""MinHash signatures + LSH insert + query: fimiscope's kernel beside datasketch and rensa.

Same corpus, same word 5-shingles of the same normalised tokens, num_perm=128, the same LSH
banding (16 bands x 8 rows, for a 0.8 Jaccard threshold) for all three, each in its own
process so peak memory is its own. Recall is measured on planted near-duplicate pairs whose
exact Jaccard is >= 0.8.

    python benchmarks/minhash_bench.py --n 100000

Prints a table (documents/s, peak memory, recall, candidates per query) and ratios against
datasketch and rensa, then one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from typing import Any

import numpy as np

NUM_PERM = 128
BANDS, ROWS = 16, 8
THRESHOLD = 0.8
K = 5


def corpus(n: int, seed: int = 42) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """n token lists: Zipf vocabulary, 150-400 words; 10% are near-duplicates of an earlier one."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"t{i}" for i in range(50_000)])
    docs: list[list[str]] = []
    pairs: list[tuple[int, int]] = []
    for i in range(n):
        if i > 10 and rng.random() < 0.1:
            j = int(rng.integers(0, i))
            base = list(docs[j])
            edits = rng.random(len(base)) < rng.uniform(0.0, 0.03)
            for p in np.flatnonzero(edits):
                base[p] = vocab[rng.zipf(1.3) % vocab.size]
            docs.append(base)
            pairs.append((j, i))
        else:
            length = int(rng.integers(150, 400))
            docs.append(list(vocab[rng.zipf(1.3, size=length) % vocab.size]))
    return docs, pairs


def shingle_strings(toks: list[str]) -> list[str]:
    if len(toks) < K:
        return [" ".join(toks)]
    return [" ".join(toks[i : i + K]) for i in range(len(toks) - K + 1)]


def run_fimiscope(docs: list[list[str]], scheme: str) -> tuple[float, list[set[int]]]:
    from fimiscope.index.minhash import LSHIndex, MinHasher, shingle_batch

    t = time.perf_counter()
    hasher = MinHasher(NUM_PERM, seed=1, scheme=scheme)
    index = LSHIndex(THRESHOLD, NUM_PERM, bands=BANDS)
    found: list[set[int]] = []
    batch = 2_000
    sigs_all = []
    for start in range(0, len(docs), batch):
        part = docs[start : start + batch]
        flat, counts = shingle_batch([" ".join(d) for d in part], K)
        sigs = hasher.signatures_flat(flat, counts)
        index.add(np.arange(start, start + len(part)), sigs)
        sigs_all.append(sigs)
    for sigs in sigs_all:
        rows, hits = index.query_pairs(sigs)
        per: list[set[int]] = [set() for _ in range(sigs.shape[0])]
        for r, h in zip(rows.tolist(), hits.tolist(), strict=True):
            per[r].add(h)
        found.extend(per)
    return time.perf_counter() - t, found


def run_datasketch(docs: list[list[str]]) -> tuple[float, list[set[int]]]:
    from datasketch import MinHash, MinHashLSH

    t = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(BANDS, ROWS))
    mhs = []
    for i, d in enumerate(docs):
        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingle_strings(d)])
        lsh.insert(i, m, check_duplication=False)
        mhs.append(m)
    found = [set(lsh.query(m)) for m in mhs]
    return time.perf_counter() - t, found


def run_rensa(docs: list[list[str]]) -> tuple[float, list[set[int]]]:
    from rensa import RMinHash, RMinHashLSH

    t = time.perf_counter()
    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, BANDS)
    mhs = RMinHash.from_token_sets([shingle_strings(d) for d in docs], NUM_PERM, 1)
    lsh.insert_many(mhs, 0)
    found = [set(x) for x in lsh.query_all(mhs)]
    return time.perf_counter() - t, found


def _worker(name: str, n: int, queue: Any) -> None:
    docs, pairs = corpus(n)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if name.startswith("fimiscope"):
        elapsed, found = run_fimiscope(docs, name.split(":")[1])
    elif name == "datasketch":
        elapsed, found = run_datasketch(docs)
    else:
        elapsed, found = run_rensa(docs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    # recall on planted pairs with exact Jaccard >= threshold (exact Jaccard on a sample)
    from fimiscope.index.minhash import jaccard, shingle_hashes

    rng = np.random.default_rng(0)
    sample = [pairs[i] for i in rng.choice(len(pairs), size=min(2000, len(pairs)), replace=False)]
    true = [(a, b) for a, b in sample if jaccard(shingle_hashes(docs[a], K), shingle_hashes(docs[b], K)) >= THRESHOLD]
    hit = sum(1 for a, b in true if a in found[b])
    cands = float(np.mean([len(f) for f in found]))
    queue.put(
        {
            "name": name,
            "seconds": elapsed,
            "docs_per_s": n / elapsed,
            "peak_mb": peak / 1024,
            "recall": hit / max(len(true), 1),
            "true_pairs": len(true),
            "candidates_per_query": cands,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="documents in the corpus")
    parser.add_argument("--skip-datasketch", action="store_true", help="datasketch is slow at large n")
    args = parser.parse_args()
    names = ["fimiscope:oph", "fimiscope:classic", "rensa"] + ([] if args.skip_datasketch else ["datasketch"])
    ctx = mp.get_context("spawn")
    results = {}
    for name in names:
        q = ctx.Queue()
        p = ctx.Process(target=_worker, args=(name, args.n, q))
        p.start()
        results[name] = q.get()
        p.join()
        print(f"done {name}: {results[name]['seconds']:.1f}s", file=sys.stderr)
    print(f"\nMinHash + LSH, n={args.n}, num_perm={NUM_PERM}, bands={BANDS}x{ROWS}, shingles=word {K}-grams")
    print(f"{'system':<20}{'docs/s':>12}{'peak MB':>10}{'recall@J>=0.8':>15}{'cands/query':>13}")
    for r in results.values():
        print(
            f"{r['name']:<20}{r['docs_per_s']:>12.0f}{r['peak_mb']:>10.0f}{r['recall']:>15.3f}"
            f"{r['candidates_per_query']:>13.2f}"
        )
    ours = results["fimiscope:oph"]
    ratios = {}
    for other in ("datasketch", "rensa"):
        if other in results:
            ratios[f"throughput_vs_{other}"] = ours["docs_per_s"] / results[other]["docs_per_s"]
            ratios[f"memory_vs_{other}"] = ours["peak_mb"] / max(results[other]["peak_mb"], 1e-9)
            print(
                f"fimiscope:oph vs {other}: {ratios[f'throughput_vs_{other}']:.2f}x throughput, "
                f"{ratios[f'memory_vs_{other}']:.2f}x memory"
            )
    print(json.dumps({"n": args.n, "results": list(results.values()), "ratios": ratios}))


if __name__ == "__main__":
    main()
