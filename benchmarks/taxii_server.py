"""Our TAXII 2.1 server beside medallion (the OASIS reference server, memory backend), side by side.

Same objects, same client (httpx), same page size: paging through a whole collection, and
fetching single objects by id. Medallion keeps everything in memory and has no TLP filter;
ours reads from the store (SQLite here) and filters by the partner's TLP and collections in
the query. Needs `pip install medallion` (not a fimiscope dependency).

    python benchmarks/taxii_server.py --n 20000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "share"))

MEDIA = "application/taxii+json;version=2.1"


def objects(n: int) -> list[dict[str, Any]]:
    org = "identity--00000000-0000-4000-8000-00000000000b"
    return [
        {
            "type": "threat-actor",
            "spec_version": "2.1",
            "id": f"threat-actor--{uuid.uuid4()}",
            "created": "2025-01-01T00:00:00.000Z",
            "modified": "2025-01-01T00:00:00.000Z",
            "name": f"actor {i}",
            "created_by_ref": org,
            "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
        }
        for i in range(n)
    ]


def page_all(url: str, auth: dict[str, str], limit: int) -> int:
    got, params = 0, {"limit": limit}
    with httpx.Client(headers={"Accept": MEDIA, **auth}, timeout=120) as c:
        while True:
            body = c.get(url, params=params).json()
            got += len(body.get("objects", []))
            if not body.get("more"):
                return got
            params["next"] = body["next"]


def by_id(url: str, auth: dict[str, str], ids: list[str]) -> None:
    with httpx.Client(headers={"Accept": MEDIA, **auth}, timeout=120) as c:
        for oid in ids:
            assert c.get(f"{url}{oid}/").status_code == 200


def run_ours(objs: list[dict[str, Any]], limit: int, sample: list[str]) -> tuple[float, float, int]:
    from taxii_helpers import LiveServer

    from fimiscope.share import taxii_server
    from fimiscope.store import Store
    from fimiscope.store.share import Partner, ShareStore

    store = Store.open(None, Path(tempfile.mkdtemp()))
    shares = ShareStore(store)
    shares.add_collection("c", "c")
    taxii_server.publish(store, "c", objs)
    shares.add_partner(
        Partner(
            id="",
            name="p",
            identity_id="identity--00000000-0000-4000-8000-00000000000c",
            read_collections=["c"],
            write_collections=[],
            max_tlp="green",
        ),
        "tok",
    )
    with LiveServer(store) as s:
        url = s.url + "/taxii2/fimi/collections/c/objects/"
        auth = {"Authorization": "Bearer tok"}
        t = time.perf_counter()
        n = page_all(url, auth, limit)
        paged = time.perf_counter() - t
        t = time.perf_counter()
        by_id(url, auth, sample)
        single = time.perf_counter() - t
    return paged, single, n


def run_medallion(objs: list[dict[str, Any]], limit: int, sample: list[str]) -> tuple[float, float, int]:
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    import medallion

    now = "2025-06-01T00:00:00.000000Z"
    stored = [dict(o, _date_added=now) for o in objs]
    manifest = [
        {"id": o["id"], "date_added": now, "version": o["modified"], "media_type": "application/stix+json;version=2.1"}
        for o in objs
    ]
    data = {
        "/discovery": {"title": "m", "default": "http://127.0.0.1/api1/", "api_roots": ["http://127.0.0.1/api1/"]},
        "api1": {
            "information": {"title": "a", "versions": [MEDIA], "max_content_length": 10485760},
            "status": [],
            "collections": [
                {
                    "id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
                    "title": "c",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": stored,
                    "manifest": manifest,
                }
            ],
        },
    }
    path = Path(tempfile.mkdtemp()) / "data.json"
    path.write_text(json.dumps(data))
    cfg = Path(tempfile.mkdtemp()) / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(path),
                },
                "users": {"u": "p"},
                "taxii": {"max_page_size": limit},
            }
        )
    )
    app = medallion.load_app(str(cfg))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/"
        auth = {"Authorization": "Basic " + __import__("base64").b64encode(b"u:p").decode()}
        t = time.perf_counter()
        n = page_all(url, auth, limit)
        paged = time.perf_counter() - t
        t = time.perf_counter()
        by_id(url, auth, sample)
        single = time.perf_counter() - t
    finally:
        server.shutdown()
    return paged, single, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--by-id", type=int, default=200)
    args = ap.parse_args()
    objs = objects(args.n)
    sample = [o["id"] for o in random.Random(1).sample(objs, min(args.by_id, len(objs)))]
    ours = run_ours(objs, args.limit, sample)
    theirs = run_medallion(objs, args.limit, sample)
    print(f"{'':34} {'fimiscope':>12} {'medallion':>12} {'ratio':>8}")
    print(f"{'objects paged (limit ' + str(args.limit) + ')':34} {ours[2]:>12} {theirs[2]:>12}")
    print(f"{'page through all, s':34} {ours[0]:>12.2f} {theirs[0]:>12.2f} {theirs[0] / ours[0]:>7.1f}x")
    print(
        f"{'get ' + str(len(sample)) + ' objects by id, s':34} {ours[1]:>12.2f} {theirs[1]:>12.2f}"
        f" {theirs[1] / ours[1]:>7.1f}x"
    )


if __name__ == "__main__":
    main()
