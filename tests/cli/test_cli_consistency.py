"""One command line: every command that prints a result takes ``--format table|json`` (table by
default; ``export stix`` defaults to the bundle itself), every command, group, option and
argument says what it is in ``--help``, and the sharing commands that printed only prose now
print their documented JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from tests.conftest import Cli

from fimiscope.cli import app

# Commands that print no result: `serve` runs the server until stopped.
NO_RESULT = {"serve"}
# The bundle is the result of `export stix`, so JSON is its default.
JSON_DEFAULT = {"export stix"}


def _walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    subs = getattr(command, "commands", None)
    if subs is None:
        yield " ".join(path), command
        return
    yield " ".join(path) or "fimiscope", command
    for name, sub in sorted(subs.items()):
        yield from _walk(sub, [*path, name])


ROOT = typer.main.get_command(app)
COMMANDS = [(p, c) for p, c in _walk(ROOT, []) if getattr(c, "commands", None) is None]
EVERYTHING = list(_walk(ROOT, []))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_that_prints_a_result_takes_format(path: str, command: Any) -> None:
    fmt = next((p for p in command.params if "--format" in getattr(p, "opts", [])), None)
    if path in NO_RESULT:
        assert fmt is None
        return
    assert fmt is not None, f"`fimiscope {path}` has no --format table|json"
    assert fmt.default == ("json" if path in JSON_DEFAULT else "table"), path
    assert "table" in (fmt.help or "") and "json" in (fmt.help or ""), f"`{path} --format` should name its choices"


@pytest.mark.parametrize(("path", "command"), EVERYTHING, ids=[p for p, _ in EVERYTHING])
def test_every_command_option_and_argument_has_help(path: str, command: Any) -> None:
    assert (command.help or "").strip(), f"`fimiscope {path}` has no help text"
    for param in command.params:
        if param.param_type_name in ("option", "argument"):
            assert (getattr(param, "help", None) or "").strip(), f"`fimiscope {path}`: {param.name} has no help text"


def test_the_format_is_checked_everywhere(cli: Cli) -> None:
    bad = cli("taxii", "collection", "add", "fimi", "--format", "xml", ok=False)
    assert bad.exit_code == 2 and "--format" in bad.stderr


def test_sharing_commands_print_their_documented_json(cli: Cli) -> None:
    made = json.loads(cli("taxii", "collection", "add", "fimi-green", "--title", "FIMI (green)",
                          "--format", "json").stdout)
    assert made["id"] == "fimi-green" and made["title"] == "FIMI (green)"
    assert "fimi-green" in cli("taxii", "collection", "list").stdout
    cli("incidents", "create", "--title", "Border story laundered", "--tlp", "green", "--format", "json")

    first = json.loads(cli("taxii", "publish", "fimi-green", "--format", "json").stdout)
    assert first["collection"] == "fimi-green" and first["new"] > 0 and first["known"] == 0
    again = json.loads(cli("taxii", "publish", "fimi-green", "--format", "json").stdout)
    assert again == {"collection": "fimi-green", "new": 0, "known": first["new"]}
    assert "0 objects added" in cli("taxii", "publish", "fimi-green").stdout

    cli("partners", "add", "acme", "--read", "fimi-green", "--write", "fimi-green", "--format", "json")
    accepted = json.loads(cli("partners", "accept", "acme", "--format", "json").stdout)
    assert accepted == {"accepted": [], "conflicts": []}
    dropped = json.loads(cli("partners", "reject", "acme", "--format", "json").stdout)
    assert dropped == {"dropped": 0}
    assert "0 objects dropped" in cli("partners", "reject", "acme").stdout


def test_the_command_line_starts_without_the_detectors_heavy_modules() -> None:
    """Every `fimiscope ...` run imports every command module; the numeric, HTTP and migration
    libraries load only in the commands that use them (a CLI start was ~2.5 s of CPU with them,
    ~1.5 s without), and a store already at its migration heads opens without Alembic."""
    import subprocess
    import sys

    probe = ("import sys, fimiscope.cli; heavy = ['numpy', 'scipy', 'sklearn', 'httpx', 'alembic', 'faiss', "
             "'trafilatura', 'fimiscope.detect.laundering', 'fimiscope.collect.runner']; "
             "print(' '.join(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
