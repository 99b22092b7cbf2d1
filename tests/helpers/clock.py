"""Clocks for tests (the :class:`~mlarena_sync.clock.Clock` seam)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    """Time stands still until ``sleep`` (or a test) advances it: waiting logic without waits."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class ShiftedClock:
    """The real clock, with a wall-clock ``offset`` a test can move (monotonic is untouched):
    for threads that must really wait while the date jumps (a quota's next UTC day)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)  # the product's own wait, through the seam
