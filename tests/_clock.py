"""A fake :class:`~mlarena_sync.clock.Clock` for tests: ``sleep`` advances its own time.

Importable as ``_clock`` (``tests/`` is on ``sys.path`` through its rootdir ``conftest.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
