"""Claim candidate retrieval over a corpus as a Spark job: every document's sentences (and
pairs of neighbouring sentences) against the known claims, BM25 candidates, calibrated
probability, the best unit per claim above the threshold.

It runs ``detect.claims.ClaimMatcher`` itself (the same analyzer, BM25 index, candidates and
calibration as the stage), so on the same corpus and claims it finds the same matches as the
single-machine stage (``tests/scale/test_batch.py``). The claims (thousands to a few hundred
thousand, small beside the corpus) travel to every executor once, as a broadcast; each
Python worker builds its index once and keeps it while it lives. Documents are matched where
they lie: no shuffle, so the job scales with the executors' cores. The encoder plug-in is
left to the store's stage (a model on every executor is a deployment of its own).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fimiscope.batch.inputs import read_documents
from fimiscope.detect.claims import THRESHOLD, ClaimMatcher, claim_pair_text

MATCH_SCHEMA = (
    "document_key string, claim_key string, probability double, span_start int, span_end int, sentences string, "
    "components string"
)

_MATCHERS: dict[str, ClaimMatcher] = {}  # per Python worker: the index of a claim set, by its digest


def _matcher(digest: str, pairs: Sequence[tuple[str, str]]) -> ClaimMatcher:
    m = _MATCHERS.get(digest)
    if m is None:
        _MATCHERS.clear()
        m = _MATCHERS[digest] = ClaimMatcher(pairs)
    return m


def match_rows(
    rows: Iterable[tuple[str, str]], digest: str, pairs: Sequence[tuple[str, str]], threshold: float = THRESHOLD
) -> Iterator[tuple[Any, ...]]:
    """``MATCH_SCHEMA`` rows for (document key, text) rows: what the stage would record."""
    matcher = _matcher(digest, pairs)
    for key, text in rows:
        if not text:
            continue
        for m in matcher.match_text(text, threshold=threshold):
            yield (
                key,
                m.claim_id,
                m.probability,
                m.start,
                m.end,
                json.dumps([{"start": s.start, "end": s.end, "text": s.text} for s in m.sentences]),
                json.dumps(m.components),
            )


def run(spark: Any, inputs: list[str], claims: Sequence[dict[str, Any]], out_dir: str) -> dict[str, int]:
    """Match the documents of ``inputs`` against ``claims`` (dicts with ``key``, ``text``,
    ``title`` and what the store keeps of a claim, in the order the store would number them);
    write Parquet under ``out_dir``: documents, claims (each as JSON, for the import) and
    claim_matches (by document key and claim key). Returns counts."""
    pairs = [(c["key"], claim_pair_text(c["text"], c.get("title"))) for c in claims]
    digest = hashlib.blake2b(json.dumps(pairs).encode("utf-8"), digest_size=16).hexdigest()
    shared = spark.sparkContext.broadcast(pairs)
    docs = read_documents(spark, inputs).cache()
    docs.write.mode("overwrite").parquet(f"{out_dir}/documents")
    # matched where the documents lie, once, straight to Parquet (no join, no sort: each
    # match names its document by key)
    matches = spark.createDataFrame(
        docs.select("key", "text").rdd.map(lambda r: (r[0], r[1])).mapPartitions(
            lambda rows: match_rows(rows, digest, shared.value)),
        MATCH_SCHEMA,
    )
    matches.write.mode("overwrite").parquet(f"{out_dir}/claim_matches")
    spark.createDataFrame([(c["key"], json.dumps(c)) for c in claims], "claim_key string, claim string").write.mode(
        "overwrite").parquet(f"{out_dir}/claims")
    written = spark.read.parquet(f"{out_dir}/claim_matches")
    counts = {"documents": docs.count(), "claims": len(claims), "matches": written.count(),
              "documents_matched": written.select("document_key").distinct().count()}
    docs.unpersist()
    shared.unpersist()
    return counts
