"""The composition root: builds the HTTP face (REST API, TAXII, the analyst's web UI) and
serves it. Nothing in fimiscope imports this module; it imports the areas it mounts.

``create_app`` makes one FastAPI app over one ``Store``: error handlers and the menu registry
come from leaf modules (``fimiscope.api.problems``, ``fimiscope.web.nav``), the login layer
from ``fimiscope.api.auth``, then every module named in ``MOUNTS`` gets its
``mount(app, store, settings)`` called, in that order. A new area adds one line to ``MOUNTS``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fimiscope import __version__
from fimiscope.api import auth, edge, taxii
from fimiscope.api.problems import install_error_handlers
from fimiscope.config import Settings
from fimiscope.store import Store
from fimiscope.web.render import STATIC_DIR, make_templates

log = logging.getLogger("fimiscope.api")

# Every area of the HTTP face, mounted in this order (a route added earlier wins a clash).
# Each module defines ``mount(app: FastAPI, store: Store, settings: Settings) -> None``.
MOUNTS: tuple[str, ...] = (
    "fimiscope.api.claims",
    "fimiscope.api.clusters",
    "fimiscope.api.coordination",
    "fimiscope.api.incidents",
    "fimiscope.api.narratives",
    "fimiscope.api.persuasion",
    "fimiscope.api.infrastructure",
    "fimiscope.api.rest",
    "fimiscope.api.taxii",
    "fimiscope.web.claims",
    "fimiscope.web.clusters",
    "fimiscope.web.coordination",
    "fimiscope.web.incidents",
    "fimiscope.web.narratives",
    "fimiscope.web.persuasion",
    "fimiscope.web.infrastructure",
    "fimiscope.web.pages",
    "fimiscope.web.reports",
)


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
                pipeline.run(self.store, settings=self.settings)
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
    worker: bool | None = None,
) -> FastAPI:
    """The whole HTTP face over ``store`` (opened from ``settings`` when not given; ``Settings()``,
    the environment's, when those are not given either). ``worker`` overrides the setting."""
    settings = settings or Settings()
    if store is None:
        store = Store.from_settings(settings)
    run_worker = settings.worker if worker is None else worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            app.state.worker = PipelineWorker(store, settings, settings.worker_interval_s)
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
    app.state.nav = []
    app.state.worker = None
    app.state.templates = make_templates()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    edge.limit_bodies(app)  # inside the login layer: only an authenticated client's body is read
    # TAXII checks partner credentials itself: the web login layer leaves /taxii2/ to it.
    auth.install(app, store, settings, own_auth=(taxii.PREFIX,))
    edge.install(app, settings)  # after the login layer: outside it, so its answers get the headers too
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
        # Forwarded headers are the app's business (fimiscope.api.edge, FIMISCOPE_TRUSTED_PROXIES):
        # uvicorn's own handling would believe any local client.
        config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
        # uvicorn re-raises Ctrl-C after its clean shutdown; for a server that is the normal stop.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
        return
    # Child processes build the app from the environment (Settings() reads FIMISCOPE_*): hand
    # them every setting, with the worker off (it runs once, here).
    os.environ.update(dataclasses.replace(settings, worker=False).as_env())
    store = Store.from_settings(settings)  # migrates once, before the children
    pipeline_worker = PipelineWorker(store, settings, settings.worker_interval_s) if worker else None
    if pipeline_worker is not None:
        pipeline_worker.start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(
                "fimiscope.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=False,
            )
    finally:
        if pipeline_worker is not None:
            pipeline_worker.stop()
        store.close()


__all__ = ["MOUNTS", "PipelineWorker", "create_app", "mounts", "serve"]
