"""The stat cache keys on ctime too (issue 15, item 3): a same-size edit whose mtime was put
back (``cp -p``, ``rsync -t --inplace``) is hashed again, never called unchanged."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from mlarena_sync.config.model import FilesSpec
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.scan import StatCache, StatEntry, scan

OLD = time.time() - 3600  # an mtime well outside the racy window


def _selector(root: Path) -> Selector:
    return Selector(FilesSpec(root=root))


def rewrite_keeping_mtime(path: Path, data: bytes) -> None:
    """Write ``data`` in place and put the mtime back, until the ctime has moved on (file
    system timestamps advance in ticks: a rewrite within one tick keeps the old ctime)."""
    before = path.stat()
    deadline = time.monotonic() + 5
    while True:
        with path.open("r+b") as fh:
            fh.write(data)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = path.stat()
        if after.st_ctime_ns != before.st_ctime_ns or time.monotonic() > deadline:
            break
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert after.st_ctime_ns != before.st_ctime_ns


def test_a_same_size_edit_with_its_mtime_put_back_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "weights.py"
    path.write_bytes(b"W = 1\n")
    os.utime(path, (OLD, OLD))
    cache = StatCache()
    first = scan(tmp_path, _selector(tmp_path), cache)
    assert cache.lookup("weights.py", path.stat()) == first[0].sha256  # trusted when unchanged

    rewrite_keeping_mtime(path, b"W = 2\n")
    again = scan(tmp_path, _selector(tmp_path), cache)
    assert again[0].sha256 == hashlib.sha256(b"W = 2\n").hexdigest()
    assert again[0].sha256 != first[0].sha256


def test_the_ctime_survives_json_and_an_old_entry_without_it_is_not_trusted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.py"
    path.write_bytes(b"A = 1\n")
    os.utime(path, (OLD, OLD))
    cache = StatCache()
    scan(tmp_path, _selector(tmp_path), cache)
    row = cache.to_json()["a.py"]
    assert len(row) == 6 and row[5] == path.stat().st_ctime_ns
    assert StatCache.from_json(cache.to_json()).entries == cache.entries

    st = path.stat()
    older = StatCache.from_json({"a.py": row[:5]})  # written before the ctime was kept
    assert older.entries["a.py"] == StatEntry(*row[:5])  # type: ignore[arg-type]
    assert older.lookup("a.py", st) is None
