"""What one API generation serves: its routes and the status of each domain error.

``ArenaApp`` is built from one :class:`RouteTable`; both generations share the store, the
simulator, the faults and the control routes, and differ only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Response

from mlarena_sync.arena.errors import DomainError

Handler = Callable[..., Response]
#: ``(werkzeug rule, endpoint name, methods, handler)``
Route = tuple[str, str, tuple[str, ...], Handler]


@dataclass(frozen=True)
class RouteTable:
    """One generation: ``api`` is its name (``"v0"``, ``"v4.6"``)."""

    api: str
    routes: list[Route]
    status: dict[type[DomainError], int]
