"""The Typer application and the command groups that several modules add to."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from fimiscope import __version__
from fimiscope.config import Settings
from fimiscope.core.errors import FimiscopeError, NotFound, from_os_error
from fimiscope.store import Store

if TYPE_CHECKING:
    from fimiscope.pipeline import StageReport


class _Root(TyperGroup):
    """The one place where the command line turns an error into one line on stderr and an exit
    code (docs/cli.md): a ``FimiscopeError`` knows its ``exit_code``; an OS error the command
    did not expect (a full disk, a file it may not write) is translated here; anything else is
    a bug and keeps its traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FimiscopeError as exc:
            _fail(ctx, exc)
        except OSError as exc:
            _fail(ctx, from_os_error(exc))
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)


def _fail(ctx: Any, exc: FimiscopeError) -> None:
    # One line, whatever the message holds (a driver's message can span several).
    line = " ".join(str(exc).split())
    typer.echo(f"error: {line}", err=True)
    ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=_Root,
    name="fimiscope",
    help="Collect, detect and share evidence of foreign information manipulation (FIMI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
# Groups that more than one module adds commands to (e.g. `import jsonl` and `import stix`).
import_app = typer.Typer(help="Import documents and shared objects.", no_args_is_help=True)
export_app = typer.Typer(help="Export shared objects.", no_args_is_help=True)
detect_app = typer.Typer(help="Run one detector now (`fimiscope run` runs them all).", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(detect_app, name="detect")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fimiscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Path = typer.Option(
        None, "--data-dir", envvar="FIMISCOPE_DATA_DIR", help="Folder of the embedded SQLite store."
    ),
    database_url: str = typer.Option(
        None, "--database-url", envvar="FIMISCOPE_DATABASE_URL", help="postgresql://... for a shared store."
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    if database_url:
        settings.database_url = database_url
    ctx.obj = settings


def settings(ctx: typer.Context) -> Settings:
    """The settings of this invocation: environment, then the global options."""
    obj: Any = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()


# Commands that only read: run with no store, they say where they looked instead of creating
# an empty ./fimiscope-data and answering "nothing" from it.
READ_ONLY_COMMANDS = frozenset({"list", "show", "stats", "search", "sources", "pairs", "stix"})


def open_store(ctx: typer.Context) -> Store:
    """The store this invocation names (``--data-dir`` / ``--database-url``), migrated."""
    cfg = settings(ctx)
    if not cfg.database_url and ctx.info_name in READ_ONLY_COMMANDS:
        where = (cfg.data_dir / "fimiscope.sqlite3").resolve()
        if not where.exists():
            raise NotFound(
                f"no store at {where}: pass --data-dir (or FIMISCOPE_DATA_DIR) or --database-url, "
                "or make one with `fimiscope import`, `fimiscope collect` or `fimiscope demo`"
            )
    return Store.from_settings(cfg)


def run_stages(ctx: typer.Context, names: list[str], batch_size: int | None = None) -> list[StageReport]:
    """Run the named stages now, in order, each with its progress bar: what every
    ``fimiscope detect X`` does (``fimiscope run`` runs them all)."""
    from fimiscope import pipeline
    from fimiscope.cli.output import progress

    cfg = settings(ctx)
    store = open_store(ctx)
    reports: list[StageReport] = []
    for name in names:
        with progress(name) as update:
            reports += pipeline.run(store, only=[name], settings=cfg, batch_size=batch_size,
                                    on_stage=lambda _c: update)
    return reports
