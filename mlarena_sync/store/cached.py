"""A file's parsed content, read once per run and served from memory afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["Cached"]

T = TypeVar("T")
_Stamp = tuple[int, int, int, int] | None


def _stamp(path: Path) -> _Stamp:
    """What changes when another process replaces ``path`` (None: no such file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Cached(Generic[T]):
    """One file's parsed content: read once, then served from memory.

    While this process holds the lock nobody else writes the folder, so the memory is the truth;
    without it (a dry run, or after the lock is released) a ``stat`` says whether another process
    replaced the file since, and only then is it read again."""

    def __init__(self, path: Path, read: Callable[[Path], T]) -> None:
        self.path = path
        self._read = read
        self._value: T | None = None
        self._stamp: _Stamp = None
        self._loaded = False

    def get(self, *, trusted: bool) -> T:
        if not self._loaded or (not trusted and _stamp(self.path) != self._stamp):
            stamp = _stamp(self.path)  # before reading: a later replacement is seen next time
            self._value = self._read(self.path)
            self._stamp, self._loaded = stamp, True
        return self._value  # type: ignore[return-value]

    def written(self, value: T) -> None:
        """``value`` is what the file now holds (just written, or deleted)."""
        self._value, self._stamp, self._loaded = value, _stamp(self.path), True

    def refresh(self) -> None:
        """Forget the memory if another process replaced the file (called on taking the lock)."""
        if self._loaded and _stamp(self.path) != self._stamp:
            self._loaded = False
