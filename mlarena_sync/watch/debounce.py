"""Pure timing for ``watch``: when a burst of file events has settled, and how long to back off.

Both take a :class:`~mlarena_sync.clock.Clock` and never sleep themselves: the watch loop asks
for the next deadline and waits on its event queue until then, and tests drive a fake clock.

* :class:`Debouncer`: a batch is *ready* once no event came for ``quiet`` seconds **and** every
  changed path is stable (its size/mtime, read by ``probe``, did not change across the window: a
  file still being written without events keeps the window open), or at the latest ``max_wait``
  seconds after the first event of the batch (a never-ending stream still syncs).
* :class:`Backoff`: capped exponential delays for retrying a server that cannot be reached.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

from mlarena_sync.clock import Clock

__all__ = ["Backoff", "Debouncer", "Probe", "stat_probe"]

#: A path's signature (e.g. size and mtime), ``None`` when it is gone; equal means "unchanged".
Probe = Callable[[str], Hashable | None]


def stat_probe(root: Path) -> Probe:
    """A :data:`Probe` over ``root``: ``(size, mtime_ns)`` of the path relative to it."""

    def probe(rel: str) -> Hashable | None:
        try:
            st = os.stat(root / rel, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    return probe


class Debouncer:
    """Collects changed paths into one batch; see the module docstring for when it is ready."""

    def __init__(
        self,
        quiet: float,
        max_wait: float,
        clock: Clock,
        *,
        probe: Probe | None = None,
    ) -> None:
        self.quiet = max(0.0, quiet)
        self.max_wait = max(self.quiet, max_wait)
        self._clock = clock
        self._probe = probe
        self._paths: dict[str, Hashable | None] = {}
        self._pending = False
        self._first = 0.0
        self._last = 0.0

    @property
    def pending(self) -> bool:
        return self._pending

    def add(self, paths: Iterable[str] = ()) -> None:
        """Something changed (``paths``, relative; none when the change is not attributable)."""
        now = self._clock.monotonic()
        if not self._pending:
            self._pending = True
            self._first = now
        self._last = now
        for path in paths:
            self._paths[path] = self._probe(path) if self._probe is not None else None

    def deadline(self) -> float | None:
        """The monotonic time at which :meth:`ready` should be asked again (None: idle)."""
        if not self._pending:
            return None
        return min(self._last + self.quiet, self._first + self.max_wait)

    def ready(self) -> bool:
        """True when the batch should be reconciled now. May extend the quiet window when a
        changed file is still changing (checked only once the window has passed)."""
        if not self._pending:
            return False
        now = self._clock.monotonic()
        if now >= self._first + self.max_wait:
            return True
        if now < self._last + self.quiet:
            return False
        if self._probe is not None:
            unstable = False
            for path, seen in self._paths.items():
                current = self._probe(path)
                if current != seen:
                    self._paths[path] = current
                    unstable = True
            if unstable:
                self._last = now
                return False
        return True

    def take(self) -> frozenset[str]:
        """The batch's paths; the debouncer is idle again."""
        paths = frozenset(self._paths)
        self._paths.clear()
        self._pending = False
        return paths


class Backoff:
    """Capped exponential delays: ``base``, ``2*base``, ... up to ``cap``; :meth:`reset` on
    success."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, factor: float = 2.0) -> None:
        self.base = base
        self.cap = cap
        self.factor = factor
        self.failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt, counting one more failure."""
        delay = min(self.cap, self.base * self.factor**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
