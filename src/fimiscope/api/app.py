"""The HTTP application: REST API, the analyst's web UI and every mounted area.

``create_app`` builds one FastAPI app over one ``Store``. Areas plug in without editing this
file: every module of ``fimiscope.api`` (and ``fimiscope.web``) that defines
``mount(app, store, settings)`` is imported and its ``mount`` called; a mount may add routes
and register navigation entries with ``add_nav`` so its pages appear in the menu.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pkgutil
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fimiscope import __version__
from fimiscope.config import Settings
from fimiscope.core.errors import ConfigError, FimiscopeError, InvalidInput, NotFound, Refused
from fimiscope.store import Store

log = logging.getLogger("fimiscope.api")

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
MOUNT_PACKAGES = ("fimiscope.api", "fimiscope.web")
_NOT_MOUNTS = {"app", "auth", "problems"}


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(slots=True)
class WebSettings:
    """Settings of the HTTP face (environment ``FIMISCOPE_*``), apart from the store's."""

    # "auto": cookies get the Secure flag when the request came over https (behind a proxy,
    # run uvicorn with --proxy-headers); "always" / "never" force it.
    cookie_secure: str = field(default_factory=lambda: os.environ.get("FIMISCOPE_COOKIE_SECURE", "auto"))
    session_hours: float = field(default_factory=lambda: float(os.environ.get("FIMISCOPE_SESSION_HOURS", "12")))
    login_attempts: int = field(default_factory=lambda: int(os.environ.get("FIMISCOPE_LOGIN_ATTEMPTS", "5")))
    login_window_s: float = field(default_factory=lambda: float(os.environ.get("FIMISCOPE_LOGIN_WINDOW_S", "300")))
    worker: bool = field(default_factory=lambda: _env_bool("FIMISCOPE_WORKER", True))
    worker_interval_s: float = field(
        default_factory=lambda: float(os.environ.get("FIMISCOPE_WORKER_INTERVAL_S", "300"))
    )

    def __post_init__(self) -> None:
        if self.cookie_secure not in {"auto", "always", "never"}:
            raise ConfigError("FIMISCOPE_COOKIE_SECURE must be auto, always or never")


@dataclass(slots=True)
class NavEntry:
    label: str
    href: str
    order: int = 50
    role: str = "viewer"  # least role that sees the entry


def add_nav(app: FastAPI, label: str, href: str, *, order: int = 50, role: str = "viewer") -> None:
    """Register a menu entry (called from a module's ``mount``)."""
    nav: list[NavEntry] = app.state.nav
    nav[:] = [n for n in nav if n.href != href]
    nav.append(NavEntry(label=label, href=href, order=order, role=role))
    nav.sort(key=lambda n: (n.order, n.label))


# -- errors: RFC 9457 problem details ----------------------------------------------------------

PROBLEM = "application/problem+json"
_STATUS_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _STATUS_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/taxii"):
        return False
    return "text/html" in request.headers.get("accept", "") and "HX-Request" not in request.headers


def error_response(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """problem+json; a browser navigating to a page gets the same facts as an HTML page."""
    if _wants_html(request) and hasattr(request.app.state, "templates"):
        resp: Response = request.app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "title": _STATUS_TITLES.get(status, "Error"), "detail": detail},
            status_code=status,
            headers=headers,
        )
        return resp
    return problem(status, detail, instance=request.url.path, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _STATUS_TITLES.get(exc.status_code, "Error")
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(FimiscopeError)
    async def _ours(request: Request, exc: FimiscopeError) -> Response:
        status = 500
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, InvalidInput | ConfigError):
            status = 422
        elif isinstance(exc, Refused):
            status = 403
        return error_response(request, status, str(exc))

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError) -> Response:
        return error_response(request, 422, str(exc))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "the server failed; the log has the details")


# -- the pipeline worker -----------------------------------------------------------------------


class PipelineWorker:
    """Runs ``fimiscope.pipeline.run`` every ``interval`` seconds in a thread until stopped."""

    def __init__(self, store: Store, settings: Settings, interval: float) -> None:
        self.store = store
        self.settings = settings
        self.interval = interval
        self.runs = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fimiscope-pipeline", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from fimiscope import pipeline

        while not self._stop.is_set():
            try:
                pipeline.run(self.store, batch_size=self.settings.batch_size)
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("pipeline run failed")
            self.runs += 1
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop and wait for the run in flight (it commits per batch)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


# -- assembling the app ------------------------------------------------------------------------


def discover_mounts() -> list[Callable[[FastAPI, Store, Settings], None]]:
    mounts = []
    for package in MOUNT_PACKAGES:
        pkg = importlib.import_module(package)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if info.name in _NOT_MOUNTS or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            mount = getattr(module, "mount", None)
            if callable(mount):
                mounts.append(mount)
    return mounts


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    web: WebSettings | None = None,
    worker: bool | None = None,
) -> FastAPI:
    """The whole HTTP face over ``store`` (opened from ``settings`` when not given)."""
    from fimiscope.api import auth

    settings = settings or Settings()
    web = web or WebSettings()
    if store is None:
        store = Store.open(settings.database_url, settings.data_dir)
    run_worker = web.worker if worker is None else worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            app.state.worker = PipelineWorker(store, settings, web.worker_interval_s)
            app.state.worker.start()
        try:
            yield
        finally:
            if app.state.worker is not None:
                app.state.worker.stop()

    app = FastAPI(
        title="fimiscope",
        version=__version__,
        description="REST API of the fimiscope analyst's workbench. Authenticate with a bearer token "
        "(`fimiscope users token NAME`) or a browser session.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.web = web
    app.state.nav = []
    app.state.worker = None
    from fimiscope.web.render import make_templates

    app.state.templates = make_templates()
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    auth.install(app, store, web)
    for mount in discover_mounts():
        mount(app, store, settings)
    return app


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, worker: bool = True, workers: int = 1
) -> None:
    """Serve the workbench with uvicorn until interrupted (used by `fimiscope serve` and the demo).

    With ``workers`` > 1, uvicorn runs that many processes (the GIL caps one process at about
    one core); the pipeline worker then runs once, in this supervising process.
    """
    import uvicorn

    if workers <= 1:
        app = create_app(settings, worker=worker)
        config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=True)
        # uvicorn re-raises Ctrl-C after its clean shutdown; for a server that is the normal stop.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
        return
    # Child processes build the app from the environment (Settings() reads FIMISCOPE_*).
    os.environ["FIMISCOPE_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["FIMISCOPE_DATABASE_URL"] = settings.database_url
    os.environ["FIMISCOPE_WORKER"] = "0"
    store = Store.open(settings.database_url, settings.data_dir)  # migrates once, before the children
    pipeline_worker = PipelineWorker(store, settings, WebSettings().worker_interval_s) if worker else None
    if pipeline_worker is not None:
        pipeline_worker.start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(
                "fimiscope.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True,
            )
    finally:
        if pipeline_worker is not None:
            pipeline_worker.stop()
        store.close()
