"""``.mlarena-sync/lock``: ``flock``-ed while a command works on the folder, holding its PID.

A lock held by a running ``watch`` is borrowed (:mod:`.handover`): the watcher lends it and
takes it back when the borrower ends. The watcher itself never borrows (a second watcher on a
folder is refused), and lends through :meth:`FolderLock.release` / :meth:`FolderLock.reacquire`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from mlarena_sync.errors import LockedError, StateError
from mlarena_sync.store.handover import borrow as borrow_from_watcher
from mlarena_sync.store.handover import unix_sockets

__all__ = ["LOCK_FILE", "FolderLock", "held_at", "hold_lock"]

LOCK_FILE = "lock"


class FolderLock:
    """The held lock: the watcher releases it for a borrower and takes it back."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def _stamp(self) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def reacquire(self) -> None:
        """Take the lock again, waiting for whoever holds it now."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._stamp()

    def is_at(self, path: Path) -> bool:
        """Whether ``path`` is still the file this lock holds (``rm -rf .mlarena-sync/`` leaves
        the lock held on an inode no other process can find: they would lock a new one)."""
        try:
            there = os.stat(path)
        except OSError:
            return False
        held = os.fstat(self._fd)
        return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)

    def rehome(self, path: Path) -> None:
        """Hold ``path`` again (made anew; waiting for a command that locked it meanwhile to
        end). The descriptor number stays the same (``dup2``), so its owner closes the right
        file; the old inode's lock goes with the old descriptor."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.dup2(fd, self._fd)
        finally:
            os.close(fd)
        self._stamp()


def _command() -> str:
    return " ".join(["mlarena-sync", *sys.argv[1:]])


#: The lock each state folder's holder in this process holds (:func:`held_at`).
_HELD: dict[Path, FolderLock] = {}


def held_at(state_dir: Path) -> FolderLock | None:
    """The lock this process holds on ``state_dir`` (None when it holds none)."""
    return _HELD.get(Path(state_dir))


@contextlib.contextmanager
def hold_lock(state_dir: Path, *, borrow: bool = True) -> Iterator[FolderLock]:
    """Hold ``state_dir/lock`` (the folder exists); a lock held by a ``watch`` is borrowed
    (unless ``borrow`` is false); :class:`LockedError` names the holder's PID otherwise."""
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open {path}: {exc.strerror}") from None
    with contextlib.ExitStack() as stack:
        stack.callback(os.close, fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            conn = borrow_from_watcher(state_dir, _command()) if borrow else None
            if conn is None:
                raise _locked(fd, state_dir, borrow=borrow) from None
            stack.callback(conn.close)  # after the release below: hands the folder back
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the watcher before it answered
        held = FolderLock(fd)
        held._stamp()
        outer = _HELD.get(Path(state_dir))
        _HELD[Path(state_dir)] = held
        try:
            yield held
        finally:
            if outer is None:
                _HELD.pop(Path(state_dir), None)
            else:
                _HELD[Path(state_dir)] = outer
            held.release()


def _locked(fd: int, state_dir: Path, *, borrow: bool) -> LockedError:
    raw = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    pid = int(raw) if raw.isdigit() else None
    who = f"pid {pid}" if pid is not None else "pid unknown"
    why = ""
    if borrow and not unix_sockets():
        why = " (this platform has no Unix sockets: a running watch cannot lend the folder)"
    return LockedError(
        f"another mlarena-sync ({who}) is working on this folder "
        f"({state_dir.parent}){why}; wait for it to finish or stop it",
        pid=pid,
    )
