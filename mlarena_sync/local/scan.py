"""The local scan: which selected files exist, their size and SHA-256, hashing only what changed.

:func:`scan` walks ``files.root`` with ``os.scandir``, never entering ignored folders, and asks a
:class:`StatCache` (size, mtime, ctime, inode → sha256) before hashing, so a rescan of an unchanged
tree reads no file content. Hashes are computed in chunks: a big model file is never read whole.

The ctime is part of the key, as in git: a same-size edit whose mtime was put back (``cp -p``,
``rsync -t --inplace``, some editors and generators) still moves the ctime, which no user call can
set. Racy entries (a file modified within :data:`StatCache.RACY_NS` of being hashed, where a
second write in the same timestamp tick would go unnoticed) are not trusted and get hashed again,
and so is an entry without a ctime (written by an older version): hash when in doubt.

A file this process itself writes (its stdout or stderr redirected into the folder: ``watch >
watch.log``, ``nohup.out``) is never selected: it would change on every sync and never settle.
It is recognised by its identity (``st_dev``, ``st_ino``), not its name.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mod
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlarena_sync.errors import SelectionError
from mlarena_sync.local.ignore import Selector

__all__ = [
    "CHUNK_SIZE",
    "LocalFile",
    "StatCache",
    "StatEntry",
    "hash_file",
    "is_own_output",
    "own_outputs",
    "printable",
    "scan",
]

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True)
class LocalFile:
    path: str  # posix, relative to files.root
    abs_path: Path
    size: int
    mtime_ns: int
    sha256: str
    remote_name: str  # the flat name on the server: the basename


@dataclass(frozen=True)
class StatEntry:
    size: int
    mtime_ns: int
    inode: int
    sha256: str
    hashed_at_ns: int
    ctime_ns: int = -1  # -1: not known (an older cache): never trusted


class StatCache:
    """``path → (size, mtime_ns, inode, sha256, hashed_at_ns, ctime_ns)``; persisted by
    ``state.StateStore``."""

    RACY_NS = 2_000_000_000  # coarse file systems keep mtimes in 2-second steps

    def __init__(self, entries: Mapping[str, StatEntry] | None = None) -> None:
        self.entries: dict[str, StatEntry] = dict(entries or {})
        self.dirty = False

    def lookup(self, rel: str, st: os.stat_result) -> str | None:
        entry = self.entries.get(rel)
        if entry is None:
            return None
        key = (entry.size, entry.mtime_ns, entry.ctime_ns, entry.inode)
        same = key == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        if not same or entry.ctime_ns < 0 or entry.hashed_at_ns - st.st_mtime_ns < self.RACY_NS:
            return None
        return entry.sha256

    def store(self, rel: str, st: os.stat_result, sha256: str, hashed_at_ns: int) -> None:
        entry = StatEntry(
            st.st_size, st.st_mtime_ns, st.st_ino, sha256, hashed_at_ns, st.st_ctime_ns
        )
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.dirty = True

    def retain(self, keep: set[str]) -> None:
        """Forget files that are gone (or no longer selected)."""
        for rel in [r for r in self.entries if r not in keep]:
            del self.entries[rel]
            self.dirty = True

    def to_json(self) -> dict[str, list[int | str]]:
        return {
            rel: [e.size, e.mtime_ns, e.inode, e.sha256, e.hashed_at_ns, e.ctime_ns]
            for rel, e in sorted(self.entries.items())
        }

    @classmethod
    def from_json(cls, data: object) -> StatCache:
        """Tolerant: malformed entries are dropped (they only cost a re-hash); an entry of an
        older version (no ctime) is kept but never trusted."""
        entries: dict[str, StatEntry] = {}
        if isinstance(data, dict):
            for rel, row in data.items():
                if (
                    isinstance(rel, str)
                    and isinstance(row, list)
                    and len(row) in (5, 6)
                    and all(_is_int(x) for x in (*row[:3], *row[4:]))
                    and isinstance(row[3], str)
                ):
                    ctime = row[5] if len(row) == 6 else -1
                    entries[rel] = StatEntry(row[0], row[1], row[2], row[3], row[4], ctime)
        return cls(entries)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def hash_file(path: Path) -> tuple[str, os.stat_result, bool]:
    """SHA-256 of the file, its stat taken before reading, and whether it stayed the same size."""
    digest = hashlib.sha256()
    count = 0
    with path.open("rb") as fh:
        st = os.fstat(fh.fileno())
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            count += len(chunk)
    return digest.hexdigest(), st, count == st.st_size


def own_outputs() -> frozenset[tuple[int, int]]:
    """``(st_dev, st_ino)`` of the regular files this process's stdout and stderr write to."""
    found: set[tuple[int, int]] = set()
    for fd in (1, 2):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if stat_mod.S_ISREG(st.st_mode):
            found.add((st.st_dev, st.st_ino))
    return frozenset(found)


