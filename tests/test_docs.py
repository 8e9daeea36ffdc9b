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
