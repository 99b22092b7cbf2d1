"""The change source of ``watch``: file events of the selected tree, and only of it.

:class:`TreeWatcher` schedules one **non-recursive** watchdog watch per folder that the
:class:`~mlarena_sync.local.ignore.Selector` does not ignore, so an ignored ``.venv/`` or ``.git/``
costs no inotify watch at all (a recursive watch would register every folder below the root).
Folders that appear get a watch (with their non-ignored subfolders: ``mkdir -p`` and a moved-in
tree are walked, as files created before the watch existed would otherwise go unseen), folders
that disappear lose theirs, and a change to a ``.gitignore``/``.mlarenaignore`` re-evaluates
which folders are watched.

Events only say *when* something changed: :meth:`TreeWatcher.get` returns the relative paths of
selected files (or folders) touched since the last call, ignoring everything that cannot change
what is synced: reads (the scanner's own opens), ignored files, editor swap files, the tool's
own ``.mlarena-sync/``. The watch loop reconciles the whole tree anyway.

The watchdog threads only put raw events on a queue; watches are added and removed in the
caller's thread, inside :meth:`get`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from mlarena_sync.local.ignore import IGNORE_FILES, Selector
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import STATE_DIR_NAME

__all__ = [
    "MAX_WATCHED_DIRS",
    "ChangeSource",
    "LocalSnapshot",
    "QueueChangeSource",
    "RawEvent",
    "TreeWatcher",
    "walk_dirs",
]

log = structlog.get_logger("mlarena_sync.watch.source")

#: Beyond this many folders no more watches are added (a warning says so; the periodic rescan
#: still finds the changes there).
MAX_WATCHED_DIRS = 2000

#: The only event kinds that can change what is synced (no opens, no read-only closes).
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
_RELEVANT_TYPES = frozenset({"created", "modified", "deleted", "moved", "closed"})


class ChangeSource(Protocol):
    """Where the watch loop learns that something changed (the seam tests replace)."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop and join every thread started by :meth:`start`."""
        ...

    def get(self, timeout: float) -> set[str] | None:
        """Paths changed (relative, posix; ``""`` = something not attributable), or None when
        nothing relevant happened within ``timeout`` seconds (or :meth:`wake` was called)."""
        ...

    def wake(self) -> None:
        """Make a pending :meth:`get` return now (thread- and signal-safe)."""
        ...

    def resync(self) -> None:
        """Re-read the ignore rules and re-walk the tree (the periodic rescan)."""
        ...


@dataclass(frozen=True)
class RawEvent:
    kind: str  # watchdog's event_type: created, modified, deleted, moved, closed, ...
    src: str  # absolute
    dest: str | None
    is_dir: bool


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: queue.SimpleQueue[RawEvent | None]) -> None:
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        dest = getattr(event, "dest_path", None)
        self._sink.put(
            RawEvent(
                event.event_type,
                os.fsdecode(event.src_path),
                os.fsdecode(dest) if dest else None,
                bool(event.is_directory),
            )
        )


