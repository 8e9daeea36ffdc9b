"""The command line. Each module in ``COMMANDS`` adds its commands to ``app`` when imported;
``fimiscope.cli.app`` turns errors into one line on stderr and an exit code."""

from __future__ import annotations

import importlib

from fimiscope.cli.app import app

__all__ = ["COMMANDS", "app", "main"]


# Every command module, in the order ``fimiscope --help`` lists their commands. A new command
# group adds one line here.
COMMANDS: tuple[str, ...] = (
    "fimiscope.cli.claims",
    "fimiscope.cli.collect",
    "fimiscope.cli.coordination",
    "fimiscope.cli.demo",
    "fimiscope.cli.documents",
    "fimiscope.cli.imports",
    "fimiscope.cli.incidents",
    "fimiscope.cli.infrastructure",
    "fimiscope.cli.laundering",
    "fimiscope.cli.narratives",
    "fimiscope.cli.partners",
    "fimiscope.cli.persuasion",
    "fimiscope.cli.run",
    "fimiscope.cli.scale",
    "fimiscope.cli.search",
    "fimiscope.cli.serve",
    "fimiscope.cli.sharing",
    "fimiscope.cli.signals",
    "fimiscope.cli.sources",
    "fimiscope.cli.users",
    "fimiscope.cli.vectors",
)


def _load_commands() -> None:
    for name in COMMANDS:
        importlib.import_module(name)


_load_commands()


def main() -> None:
    """The ``fimiscope`` console script (errors are translated in ``fimiscope.cli.app``)."""
    app()
