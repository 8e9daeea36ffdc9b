"""The public face of ``core`` and ``store`` is what their ``__all__`` says, no more, no less,
after httpx's tests/test_exported_members.py (ruff's RUF022 keeps the order)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

import fimiscope.core
import fimiscope.store


@pytest.mark.parametrize("package", [fimiscope.core, fimiscope.store], ids=lambda p: p.__name__)
def test_all_public_members_are_exported(package: ModuleType) -> None:
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(package.__all__) == public, "an import in the package's __init__ that is not in __all__, or back"
    for name in package.__all__:
        assert getattr(package, name).__module__.startswith(package.__name__ + "."), name
