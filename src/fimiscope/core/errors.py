"""Errors that reach the analyst. Each message says what went wrong and what to do."""


class FimiscopeError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""

    exit_code = 1


class NotFound(FimiscopeError):
    exit_code = 3


class InvalidInput(FimiscopeError):
    exit_code = 2


class ConfigError(FimiscopeError):
    exit_code = 2


class Refused(FimiscopeError):
    """A safety rule refused the action (SSRF guard, robots.txt, TLP policy)."""

    exit_code = 4
