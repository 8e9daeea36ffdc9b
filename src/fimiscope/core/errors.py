"""Errors that reach the analyst. Each message says what went wrong and what to do next.

Each class knows what it means to both faces: ``exit_code`` for the command line and
``http_status`` for the HTTP API, so the CLI (``fimiscope.cli.main``) and the app
(``fimiscope.api.problems``) each translate in one place, without ``isinstance`` ladders::

    FimiscopeError        exit 1  HTTP 500  the command failed
    ├── InvalidInput      exit 2  HTTP 422  an option, a file, a form field or a query is wrong
    ├── ConfigError       exit 2  HTTP 500  a setting is wrong: fix it and start again
    ├── NotFound          exit 3  HTTP 404  no such source, document, signal, incident, ...
    ├── Refused           exit 4  HTTP 403  a safety rule said no (SSRF guard, robots.txt, TLP policy)
    └── Unavailable       exit 5  HTTP 503  the database or the disk is out of reach or full

Errors raised by libraries (SQLAlchemy, httpx, the OS) are translated into these once, where
fimiscope meets the library, with ``raise ... from exc`` so the cause stays in the log. An
exception that is not a ``FimiscopeError`` is a bug: it keeps its traceback.
"""

from __future__ import annotations

import errno
from typing import ClassVar


class FimiscopeError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    # A short summary of the problem type for problem+json; None: the status's own title.
    title: ClassVar[str | None] = None


class InvalidInput(FimiscopeError):
    exit_code = 2
    http_status = 422


class ConfigError(FimiscopeError):
    exit_code = 2
    http_status = 500


class NotFound(FimiscopeError):
    exit_code = 3
    http_status = 404


class Refused(FimiscopeError):
    """A safety rule refused the action (SSRF guard, robots.txt, TLP policy)."""

    exit_code = 4
    http_status = 403


class Unavailable(FimiscopeError):
    """Something fimiscope needs is out of reach or out of room: the database server, the disk."""

    exit_code = 5
    http_status = 503


# errno values that mean "out of room" (fix the machine) rather than "wrong path" (fix the input)
_OUT_OF_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_WRONG_PATH = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG}


def from_os_error(exc: OSError) -> FimiscopeError:
    """The error to report for an ``OSError`` nobody expected (raise it ``from exc``)."""
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in _OUT_OF_ROOM:
        return Unavailable(f"{reason}{where}: free some space on that disk and run the command again")
    if exc.errno in _WRONG_PATH:
        return InvalidInput(f"{reason}{where}: check the path and its permissions")
    return FimiscopeError(f"{reason}{where}")
