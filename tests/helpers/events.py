"""An event recorder: the ``Output`` (and EventSink) a command reports to, recording each event;
a test waits on ``expect(event, timeout)`` instead of sleeping until output shows up. (Code that
takes a plain EventSink can get :class:`mlarena_sync.events.RecordingSink` and its ``wait_for``.)"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any

from mlarena_sync.cli.output import Output
from mlarena_sync.events import Level
from mlarena_sync.tokens import Redactor

Fields = dict[str, Any]


class EventRecorder(Output):
    """Records every event (name + fields) instead of printing; thread-safe, waitable."""

    def __init__(self) -> None:
        super().__init__(
            json_mode=False, verbosity=0, stream=io.StringIO(), color=False, redactor=Redactor()
        )
        self.events: list[tuple[str, Fields]] = []
        self._changed = threading.Condition()
        #: Called while waiting (e.g. "the watch thread has not died"); raises to stop the wait.
        self.check: Callable[[], object] = lambda: None

    def _add(self, event: str, fields: Fields) -> None:
        with self._changed:
            self.events.append((event, fields))
            self._changed.notify_all()

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        """The EventSink side: every event but ``debug`` (one per HTTP request) is recorded."""
        if level == "result":
            text = fields.pop("text", None)
            self.result(event, text if isinstance(text, str) else event, **fields)
        elif level == "warning":
            self.warning(event, **fields)
        elif level != "debug":
            self._add(event, fields if level == "info" else {**fields, "level": level})

    def event(self, event: str, **fields: Any) -> None:
        self._add(event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._add(event, {**fields, "level": "warning"})

    def result(self, event: str, text: str, **fields: Any) -> None:
        self._add(event, {**fields, "text": text})

    def named(self, name: str) -> list[Fields]:
        """The fields of every ``name`` event so far, in order."""
        with self._changed:
            return [f for e, f in self.events if e == name]

    def names(self) -> list[str]:
        with self._changed:
            return [e for e, _ in self.events]

    def expect(
        self,
        event: str,
        timeout: float = 10.0,
        *,
        count: int = 1,
        where: Callable[[Fields], bool] = lambda fields: True,
    ) -> Fields:
        """Wait until ``count`` ``event`` events (matching ``where``) were recorded; the fields
        of the ``count``-th. ``AssertionError`` after ``timeout`` s, listing what was seen."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                self.check()
                seen = [f for e, f in self.events if e == event and where(f)]
                if len(seen) >= count:
                    return seen[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} {event!r} event(s); "
                        f"got {len(seen)}, all events: {[e for e, _ in self.events]}"
                    )
                self._changed.wait(min(left, 0.1))  # wakes on each event; 0.1 s to re-check
