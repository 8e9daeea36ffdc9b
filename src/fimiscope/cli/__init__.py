"""The command line. Each module here adds its commands to ``app`` when imported."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from fimiscope.cli.app import app
from fimiscope.core.errors import FimiscopeError

__all__ = ["app", "main"]


def _load_commands() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name not in {"app", "output"} and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_commands()


def main() -> None:
    try:
        app()
    except FimiscopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
