"""The one atomic file write: a temp file in the same folder, renamed over the target.

A reader (or the next run, after a ``kill -9``) sees the old content or the new one, never a torn
file: the page cache outlives the process, so the rename alone is all a *process* death needs.
``fsync=True`` also flushes the data and then the folder entry to disk, which only a power loss
or a kernel crash needs; each caller says which it pays for (``store/state.py`` and
``store/journal.py`` document their policy).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, data: bytes | str, *, fsync: bool, mode: int | None = None) -> None:
    """Replace ``path`` by ``data`` (``str`` is written as UTF-8) atomically.

    ``mode``: the new file's permission bits (default: ``0o600``, as :func:`tempfile.mkstemp`
    makes it). The folder must exist. Raises :class:`OSError`; the temp file never stays behind.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
