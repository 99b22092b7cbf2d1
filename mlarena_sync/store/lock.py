"""``.mlarena-sync/lock``: ``flock``-ed while a command works on the folder, holding its PID."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from mlarena_sync.errors import LockedError, StateError

__all__ = ["LOCK_FILE", "hold_lock"]

LOCK_FILE = "lock"


@contextlib.contextmanager
def hold_lock(state_dir: Path) -> Iterator[None]:
    """Hold ``state_dir/lock`` (the folder exists); :class:`LockedError` names the holder's PID."""
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raw = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            pid = int(raw) if raw.isdigit() else None
            who = f"pid {pid}" if pid is not None else "pid unknown"
            raise LockedError(
                f"another mlarena-sync ({who}) is working on this folder "
                f"({state_dir.parent}); wait for it to finish or stop it",
                pid=pid,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
