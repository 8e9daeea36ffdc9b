"""A real HTTP server on loopback for the web-collection tests (fixtures: import them). Routes are
static responses or handlers that write whatever a hostile server would."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fimiscope.config import Settings


@dataclass
class Reply:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[BaseHTTPRequestHandler], None]


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)

    def __setitem__(self, path: str, reply: Reply | Handler | str | bytes) -> None:
        self.routes[path] = Reply(reply) if isinstance(reply, str | bytes) else reply


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            site.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path)
            if route is None:
                route = Reply(b"not here", 404, "text/plain")
            if callable(route) and not isinstance(route, Reply):
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)
                return
            body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in route.headers.items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return H


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(s))
    server.daemon_threads = True
    s.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield s
    server.shutdown()
    server.server_close()


@pytest.fixture
def web_settings(tmp_path: Any) -> Settings:
    settings = Settings()
    settings.allow_private_networks = True
    settings.user_agent = "fimiscope-test/1.0"
    settings.batch_size = 3
    return settings


def article(title: str, text: str, *, lang: str = "en", charset: str = "utf-8", extra: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="{charset}"><title>{title}</title>{extra}</head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Footer text</footer></body></html>"
    )


LOREM = (
    "The ministry said on Tuesday that the new pipeline would be finished within two years, "
    "according to officials who spoke at a press conference in the capital.\n"
    "Critics argued that the project was announced without any public consultation and that its "
    "costs had been hidden from parliament for months.\n"
    "Independent analysts pointed out that the same claims had circulated on anonymous channels "
    "a week before the announcement, which raised questions about coordination."
)
