"""`fimiscope serve`: the workbench (REST API + web UI) with the pipeline worker."""

from __future__ import annotations

import typer

from fimiscope.cli.app import app, settings
from fimiscope.config import Settings


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, worker: bool = True, workers: int = 1
) -> None:
    """Serve the workbench until interrupted (the demo's ``--serve`` calls this)."""
    from fimiscope.app import serve as run_server

    run_server(settings, host=host, port=port, worker=worker, workers=workers)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    no_worker: bool = typer.Option(False, "--no-worker", help="Do not run the pipeline in the background."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="HTTP server processes (one per core)."),
) -> None:
    """Serve the analyst's workbench: web UI at /, REST API at /api (OpenAPI: /api/openapi.json)."""
    cfg = settings(ctx)
    from fimiscope.store import Store
    from fimiscope.store.users import list_users

    store = Store.open(cfg.database_url, cfg.data_dir)
    if not list_users(store):
        typer.echo("No users yet: create a login with `fimiscope users add NAME --role admin`.", err=True)
    store.close()
    typer.echo(f"fimiscope workbench on http://{host}:{port}/", err=True)
    serve(cfg, host=host, port=port, worker=not no_worker, workers=workers)
