"""Settings: defaults, then ``FIMISCOPE_*`` environment variables, then command-line options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fimiscope.store import Store


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(slots=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("FIMISCOPE_DATA_DIR", "fimiscope-data")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("FIMISCOPE_DATABASE_URL") or None)
    # The fetcher refuses private, loopback and metadata addresses unless this is on.
    allow_private_networks: bool = field(default_factory=lambda: _env_bool("FIMISCOPE_ALLOW_PRIVATE_NETWORKS"))
    user_agent: str = field(
        default_factory=lambda: os.environ.get(
            "FIMISCOPE_USER_AGENT", "fimiscope/0.1 (+https://github.com/fimiscope/fimiscope)"
        )
    )
    batch_size: int = field(default_factory=lambda: int(os.environ.get("FIMISCOPE_BATCH_SIZE", "500")))

    def open_store(self) -> Store:
        from fimiscope.store import Store

        return Store.open(self.database_url, self.data_dir)
