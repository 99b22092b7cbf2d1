"""The one channel from the core to whoever listens: the :class:`EventSink` protocol.

The core (engine, watch, store) never prints: it *emits* events, each a name and keyword fields,
at a :data:`Level`. The CLI's :class:`~mlarena_sync.cli.output.Output` renders them (a line for a
person at a terminal, a JSON object per line with ``--json``); tests pass a
:class:`RecordingSink`; a library caller that wants nothing passes :class:`NullSink`.

Fields are the facts (``file``, ``bytes``, ``agent_id``, ...); ``text``, when present, is the
sentence a person reads instead of the event's name. Levels:

* ``debug``: diagnostics, shown with ``-v`` (every HTTP request).
* ``info``: progress (an upload, a status line).
* ``result``: the outcome of a step; a person always sees its ``text``, even with ``-q``.
* ``warning``: something the user should know or act on; nothing failed (yet).
* ``error``: a failure reported as an event (the CLI prints the error that ends a command).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "LEVELS",
    "Event",
    "EventSink",
    "Level",
    "LogSink",
    "NullSink",
    "RecordingSink",
    "as_callback",
]

Level = Literal["debug", "info", "result", "warning", "error"]
LEVELS: tuple[Level, ...] = ("debug", "info", "result", "warning", "error")


class EventSink(Protocol):
    """Where the core reports: one method, one event at a time; must not raise."""

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None: ...


class NullSink:
    """Discards every event."""

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        return None


class LogSink:
    """Events as structlog log records (logger ``mlarena_sync``): the default of code that was
    given no sink, so that what it emits still reaches the configured output."""

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        import structlog  # lazily: importing this module stays cheap (``--version``)

        method = "info" if level == "result" else level
        getattr(structlog.get_logger("mlarena_sync"), method)(event, **fields)


@dataclass(frozen=True)
class Event:
    """One emitted event, as a :class:`RecordingSink` keeps it."""

    name: str
    level: Level
    fields: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


class RecordingSink:
    """Keeps every event, for tests; thread-safe. :meth:`wait_for` waits on the events with a
    timeout (never a bare ``sleep``)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = threading.Condition()

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        with self._changed:
            self.events.append(Event(event, level, dict(fields)))
            self._changed.notify_all()

    def __iter__(self) -> Iterator[Event]:
        with self._changed:
            return iter(list(self.events))

    def names(self, *, level: Level | None = None) -> list[str]:
        """The events' names in order (only those at ``level`` when given)."""
        return [e.name for e in self if level is None or e.level == level]

    def of(self, name: str) -> list[Event]:
        return [e for e in self if e.name == name]

    def wait_for(self, name: str, *, timeout: float, count: int = 1) -> list[Event]:
        """The events called ``name`` once there are ``count`` of them; :class:`TimeoutError`
        (listing what was emitted) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [e for e in self.events if e.name == name]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {count}x {name!r} in {timeout:g}s: {self.names()}")
                self._changed.wait(left)
            return found

    def clear(self) -> None:
        with self._changed:
            self.events.clear()


def as_callback(sink: EventSink, *, level: Level = "info") -> Callable[..., None]:
    """``sink`` as the ``on_event(event, **fields)`` callable older core code still takes."""

    def on_event(event: str, /, **fields: Any) -> None:
        sink.emit(event, level=level, **fields)

    return on_event
