"""Flat per-agent file storage: safe names, atomic writes, text-vs-binary listing."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME_LENGTH = 128
TEXT_LIMIT = 1024 * 1024  # over 1 MB a file is served as binary

LANGUAGES = {
    ".py": "python",
    ".csv": "csv",
    ".md": "markdown",
    ".json": "json",
    ".txt": "plaintext",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".cfg": "ini",
    ".ini": "ini",
    ".sh": "shell",
}


def unsafe_name_reason(name: str) -> str | None:
    """Why ``name`` cannot be stored as-is, or None when it is a safe flat name.

    The real server passes names through Werkzeug's ``secure_filename``, which silently
    rewrites them; the fake arena refuses instead, so a client that would be surprised
    by a rewrite learns it at once.
    """
    if not name:
        return "the file name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"the file name is longer than {MAX_NAME_LENGTH} characters"
    if ".." in name:
        return "the file name contains '..'"
    if not SAFE_NAME.fullmatch(name):
        return (
            "storage is flat and names must match [A-Za-z0-9][A-Za-z0-9._-]* "
            "(no folders, no leading dot, no spaces or non-ASCII characters)"
        )
    return None


def language_of(name: str) -> str:
    return LANGUAGES.get(Path(name).suffix.lower(), "plaintext")


def read_text(path: Path, size: int | None = None) -> str | None:
    """The file's text, or None when it is served as binary (over 1 MB, not UTF-8, NUL).

    ``size`` is the file's size when the caller has already read it.
    """
    if (path.stat().st_size if size is None else size) > TEXT_LIMIT:
        return None
    data = path.read_bytes()
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class AgentFiles:
    """The files of every agent, one flat folder per agent under ``root``.

    The names in each folder are read from disk once (the first time they are needed)
    and then kept in memory, updated by every change made through this class: a file
    PUT need not list the folder. Only this class writes into ``root``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._names: dict[int, set[str]] = {}

    def folder(self, aid: int) -> Path:
        return self.root / str(aid)

    def _known(self, aid: int) -> set[str]:
        """The cached set of ``aid``'s file names (call with ``_lock`` held)."""
        known = self._names.get(aid)
        if known is None:
            known = set(_scan(self.folder(aid)))
            self._names[aid] = known
        return known

    def names(self, aid: int) -> list[str]:
        with self._lock:
            return sorted(self._known(aid))

    def count(self, aid: int) -> int:
        with self._lock:
            return len(self._known(aid))

    def has(self, aid: int, name: str) -> bool:
        with self._lock:
            return name in self._known(aid)

    def path(self, aid: int, name: str) -> Path | None:
        path = self.folder(aid) / name
        return path if path.is_file() else None

    def entries(self, aid: int) -> list[tuple[str, int, str | None]]:
        """``(name, size, text or None)`` of each file, sorted by name, read under the lock: a
        delete cannot land between a name and its ``stat`` (that was a 500). A file gone from
        the disk without this class (a hand-made change) is forgotten, not listed."""
        with self._lock:
            known = self._known(aid)
            out = []
            for name in sorted(known):
                path = self.folder(aid) / name
                try:
                    size = path.stat().st_size
                    text = read_text(path, size)
                except FileNotFoundError:
                    known.discard(name)
                    continue
                out.append((name, size, text))
            return out

    def text(self, aid: int, name: str) -> tuple[bool, str | None]:
        """``(found, its text or None)``, read under the lock (a delete cannot interleave)."""
        with self._lock:
            path = self.path(aid, name)
            if path is None:
                return False, None
            try:
                return True, read_text(path)
            except FileNotFoundError:
                return False, None

    def open(self, aid: int, name: str) -> IO[bytes] | None:
        """The stored bytes, opened under the lock (an open file outlives a later delete)."""
        with self._lock:
            path = self.path(aid, name)
            try:
                return None if path is None else path.open("rb")
            except FileNotFoundError:
                return None

    def listing(self, aid: int) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "content": text,
                "language": language_of(name),
                "is_binary": text is None,
                "size": size,
            }
            for name, size, text in self.entries(aid)
        }

    def write_stream(self, aid: int, name: str, stream: IO[bytes]) -> int:
        """Copy ``stream`` into the agent folder atomically; return the size written."""
        folder = self.folder(aid)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, 1024 * 1024)
            size = os.path.getsize(tmp)
            with self._lock:
                os.replace(tmp, folder / name)
                self._known(aid).add(name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def write_bytes(self, aid: int, name: str, data: bytes) -> None:
        self.write_stream(aid, name, io.BytesIO(data))

    def delete(self, aid: int, name: str) -> bool:
        with self._lock:
            path = self.path(aid, name)
            if path is None:
                return False
            path.unlink()
            self._known(aid).discard(name)
            return True

    def copy_all(self, src: int, dst: int) -> None:
        for name in self.names(src):
            self.folder(dst).mkdir(parents=True, exist_ok=True)
            with self._lock:
                shutil.copyfile(self.folder(src) / name, self.folder(dst) / name)
                self._known(dst).add(name)

    def remove_agent(self, aid: int) -> None:
        with self._lock:
            shutil.rmtree(self.folder(aid), ignore_errors=True)
            self._names.pop(aid, None)

    def wipe(self) -> None:
        with self._lock:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root.mkdir(parents=True, exist_ok=True)
            self._names.clear()


def _scan(folder: Path) -> list[str]:
    """The names of the regular files in ``folder`` (in-progress writes left out)."""
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if e.is_file() and not _is_partial(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _is_partial(name: str) -> bool:
    return name.startswith(".partial-")
