"""Serves the scenario's web outlets on loopback as real RSS feeds and article pages, so the
demo collects them through the same connectors an analyst uses on the open web."""

from __future__ import annotations

import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from fimiscope.core.model import Document, Source
from fimiscope.demo.scenario import render_article_html, render_rss


class ScenarioServer:
    """``with ScenarioServer(sources, docs) as server:`` -> ``server.feed_url(domain)``."""

    def __init__(self, sources: list[Source], docs: list[Document]) -> None:
        self.sources = {s.name: s for s in sources}
        self.by_domain: dict[str, list[Document]] = defaultdict(list)
        self.pages: dict[str, tuple[Document, Source | None]] = {}
        for doc in docs:
            parts = urlsplit(doc.url or "")
            if parts.hostname:
                self.by_domain[parts.hostname].append(doc)
                self.pages[f"/{parts.hostname}{parts.path}"] = (doc, self.sources.get(parts.hostname))
        self._httpd: ThreadingHTTPServer | None = None
        self.base = ""

    def feed_url(self, domain: str) -> str:
        return f"{self.base}/feeds/{domain}.xml"

    def __enter__(self) -> ScenarioServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    return self._send(200, "text/plain", "User-agent: *\nAllow: /\n")
                if path.startswith("/feeds/") and path.endswith(".xml"):
                    domain = path[len("/feeds/") : -len(".xml")]
                    if domain not in server.sources and domain not in server.by_domain:
                        return self._send(404, "text/plain", "no such feed")
                    docs = server.by_domain.get(domain, [])
                    src = server.sources.get(domain) or Source(name=domain)
                    return self._send(200, "application/rss+xml; charset=utf-8",
                                      render_rss(src, docs, f"{server.base}/{domain}"))
                page = server.pages.get(path)
                if page is None:
                    return self._send(404, "text/plain", "not found")
                return self._send(200, "text/html; charset=utf-8", render_article_html(*page))

            def _send(self, status: int, ctype: str, body: str) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
