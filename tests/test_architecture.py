"""The house's wiring: explicit lists of what is mounted and loaded stay complete."""

from __future__ import annotations

import importlib
import pkgutil

import fimiscope.cli


def test_every_command_module_is_listed() -> None:
    helpers = {"fimiscope.cli.app", "fimiscope.cli.output"}  # the Typer app and printing, no commands
    found = {f"fimiscope.cli.{info.name}" for info in pkgutil.iter_modules(fimiscope.cli.__path__)}
    assert found - helpers == set(fimiscope.cli.COMMANDS), "add the module to fimiscope.cli.COMMANDS"
    for name in fimiscope.cli.COMMANDS:
        importlib.import_module(name)
