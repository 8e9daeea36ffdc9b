"""The house's wiring: explicit lists of what is mounted and loaded stay complete."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

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


def test_every_connector_module_is_listed() -> None:
    import fimiscope.collect
    from fimiscope.collect.base import CONNECTOR_MODULES, connectors

    for cls in connectors().values():
        assert cls.__module__ in CONNECTOR_MODULES
    for info in pkgutil.iter_modules(fimiscope.collect.__path__):
        spec = importlib.util.find_spec(f"fimiscope.collect.{info.name}")
        assert spec is not None and spec.origin is not None
        defines = "@connector\n" in Path(spec.origin).read_text()
        assert not defines or f"fimiscope.collect.{info.name}" in CONNECTOR_MODULES, info.name


# -- the import graph ---------------------------------------------------------------------------
# Which rooms each room may import (docs/development.md, "Who may import whom"). A lower room
# never imports a higher one; the root package (``fimiscope.__version__``) is free to all.
_BELOW_API = {"core", "config", "store", "index", "pipeline", "extract", "collect", "collect.runner", "detect",
              "cases", "share", "demo"}
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "config": {"core"},
    "store": {"core", "config"},
    "index": {"core", "config"},
    "pipeline": {"core", "config", "store"},
    "extract": {"core", "config", "store", "pipeline"},
    "collect": {"core", "config"},
    "collect.runner": {"core", "config", "store", "collect", "extract"},
    "detect": {"core", "config", "index", "store", "pipeline"},
    "cases": {"core", "config", "store"},
    "share": {"core", "config", "store", "cases"},
    "demo": {"core"},
    "batch": {"core", "config", "extract", "index", "detect"},
    "api": _BELOW_API,
    "web": _BELOW_API | {"api"},
    "app": _BELOW_API | {"api", "web"},
    "cli": _BELOW_API | {"api", "web", "app", "batch"},
    "__main__": {"cli"},
}
SRC = Path(__file__).resolve().parent.parent / "src"


def _room(module: str) -> str:
    if module == "fimiscope" or module.startswith("fimiscope.collect.runner"):
        return "fimiscope" if module == "fimiscope" else "collect.runner"
    return module.split(".")[1]


def _module_names() -> dict[str, Path]:
    out = {}
    for path in (SRC / "fimiscope").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at any depth of the file, lazy imports too)."""
    import ast

    modules = _module_names()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: climb from this module's package
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # `from fimiscope.store import signals` imports the submodule when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = found
    return graph


def test_no_room_imports_a_higher_one() -> None:
    wrong = []
    for module, targets in _imports().items():
        room = _room(module)
        allowed = MAY_IMPORT.get(room)
        if allowed is None:
            continue  # the root package
        for target in targets:
            other = _room(target)
            if other not in (room, "fimiscope") and other not in allowed:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against docs/development.md's table:\n" + "\n".join(sorted(wrong))


def test_every_room_is_in_the_table() -> None:
    rooms = {_room(m) for m in _module_names()} - {"fimiscope"}
    assert rooms <= set(MAY_IMPORT), f"add these rooms to MAY_IMPORT and docs/development.md: {rooms - set(MAY_IMPORT)}"


def test_no_import_cycle() -> None:
    """No module imports itself through others (a package's __init__ importing its own
    submodules is not a cycle unless a submodule imports the package's __init__ back)."""
    graph = _imports()
    for module, targets in graph.items():  # a submodule importing its own package is the package's business
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
