"""The composition root: builds the HTTP face (REST API, TAXII, the analyst's web UI) and
serves it. Nothing in fimiscope imports this module; it imports the areas it mounts.

``create_app`` makes one FastAPI app over one ``Store``: error handlers and the menu registry
come from leaf modules (``fimiscope.api.problems``, ``fimiscope.web.nav``), the login layer
from ``fimiscope.api.auth``, then every module named in ``MOUNTS`` gets its
``mount(app, store, settings)`` called, in that order. A new area adds one line to ``MOUNTS``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fimiscope import __version__
from fimiscope.api import auth
from fimiscope.api.problems import install_error_handlers
from fimiscope.config import Settings
from fimiscope.core.errors import ConfigError
from fimiscope.store import Store
from fimiscope.web.render import STATIC_DIR, make_templates

log = logging.getLogger("fimiscope.api")

# Every area of the HTTP face, mounted in this order (a route added earlier wins a clash).
# Each module defines ``mount(app: FastAPI, store: Store, settings: Settings) -> None``.
MOUNTS: tuple[str, ...] = (
    "fimiscope.api.claims",
    "fimiscope.api.clusters",
    "fimiscope.api.incidents",
    "fimiscope.api.infrastructure",
    "fimiscope.api.rest",
    "fimiscope.api.taxii",
    "fimiscope.web.claims",
    "fimiscope.web.clusters",
    "fimiscope.web.incidents",
    "fimiscope.web.infrastructure",
    "fimiscope.web.pages",
    "fimiscope.web.reports",
)


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


def mounts() -> list[Callable[[FastAPI, Store, Settings], None]]:
    """The ``mount`` functions of ``MOUNTS``, in order."""
    return [importlib.import_module(name).mount for name in MOUNTS]


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    web: WebSettings | None = None,
    worker: bool | None = None,
) -> FastAPI:
    """The whole HTTP face over ``store`` (opened from ``settings`` when not given)."""
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
    app.state.templates = make_templates()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    auth.install(app, store, web)
    for mount in mounts():
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
                "fimiscope.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True,
            )
    finally:
        if pipeline_worker is not None:
            pipeline_worker.stop()
        store.close()


__all__ = ["MOUNTS", "PipelineWorker", "WebSettings", "create_app", "mounts", "serve"]
