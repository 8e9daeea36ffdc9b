"""Decoding and validating JSONL rows for bulk import: orjson vs msgspec, side by side, one run.

What `fimiscope import jsonl` does per line before a row reaches the store: decode the JSON,
then check the generic schema (required text, url or id, types, lengths, dates, NULs).
Contenders, each on the same lines, CPU time per row (process time, so the machine's other
load does not count):

  orjson.loads                      decode only (our decoder)
  msgspec.json.decode               decode only, to dicts
  msgspec typed (Struct)            decode + type checks in C, into a Struct of the schema's fields
  orjson + document_from_mapping    our full decode + validation (what the importer runs)
  msgspec + document_from_mapping   the same validation behind msgspec's decoder

    python benchmarks/decode_bench.py [--n 100000]

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many passes per contender")
    args = parser.parse_args()

    import msgspec
    import orjson

    from fimiscope.collect.generic import document_from_mapping

    class Row(msgspec.Struct, forbid_unknown_fields=False):
        text: str
        url: str | None = None
        id: str | None = None
        source: str | None = None
        title: str | None = None
        language: str | None = None
        published_at: str | None = None
        author: str | None = None
        platform: str | None = None
        links: list[str] = []

    path = Path(tempfile.mkdtemp(prefix="fimiscope-decode-")) / "rows.jsonl"
    generate(path, args.n)
    lines = path.read_bytes().splitlines()
    plain = msgspec.json.Decoder()
    typed = msgspec.json.Decoder(Row)

    def ours(line: bytes) -> object:
        return document_from_mapping(orjson.loads(line), stripped=[])

    def msgspec_ours(line: bytes) -> object:
        return document_from_mapping(plain.decode(line), stripped=[])

    contenders: list[tuple[str, Callable[[bytes], object]]] = [
        ("orjson.loads", orjson.loads),
        ("msgspec.json.decode", plain.decode),
        ("msgspec typed (Struct)", typed.decode),
        ("orjson + document_from_mapping", ours),
        ("msgspec + document_from_mapping", msgspec_ours),
    ]
    results = {}
    for label, fn in contenders:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            for line in lines:
                fn(line)
            best = min(best, time.process_time() - start)
        results[label] = best / len(lines) * 1e6
    base = results["orjson.loads"]
    full = results["orjson + document_from_mapping"]
    print(f"\n{args.n:,} rows ({path.stat().st_size / len(lines):,.0f} bytes each), CPU µs per row, best of "
          f"{args.repeat}\n")
    print(f"{'contender':34} {'µs/row':>8} {'vs orjson.loads':>16} {'vs our full path':>17}")
    for label, us in results.items():
        print(f"{label:34} {us:>8.2f} {base / us:>15.2f}x {full / us:>16.2f}x")
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))


if __name__ == "__main__":
    main()
