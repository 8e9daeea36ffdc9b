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


def test_every_stage_module_is_listed() -> None:
    """A module of extract/ or detect/ that registers a stage is in pipeline.STAGE_MODULES."""
    import fimiscope.detect
    import fimiscope.extract
    from fimiscope import pipeline

    listed = set(pipeline.STAGE_MODULES)
    for cls in pipeline.stages():
        assert cls.__module__ in listed
    for pkg in (fimiscope.extract, fimiscope.detect):
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            registers = any(getattr(obj, "__module__", None) == module.__name__ for obj in pipeline.stages())
            assert not registers or module.__name__ in listed, f"add {module.__name__} to pipeline.STAGE_MODULES"


def test_stage_names_are_room_dot_name() -> None:
    from fimiscope import pipeline

    for cls in pipeline.stages():
        room, _, short = cls.name.partition(".")
        assert short and cls.__module__.startswith(f"fimiscope.{room}."), cls
    assert pipeline.stage_names(["laundering", "detect.claims"]) == ["detect.laundering", "detect.claims"]
