"""``.mlarena-sync/objects/``: the deployed bytes of every file, content-addressed by sha256.

One file per content (``objects/ab/cdef...``), stored once however many deploys share it, each
written through a temp file and a rename (a reader never sees half an object). A size budget
(``history.keep_bytes``) is kept by :meth:`ObjectStore.prune`: objects no deploy names go
first, then the objects only the oldest deploys name; the newest deploy's are always kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence, Set
from pathlib import Path

__all__ = ["OBJECTS_DIR", "ObjectStore"]

OBJECTS_DIR = "objects"
_CHUNK = 1 << 20


class ObjectStore:
    def __init__(self, state_dir: Path) -> None:
        self.folder = Path(state_dir) / OBJECTS_DIR

    def path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The bytes of ``sha256``; :class:`FileNotFoundError` when they were pruned."""
        return self.path(sha256).read_bytes()

    def put_file(self, source: Path, sha256: str) -> bool:
        """Keep ``source``'s bytes under ``sha256``; False (nothing kept) when the file no
        longer hashes to it (changed since it was synced) or cannot be read."""
        if self.has(sha256):
            return True
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".obj.", suffix=".tmp", dir=target.parent)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                os.unlink(tmp)
                return False
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return False
        return True

    def put_bytes(self, data: bytes) -> str:
        """Keep ``data``; its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has(sha256):
            target = self.path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".obj.", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        return sha256

    def sizes(self) -> dict[str, int]:
        """Every object kept: sha256 → size."""
        out: dict[str, int] = {}
        if not self.folder.is_dir():
            return out
        for sub in self.folder.iterdir():
            if sub.is_dir() and len(sub.name) == 2:
                for obj in sub.iterdir():
                    if not obj.name.startswith("."):
                        out[sub.name + obj.name] = obj.stat().st_size
        return out

    def prune(self, keep_bytes: int, manifests: Sequence[Set[str]]) -> set[str]:
        """Bring the store under ``keep_bytes``: remove the objects no manifest names, then
        those named only by the oldest manifests (``manifests``: oldest first), one deploy at a
        time; the last manifest's objects are never removed. Returns the objects removed."""
        sizes = self.sizes()
        total = sum(sizes.values())
        named = set().union(*manifests) if manifests else set()
        doomed = [sha for sha in sizes if sha not in named]
        removed: set[str] = set()
        for i in range(len(manifests)):
            for sha in doomed:
                if sha not in removed and total > keep_bytes:
                    total -= sizes[sha]
                    self._remove(sha)
                    removed.add(sha)
            if total <= keep_bytes or i == len(manifests) - 1:
                break
            later = set().union(*manifests[i + 1 :])
            doomed = [sha for sha in manifests[i] if sha in sizes and sha not in later]
        return removed

    def _remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()
