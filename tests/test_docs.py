"""docs/ keeps up with the code: a setting, a stage, a connector or a command that is not
documented fails here (after datasette's tests/test_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fimiscope.config import SETTINGS, Setting

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _rows(page: str) -> dict[str, str]:
    """Table rows of a docs page keyed by the first backquoted name in the row."""
    rows = {}
    for line in (DOCS / page).read_text().splitlines():
        m = re.match(r"\|\s*`([^`]+)`", line)
        if m:
            rows[m.group(1)] = line
    return rows


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_with_its_default(setting: Setting) -> None:
    row = _rows("settings.md").get(setting.env)
    assert row is not None, f"add {setting.env} to docs/settings.md"
    cells = [c.strip() for c in row.strip("|").split("|")]
    default = setting.default
    if default is None:
        shown = "unset"
    elif isinstance(default, bool):
        shown = "on" if default else "off"
    elif default == "":
        shown = "empty"
    else:
        shown = f"`{default}`"
    assert cells[1] == shown, f"docs/settings.md gives {setting.env} the default {cells[1]}, the code {shown}"


def test_settings_page_lists_nothing_that_is_gone() -> None:
    known = {s.env for s in SETTINGS}
    documented = {name for name in _rows("settings.md") if name.startswith("FIMISCOPE_")}
    assert documented <= known, f"docs/settings.md documents settings the code lacks: {documented - known}"


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.glob("*.md")))


def _documented_commands(text: str) -> set[str]:
    """Command paths named in the docs: `fimiscope clusters show ID`, `clusters show`, and the
    shorthand `incidents create|show|update` for each of the three."""
    import itertools

    documented = set()
    snippets = re.findall(r"`([^`\n]+)`", text) + re.findall(r"^\s*\$?\s*(fimiscope [^\n]+)$", text, re.M)
    for snippet in snippets:
        words = snippet.split()
        if words and words[0] == "fimiscope":
            words = words[1:]
        while words and words[0].startswith("--"):  # global options before the command
            words = words[2:] if len(words) > 1 and not words[1].startswith("-") else words[1:]
        for combo in itertools.product(*(w.split("|") for w in words[:3])):
            documented.update(" ".join(combo[:n]) for n in range(1, len(combo) + 1))
    return documented


def _command_paths() -> list[str]:
    import typer

    from fimiscope.cli import app

    paths: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        subs = getattr(command, "commands", None)
        if subs is None:
            paths.append(" ".join(prefix))
            return
        for name, sub in subs.items():
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_cli_command_is_documented() -> None:
    documented = _documented_commands(_docs_text())
    missing = [p for p in _command_paths() if p not in documented]
    assert not missing, f"document these commands in docs/cli.md: {missing}"


def test_every_stage_is_documented() -> None:
    from fimiscope import pipeline

    text = _docs_text()
    missing = [s.name for s in pipeline.stages() if f"`{s.name}`" not in text]
    assert not missing, f"name these stages in docs/ (e.g. docs/cli.md, `fimiscope run`): {missing}"


def test_every_connector_is_documented() -> None:
    from fimiscope.collect.base import connectors

    text = (DOCS / "sources.md").read_text()
    missing = [kind for kind in connectors() if f"`{kind}`" not in text]
    assert not missing, f"document these source kinds in docs/sources.md: {missing}"
