"""A live server on loopback (the whole HTTP face, login layer included, under uvicorn) and small
STIX builders. TAXII is tested through the same app `fimiscope serve` runs, never a bare mount."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import uvicorn

from fimiscope.app import create_app
from fimiscope.config import Settings
from fimiscope.share.markings import TLP2_IDS
from fimiscope.store import Store


class LiveServer:
    def __init__(self, store: Store) -> None:
        app = create_app(Settings(), store=store, worker=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def sdo(
    kind: str, name: str, tlp: str | None, created_by: str, modified: str = "2025-01-01T00:00:00.000Z"
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": "2025-01-01T00:00:00.000Z",
        "modified": modified,
        "name": name,
        "created_by_ref": created_by,
    }
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    return obj
