"""The Typer application and the command groups that several modules add to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from fimiscope import __version__
from fimiscope.config import Settings
from fimiscope.core.errors import FimiscopeError


class _Root(TyperGroup):
    """Turns our errors into one line on stderr and a meaningful exit code (docs/cli.md)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FimiscopeError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except ValueError as exc:  # e.g. an enum given a value it does not know
            if type(exc) is not ValueError:
                raise
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(2)


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
    obj: Any = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings()
