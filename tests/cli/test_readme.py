"""The README's commands work when pasted: the virtual environment is activated before the bare
``fimiscope`` commands, and every ``fimiscope ...`` line in its shell blocks parses against the
real command tree (command path, arguments, options), with the files it names in place."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from fimiscope.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def _lines() -> list[str]:
    out = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        for raw in block.splitlines():
            line = raw.split("  #", 1)[0].strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(("fimiscope ", ".venv/bin/fimiscope ")):
                    out.append(part)
    return out


def test_the_environment_is_activated_before_bare_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv" in text
    first_bare = min(text.index(f"\n{line}") for line in _lines() if line.startswith("fimiscope "))
    assert text.index("source .venv/bin/activate") < first_bare
    assert "chromium" in text and "poppler-utils" in text


def _parse(args: list[str]) -> Any:
    """Parse ``args`` as the CLI would, down to the leaf command; run nothing."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("fimiscope", list(args), resilient_parsing=False)
    while getattr(command, "commands", None) is not None:
        rest = [*getattr(ctx, "protected_args", getattr(ctx, "_protected_args", [])), *ctx.args]
        name, command, rest = command.resolve_command(ctx, rest)
        assert command is not None, f"no command {name!r}"
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
    return command


@pytest.mark.parametrize("line", _lines())
def test_every_readme_command_parses(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = shlex.split(line)[1:]
    monkeypatch.chdir(tmp_path)
    for word in args:  # the files the line names exist where it is pasted
        if re.fullmatch(r"[\w.-]+\.(csv|jsonl|json)", word):
            (tmp_path / word).write_text("", encoding="utf-8")
    args = [a if a != "DOC_ID" else "doc_1" for a in args]
    assert _parse(args).callback is not None
