"""The fake arena's own errors: it imports nothing else of ``mlarena_sync``.

Two families. :class:`ArenaSetupError` is the arena refusing to start (the ``arena`` extra
missing, a port it cannot bind): the CLI turns it into exit code 2. :class:`DomainError` and
its subclasses are what the store and the handlers raise when a request cannot be served:
the store knows nothing of HTTP, so each route table (one per API generation) maps these
classes to its own status codes.
"""

from __future__ import annotations

from typing import Any


class ArenaSetupError(Exception):
    """The fake arena cannot start: a missing extra, an address that cannot be bound.

    Callers outside the arena map it to their own "configuration error" (exit code 2).
    """

    exit_code = 2


class DomainError(Exception):
    """A request the arena refuses; ``extra`` keys go into the JSON error body as they are."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class NotFound(DomainError):
    """No such record, or not the caller's: the two look the same from outside."""


class Conflict(DomainError):
    """The record exists but its state forbids the operation (deploying, deleted, quota)."""


class Refused(DomainError):
    """The request itself is malformed or asks for something the arena never allows."""


class TooLarge(DomainError):
    """An upload over the challenge's per-file size limit."""


class Unauthorized(DomainError):
    """No API key, or one the arena does not know."""


class Forbidden(DomainError):
    """A known caller without the right to do this (wrong key scope, a reader writing)."""


#: The status every generation answers for each domain error unless it says otherwise.
DEFAULT_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Refused: 400,
    TooLarge: 413,
    Unauthorized: 401,
    Forbidden: 403,
}


def status_for(exc: DomainError, table: dict[type[DomainError], int]) -> int:
    """The HTTP status of ``exc`` in a generation's ``table`` (most specific class first)."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return 500
