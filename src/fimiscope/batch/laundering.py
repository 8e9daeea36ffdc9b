"""The corpus-scale part of the laundering detector as a Spark job: units, MinHash signatures
and LSH banding, candidate pairs, verification on the exact shingle sets, clusters.

It runs the same kernels as ``detect.laundering`` (``index.minhash`` for shingles,
signatures and band keys; the stage's ``paragraphs``/``sentences`` and ``Params`` for units
and thresholds), so on the same corpus it finds the same near-duplicate and partial pairs and
the same clusters (``tests/scale/test_batch.py``). The translation path (anchors, encoder)
needs the whole store's anchor frequencies and is left to the store's stage.

Each document is split into units (the whole text, paragraphs, 2-sentence windows) with their
band keys; Spark groups units by band key (the one shuffle that grows with the corpus); in a
bucket every unit is paired with the ``bucket_sample`` oldest members, as the stage does when
it meets the stored index; pairs are joined back to their shingle sets and verified; verified
document pairs (a few per cluster) come to the driver, which joins them into clusters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from fimiscope.batch.inputs import read_documents
from fimiscope.detect.laundering import Params, paragraphs, sentences
from fimiscope.index import components
from fimiscope.index.minhash import MinHasher, band_keys, containment, jaccard, optimal_bands, shingle_hashes, tokens

Found = tuple[str, float, list[dict[str, Any]], int]  # method, similarity, paragraphs, whole-document match


@dataclass(slots=True)
class Unit:
    doc: int  # the document's position in input order (the store's seq order)
    para_index: int  # -1 the whole document, >= 0 a paragraph, <= -2 a 2-sentence window
    span: tuple[int, int]
    shingles: np.ndarray


def units_of(doc: int, text: str, p: Params) -> list[Unit]:
    """The units ``detect.laundering`` indexes for one document, in the order it numbers them."""
    out = [Unit(doc, -1, (0, len(text)), shingle_hashes(text, p.k))]
    for i, (start, end, chunk) in enumerate(paragraphs(text)):
        toks = tokens(chunk)
        if len(toks) >= p.min_para_tokens:
            out.append(Unit(doc, i, (start, end), shingle_hashes(toks, p.k)))
    if p.sentence_windows:
        sents = [(para[i][0], para[i + 1][1]) for para in sentences(text) for i in range(len(para) - 1)]
        for w, (start, end) in enumerate(sents):
            toks = tokens(text[start:end])
            if len(toks) >= p.min_para_tokens:
                out.append(Unit(doc, -2 - w, (start, end), shingle_hashes(toks, p.k)))
    return out


def verify(a: Unit, b: Unit, p: Params) -> tuple[str, float, dict[str, Any]] | None:
    """The stage's verification of one candidate unit pair (``a`` from the earlier document):
    (method, similarity, paragraph detail) or None."""
    j = jaccard(a.shingles, b.shingles)
    small, large = (a.shingles, b.shingles) if a.shingles.size <= b.shingles.size else (b.shingles, a.shingles)
    c = containment(small, large)
    if a.para_index == -1 and b.para_index == -1:
        if j >= p.doc_jaccard or c >= p.doc_containment:
            return "near_duplicate", round(max(j, c), 4), {}
        return None
    if (a.para_index == -1) != (b.para_index == -1):
        para_side, doc_side = (a, b) if a.para_index != -1 else (b, a)
        c = containment(para_side.shingles, doc_side.shingles)
        j = 0.0
    if j >= p.para_jaccard or c >= p.para_containment:
        detail = {"a_paragraph": a.para_index, "a_span": list(a.span), "b_paragraph": b.para_index,
                  "b_span": list(b.span), "jaccard": round(j, 4), "containment": round(c, 4)}
        return "partial", round(max(j, c), 4), detail
    return None


def _signed_units(rows: Iterable[tuple[int, str]], p: Params) -> Iterator[tuple[tuple[int, int], Unit, list[int]]]:
    """((doc, unit number), unit, band keys) for a partition of (doc, text) rows."""
    hasher = MinHasher(p.num_perm, p.seed, scheme=p.scheme)
    bands, rows_per_band = optimal_bands(p.lsh_threshold, p.num_perm)
    chunk: list[tuple[tuple[int, int], Unit]] = []

    def flush() -> Iterator[tuple[tuple[int, int], Unit, list[int]]]:
        sigs = hasher.signatures([u.shingles for _, u in chunk])
        keys = band_keys(sigs, bands, rows_per_band).tolist()
        for (uid, unit), k in zip(chunk, keys, strict=True):
            yield uid, unit, k
        chunk.clear()

    for doc, text in rows:
        if not text or not text.strip():
            continue
        chunk.extend(((doc, n), u) for n, u in enumerate(units_of(doc, text, p)))
        if len(chunk) >= 2000:
            yield from flush()
    if chunk:
        yield from flush()


def _bucket_pairs(members: Iterable[tuple[int, int]], sample: int) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    ordered = sorted(set(members))
    oldest = ordered[:sample]
    for u in ordered:
        for v in oldest:
            if v != u:
                yield (min(u, v), max(u, v))


def find_pairs(spark: Any, docs_rdd: Any, p: Params) -> list[dict[str, Any]]:
    """Verified document pairs of ``docs_rdd`` ((position, text) rows): a list of
    {"a", "b", "method", "similarity", "paragraphs"} with positions a < b."""
    units = docs_rdd.mapPartitions(lambda rows: _signed_units(rows, p)).cache()
    sample = p.bucket_sample
    candidates = (
        units.flatMap(lambda x: [(k, x[0]) for k in x[2]])
        .groupByKey()
        .flatMap(lambda kv: _bucket_pairs(kv[1], sample))
        .filter(lambda pair: pair[0][0] != pair[1][0])  # two units of one document
        .distinct()
    )
    by_uid = units.map(lambda x: (x[0], x[1]))
    joined = (
        candidates.map(lambda pair: (pair[0], pair[1]))
        .join(by_uid)
        .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
        .join(by_uid)
        .map(lambda kv: (kv[1][0][1], kv[1][1]))
    )

    def check(pair: tuple[Unit, Unit]) -> list[tuple[tuple[int, int], Found]]:
        a, b = pair
        if a.doc > b.doc:
            a, b = b, a
        got = verify(a, b, p)
        if got is None:
            return []
        method, sim, detail = got
        whole = int(method == "near_duplicate")
        return [((a.doc, b.doc), (method, sim, [detail] if detail else [], whole))]

    def merge(x: Found, y: Found) -> Found:
        # the whole-document match names the method and the similarity (the stage verifies it
        # first, and later partial matches only add their paragraphs); else the best partial
        if x[3] != y[3]:
            whole = x if x[3] else y
            return (whole[0], whole[1], x[2] + y[2], 1)
        return (x[0], max(x[1], y[1]), x[2] + y[2], x[3])

    verified = joined.flatMap(check).reduceByKey(merge).collect()
    units.unpersist()
    out = []
    for (a, b), (method, sim, paras, _whole) in sorted(verified):
        out.append({"a": a, "b": b, "method": method, "similarity": sim,
                    "paragraphs": sorted(paras, key=lambda x: (x["a_paragraph"], x["b_paragraph"]))})
    return out


def is_copy(pair: dict[str, Any], lengths: dict[int, int]) -> bool:
    """Whether a verified pair joins a cluster, as the stage decides (``LaunderingStage._link``):
    a near-duplicate does; a partial match only when matched passages cover at least half of
    both texts (a heavily edited copy); other partial matches are quotes or a source's own
    repeats, which link clusters without merging them."""
    if pair["method"] == "near_duplicate":
        return True
    paras = [{"copier_span": x["b_span"], "copied_span": x["a_span"]} for x in pair["paragraphs"]]

    def covered(spans: list[list[int]], total: int) -> float:
        out, end = 0, -1
        for a, b in sorted(spans):
            a = max(a, end)
            if b > a:
                out += b - a
                end = b
        return out / max(total, 1)

    return (covered([x["copier_span"] for x in paras], lengths[pair["b"]]) >= 0.5
            and covered([x["copied_span"] for x in paras], lengths[pair["a"]]) >= 0.5)


def clusters(pairs: Iterable[dict[str, Any]]) -> dict[int, list[int]]:
    """Connected components of the verified pairs: {smallest position: sorted positions}."""
    comps: dict[int, list[int]] = {}
    for x, root in components.roots((pr["a"], pr["b"]) for pr in pairs).items():
        comps.setdefault(root, []).append(x)
    return {root: sorted(m) for root, m in comps.items() if len(m) > 1}


def run(spark: Any, inputs: list[str], out_dir: str, params: Params | None = None) -> dict[str, int]:
    """Read ``inputs``, find pairs and clusters, write Parquet under ``out_dir``: documents,
    pairs (by document key), clusters, cluster_members. Returns counts."""
    p = params or Params()
    docs = read_documents(spark, inputs).cache()  # DataFrame with pos, key, url, source, title, text, ...
    pairs = find_pairs(spark, docs.select("pos", "text").rdd.map(lambda r: (r[0], r[1])), p)
    keys: dict[int, str] = {}
    lengths: dict[int, int] = {}
    if pairs:
        for pos, key, size in docs.select("pos", "key", "text").rdd.map(
                lambda r: (r[0], r[1], len((r[2] or "").strip()))).collect():
            keys[pos], lengths[pos] = key, size
    comps = clusters(x for x in pairs if is_copy(x, lengths))
    docs.write.mode("overwrite").parquet(f"{out_dir}/documents")
    pair_rows = [(keys[x["a"]], keys[x["b"]], x["method"], float(x["similarity"]), json.dumps(x["paragraphs"]))
                 for x in pairs]
    spark.createDataFrame(pair_rows, "a_key string, b_key string, method string, similarity double, "
                                     "paragraphs string").write.mode("overwrite").parquet(f"{out_dir}/pairs")
    cluster_rows = [(f"bclu_{root}", keys[root], len(m)) for root, m in sorted(comps.items())]
    member_rows = [(f"bclu_{root}", keys[x]) for root, m in sorted(comps.items()) for x in m]
    spark.createDataFrame(cluster_rows, "cluster_id string, first_key string, size int").write.mode(
        "overwrite").parquet(f"{out_dir}/clusters")
    spark.createDataFrame(member_rows, "cluster_id string, key string").write.mode("overwrite").parquet(
        f"{out_dir}/cluster_members")
    counts = {"documents": docs.count(), "pairs": len(pairs), "clusters": len(comps)}
    docs.unpersist()
    return counts