def is_own_output(path: Path, outputs: frozenset[tuple[int, int]]) -> bool:
    """Whether ``path`` is one of :func:`own_outputs` (False when it cannot be stat'ed)."""
    try:
        st = path.stat()
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in outputs


def printable(path: str) -> str:
    """``path`` safe to print: a name that is not UTF-8 (surrogate-escaped) shows U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _outside(rel: str, real: str, root: Path) -> str:
    return f"{printable(rel)}: a symlink to {printable(real)}, outside {root}; exclude it"


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def scan(
    root: Path,
    selector: Selector,
    cache: StatCache | None = None,
    problems: list[str] | None = None,
    own: list[str] | None = None,
) -> list[LocalFile]:
    """Every selected file under ``root``, sorted by path, but those this process writes (its
    stdout/stderr: :func:`own_outputs`), whose paths are appended to ``own`` when given.

    Symlinked files are followed when they point inside ``root``; symlinked folders are not
    (their target, inside ``root``, is scanned in its own place). Problems (a symlink leading
    outside ``root``, a broken symlink, an unreadable file or folder,
    a selected entry that is not a regular file) are appended to ``problems`` when given (so the
    caller can report them with its own); otherwise they raise one :class:`SelectionError`.
    """
    cache = cache if cache is not None else StatCache()
    outputs = own_outputs()
    found: list[str] = []
    out: list[LocalFile] = []
    selector.refresh()
    root_real = os.path.realpath(root)
    stack: list[tuple[Path, str]] = [(Path(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            found.append(f"{printable(prefix) or './'}: cannot list this folder ({exc.strerror})")
            continue
        for entry in entries:
            rel = prefix + entry.name
            link = entry.is_symlink()
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                if selector.is_dir_ignored(rel):
                    continue
                if not link:
                    stack.append((Path(entry.path), rel + "/"))
                    continue
                # A linked folder inside the root is scanned where it really is (following the
                # link would only duplicate its files, and loops); one outside is refused.
                real = os.path.realpath(entry.path)
                if not _inside(real, root_real):
                    found.append(_outside(rel + "/", real, root))
                continue
            if not selector.is_file_selected(rel):
                continue
            problem = _link_problem(entry.path, rel, root, root_real) if link else None
            if problem is not None:
                found.append(problem)
                continue
            if not is_file:
                found.append(f"{printable(rel)}: not a regular file; exclude it")
                continue
            if outputs and _is_output(entry, outputs):
                if own is not None:
                    own.append(rel)
                continue
            local = _local_file(Path(entry.path), rel, cache, found)
            if local is not None:
                out.append(local)
    cache.retain({f.path for f in out})
    out.sort(key=lambda f: f.path)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SelectionError(found)
    return out


def _link_problem(path: str, rel: str, root: Path, root_real: str) -> str | None:
    """Why a selected symlinked file cannot be synced (broken, or leading outside the root)."""
    real = os.path.realpath(path)
    if not os.path.exists(real):
        return f"{printable(rel)}: a broken symlink (to {printable(real)}); remove or exclude it"
    if not _inside(real, root_real):
        return _outside(rel, real, root)
    return None


def _is_output(entry: os.DirEntry[str], outputs: frozenset[tuple[int, int]]) -> bool:
    try:
        st = entry.stat()
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in outputs


def _local_file(path: Path, rel: str, cache: StatCache, found: list[str]) -> LocalFile | None:
    try:
        st = path.stat()
        sha = cache.lookup(rel, st)
        if sha is None:
            hashed_at = time.time_ns()
            sha, st, steady = hash_file(path)
            if steady and stat_mod.S_ISREG(st.st_mode):
                cache.store(rel, st, sha, hashed_at)
    except FileNotFoundError:
        return None  # deleted since the folder was listed: not there, no problem
    except OSError as exc:
        found.append(
            f"{printable(rel)}: cannot read it ({exc.strerror}); fix its permissions or exclude it"
        )
        return None
    name = rel.rpartition("/")[2]
    return LocalFile(rel, path, st.st_size, st.st_mtime_ns, sha, name)