class QueueChangeSource:
    """A change source fed by hand (tests, and the base of :class:`TreeWatcher`'s waiting)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[set[str] | None] = queue.SimpleQueue()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def put(self, paths: set[str]) -> None:
        self._queue.put(set(paths))

    def wake(self) -> None:
        self._queue.put(None)

    def resync(self) -> None:
        pass

    def get(self, timeout: float) -> set[str] | None:
        try:
            first = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        out = set(first) if first is not None else None
        while True:  # drain what is already there into one answer
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return out
            if more is not None:
                out = (out or set()) | more


def walk_dirs(selector: Selector, root: str, rel: str = "") -> Iterator[str]:
    """``rel`` and its non-ignored subfolders under ``root`` (no symlinks followed), ``rel``
    first; relative posix paths (``""`` = the root)."""
    stack = [rel]
    while stack:
        current = stack.pop()
        if current and selector.is_dir_ignored(current):
            continue
        yield current
        folder = os.path.join(root, *current.split("/")) if current else root
        try:
            with os.scandir(folder) as it:
                entries = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for name in sorted(entries, reverse=True):
            stack.append(f"{current}/{name}" if current else name)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class LocalSnapshot:
    """What a full reconcile saw locally, so that the periodic rescan can tell with ``stat``
    alone (no ignore rules, no hashing) whether anything may have changed since.

    :meth:`take` records the non-ignored folders and their ignore files *before* the reconcile
    scans (a file added, removed or renamed changes its folder's mtime; a folder created or
    removed changes its parent's); :meth:`with_files` adds the files the scan found, with the
    size and mtime it saw. :meth:`unchanged` is False as soon as one of them differs, which
    only costs the full reconcile the rescan would have done anyway."""

    def __init__(self, root: str, dirs: dict[str, tuple[int, int, int] | None]) -> None:
        self.root = root
        self._dirs = dirs
        self._files: dict[str, tuple[int, int]] = {}

    @classmethod
    def take(cls, selector: Selector) -> LocalSnapshot:
        selector.refresh()  # the ignore files as they are now (the scan reads them again)
        root = os.fspath(selector.root)
        dirs: dict[str, tuple[int, int, int] | None] = {}
        for rel in walk_dirs(selector, root):
            folder = os.path.join(root, *rel.split("/")) if rel else root
            dirs[folder] = _stamp(folder)
            for name in IGNORE_FILES:
                ignore = os.path.join(folder, name)
                dirs[ignore] = _stamp(ignore)
        return cls(root, dirs)

    def with_files(self, files: Iterable[LocalFile]) -> LocalSnapshot:
        self._files = {os.fspath(f.abs_path): (f.size, f.mtime_ns) for f in files}
        return self

    def unchanged(self) -> bool:
        for path, seen in self._dirs.items():
            if _stamp(path) != seen:
                return False
        for path, (size, mtime_ns) in self._files.items():
            try:
                st = os.stat(path)
            except OSError:
                return False
            if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
                return False
        return True


class TreeWatcher:
    """watchdog observer over the selected tree; see the module docstring."""

    def __init__(
        self,
        selector: Selector,
        *,
        state_dir: Path | None = None,
        observer: Any = None,
        max_dirs: int = MAX_WATCHED_DIRS,
    ) -> None:
        self.selector = selector
        self.root = Path(selector.root)
        self._root_str = os.fspath(self.root)
        self._state_dir = os.fspath(state_dir) if state_dir is not None else None
        self._observer: Any = observer if observer is not None else Observer()
        self._events: queue.SimpleQueue[RawEvent | None] = queue.SimpleQueue()
        self._handler = _Handler(self._events)
        self._watches: dict[str, Any] = {}  # rel dir → ObservedWatch
        self._max_dirs = max_dirs
        self._warned_cap = False
        self._lock = threading.Lock()
        self._started = False

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._observer.start()
        self._started = True
        self._sync_watches()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._observer.stop()
        self._observer.join(timeout=10)
        with self._lock:
            self._watches.clear()

    def wake(self) -> None:
        self._events.put(None)

    @property
    def watched_dirs(self) -> frozenset[str]:
        """Relative folders holding a watch (``""`` = the root)."""
        with self._lock:
            return frozenset(self._watches)

    # ---------------------------------------------------------------- watches
    def _abs(self, rel: str) -> str:
        return os.path.join(self._root_str, *rel.split("/")) if rel else self._root_str

    def _rel(self, path: str) -> str | None:
        if path == self._root_str:
            return ""
        prefix = self._root_str.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix) :].replace(os.sep, "/")
        return rel

    def _walk(self, rel: str) -> Iterator[str]:
        """``rel`` and its non-ignored subfolders (no symlinks followed), ``rel`` first."""
        return walk_dirs(self.selector, self._root_str, rel)

    def _watch(self, rel: str) -> None:
        if rel in self._watches:
            return
        if len(self._watches) >= self._max_dirs:
            if not self._warned_cap:
                self._warned_cap = True
                log.warning(
                    "watch_dir_cap",
                    folders=self._max_dirs,
                    hint="more folders than watched; the periodic rescan still finds changes "
                    "there (exclude big folders in files.exclude)",
                )
            return
        try:
            watch = self._observer.schedule(
                self._handler, self._abs(rel), recursive=False, event_filter=EVENT_FILTER
            )
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # gone already: nothing to watch
                return
            # Not readable, or an inotify limit (max_user_watches / max_user_instances): the
            # periodic rescan still finds changes there.
            if not self._warned_cap:
                self._warned_cap = True
                log.warning(
                    "watch_failed",
                    folder=rel or ".",
                    reason=exc.strerror or str(exc),
                    hint="changes there are found by the periodic rescan (watch.rescan); raise "
                    "fs.inotify.max_user_watches / max_user_instances if this is a limit",
                )
            return
        self._watches[rel] = watch

    def _unwatch(self, rel: str) -> None:
        """Drop the watches of ``rel`` and everything below it."""
        prefix = rel + "/"
        for key in [k for k in self._watches if k == rel or k.startswith(prefix)]:
            self._drop(key)

    def _drop(self, rel: str) -> None:
        watch = self._watches.pop(rel)
        with contextlib.suppress(KeyError, OSError):
            self._observer.unschedule(watch)

    def _watch_tree(self, rel: str) -> None:
        with self._lock:
            for sub in self._walk(rel):
                self._watch(sub)

    def _sync_watches(self) -> None:
        """Watch exactly the non-ignored folders that exist now."""
        with self._lock:
            wanted = list(self._walk(""))
            keep = set(wanted)
            for rel in [k for k in self._watches if k not in keep]:
                self._drop(rel)
            for rel in wanted:
                self._watch(rel)

    def resync(self) -> None:
        self.selector.refresh()
        if self._started:
            self._sync_watches()

    # ---------------------------------------------------------------- events
    def _in_state_dir(self, path: str) -> bool:
        sd = self._state_dir
        return sd is not None and (path == sd or path.startswith(sd.rstrip(os.sep) + os.sep))

    def _relevant_path(self, path: str, *, is_dir: bool) -> str | None:
        """The relative path when a change there can matter to the sync."""
        if self._in_state_dir(path):
            return None
        rel = self._rel(path)
        if rel is None:
            return None
        if rel == "":
            return ""
        if rel.split("/", 1)[0] == STATE_DIR_NAME:
            return None
        if is_dir:
            return None if self.selector.is_dir_ignored(rel) else rel
        if Selector.is_ignore_file(rel):
            return rel
        return rel if self.selector.is_selected(rel) else None

    def _handle(self, ev: RawEvent, changed: set[str]) -> None:
        if ev.kind not in _RELEVANT_TYPES:
            return
        if ev.is_dir:
            self._handle_dir(ev, changed)
            return
        for path in (ev.src, ev.dest):
            if path is None:
                continue
            rel = self._relevant_path(path, is_dir=False)
            if rel is None:
                continue
            changed.add(rel)
            if rel and Selector.is_ignore_file(rel):
                self.resync()

    def _handle_dir(self, ev: RawEvent, changed: set[str]) -> None:
        if ev.kind == "modified":
            return
        if ev.kind in ("deleted", "moved"):
            rel = self._rel(ev.src)
            if rel is not None and rel != "":
                with self._lock:
                    was_watched = rel in self._watches
                    self._unwatch(rel)
                if was_watched:
                    changed.add(rel)
        target = ev.dest if ev.kind == "moved" else ev.src if ev.kind == "created" else None
        if target is None:
            return
        rel = self._relevant_path(target, is_dir=True)
        if rel is None or rel == "":
            return
        self._watch_tree(rel)
        changed.add(rel)

    def get(self, timeout: float) -> set[str] | None:
        """See :class:`ChangeSource`. Irrelevant events are consumed without returning."""
        try:
            first = self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        changed: set[str] = set()
        if first is not None:
            self._handle(first, changed)
        while True:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                break
            if ev is not None:
                self._handle(ev, changed)
        # Only irrelevant events (or a wake-up): None; the caller loops on its own deadline.
        return changed or None
