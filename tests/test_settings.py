"""The settings table: one declaration per setting, read from the environment in one place,
bad values refused with the variable's name."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from fimiscope.config import SETTINGS, Settings
from fimiscope.core.errors import ConfigError


def test_every_setting_has_its_variable_a_default_and_a_doc_line() -> None:
    assert len({s.env for s in SETTINGS}) == len(SETTINGS) == len(dataclasses.fields(Settings))
    for s in SETTINGS:
        assert s.env == "FIMISCOPE_" + s.name.upper(), s
        assert s.doc and not s.doc.endswith("."), s
        default = Settings.__dataclass_fields__[s.name].metadata["default"]
        assert default is None or isinstance(default, s.kind), s


def test_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIMISCOPE_FETCH_DELAY", "0.25")
    monkeypatch.setenv("FIMISCOPE_OBEY_ROBOTS", "off")
    monkeypatch.setenv("FIMISCOPE_DATA_DIR", "~/fimi")
    monkeypatch.setenv("FIMISCOPE_DATABASE_URL", "")  # set but empty: as if unset
    s = Settings(batch_size=7)
    assert (s.fetch_delay, s.obey_robots, s.batch_size, s.database_url) == (0.25, False, 7, None)
    assert s.data_dir == Path("~/fimi").expanduser()
    # a child process reads the same settings back from as_env()
    for name, value in s.as_env().items():
        monkeypatch.setenv(name, value)
    assert Settings() == s


@pytest.mark.parametrize(
    ("env", "raw", "says"),
    [
        ("FIMISCOPE_FETCH_DELAY", "soon", "is not a number"),
        ("FIMISCOPE_BATCH_SIZE", "1.5", "is not a whole number"),
        ("FIMISCOPE_WORKER", "maybe", "is not on or off"),
        ("FIMISCOPE_COOKIE_SECURE", "sometimes", "use one of auto, always, never"),
        ("FIMISCOPE_BATCH_SIZE", "0", "must be at least 1"),
    ],
)
def test_bad_values_name_their_variable(monkeypatch: pytest.MonkeyPatch, env: str, raw: str, says: str) -> None:
    monkeypatch.setenv(env, raw)
    with pytest.raises(ConfigError, match=f"{env}=.*{says}"):
        Settings()


def test_a_bad_variable_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fimiscope", "--data-dir", str(tmp_path), "stats"],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), "FIMISCOPE_FETCH_RETRIES": "many"},
    )
    assert done.returncode == 2
    assert done.stderr == "error: FIMISCOPE_FETCH_RETRIES='many' is not a whole number\n"
