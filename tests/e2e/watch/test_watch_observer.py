"""TreeWatcher on a real folder: only non-ignored folders are watched, only relevant changes
come out. Waits are bounded polls of ``get`` (which itself waits on a queue)."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from helpers.wait import wait_until

from mlarena_sync.config.model import FilesSpec
from mlarena_sync.local.ignore import Selector
from mlarena_sync.watch.source import QueueChangeSource, TreeWatcher


def inotify_inodes() -> set[int]:
    """Inodes watched by every inotify instance of this process (from /proc fdinfo)."""
    inodes: set[int] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "inotify" not in os.readlink(f"/proc/self/fd/{fd}"):
                continue
            info = Path(f"/proc/self/fdinfo/{fd}").read_text()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("inotify wd:"):
                field = next(p for p in line.split() if p.startswith("ino:"))
                inodes.add(int(field[4:], 16))
    return inodes


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "agent"
    for rel in ("agent.py", "sub/helper.py", "sub/pkg/deep.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    venv = root / ".venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "env" / "lib").mkdir(parents=True)  # a venv under another name
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / ".git" / "objects").mkdir(parents=True)
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / ".mlarena-sync").mkdir()
    return root


@pytest.fixture
def watcher(tree: Path) -> Iterator[TreeWatcher]:
    w = TreeWatcher(Selector(FilesSpec(root=tree)), state_dir=tree / ".mlarena-sync")
    w.start()
    try:
        yield w
    finally:
        w.stop()


def collect(w: TreeWatcher, until: Callable[[set[str]], bool], timeout: float = 5.0) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = w.get(0.05)
        if got:
            seen |= got
        if until(seen):
            return seen
    raise AssertionError(f"timed out; saw {sorted(seen)}")


def quiet_for(w: TreeWatcher, seconds: float) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen |= w.get(0.05) or set()
    return seen


def test_only_selected_folders_cost_a_watch(watcher: TreeWatcher, tree: Path) -> None:
    assert watcher.watched_dirs == {"", "sub", "sub/pkg"}
    watched = inotify_inodes()
    assert tree.stat().st_ino in watched
    assert (tree / "sub" / "pkg").stat().st_ino in watched
    for ignored in (".venv", ".venv/lib", "env", ".git", ".git/objects", "node_modules"):
        assert (tree / ignored).stat().st_ino not in watched, ignored


def test_a_save_is_reported(watcher: TreeWatcher, tree: Path) -> None:
    (tree / "sub" / "pkg" / "deep.py").write_text("x = 2\n")
    assert "sub/pkg/deep.py" in collect(watcher, lambda s: "sub/pkg/deep.py" in s)


def test_ignored_and_own_state_changes_say_nothing(watcher: TreeWatcher, tree: Path) -> None:
    (tree / ".venv" / "lib" / "site-packages" / "mod.py").write_text("x\n")
    (tree / ".mlarena-sync" / "state.json").write_text("{}\n")
    (tree / "agent.py.swp").write_text("swap\n")
    (tree / "notes.tmp").write_text("tmp\n")
    (tree / "agent.py").read_text()  # a read (open + close-nowrite) is not a change
    assert quiet_for(watcher, 0.4) == set()


def test_atomic_save_reports_the_target(watcher: TreeWatcher, tree: Path) -> None:
    tmp = tree / ".agent.py.tmp123"
    tmp.write_text("x = 3\n")
    os.replace(tmp, tree / "agent.py")
    assert "agent.py" in collect(watcher, lambda s: "agent.py" in s)


def test_new_folders_are_watched_and_dropped(watcher: TreeWatcher, tree: Path) -> None:
    deep = tree / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "new.py").write_text("n = 1\n")
    collect(watcher, lambda s: "a" in s)
    deadline = time.monotonic() + 5
    while not {"a", "a/b", "a/b/c"} <= watcher.watched_dirs:
        assert time.monotonic() < deadline, watcher.watched_dirs
        watcher.get(0.05)
    (deep / "later.py").write_text("n = 2\n")  # seen through the new watch
    collect(watcher, lambda s: "a/b/c/later.py" in s)
    for p in sorted(tree.joinpath("a").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (tree / "a").rmdir()
    collect(watcher, lambda s: "a" in s)
    assert not any(d == "a" or d.startswith("a/") for d in watcher.watched_dirs)


def test_ignored_new_folder_gets_no_watch(watcher: TreeWatcher, tree: Path) -> None:
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__" / "agent.cpython-311.pyc").write_bytes(b"\0")
    assert quiet_for(watcher, 0.3) == set()
    assert "__pycache__" not in watcher.watched_dirs


def test_gitignore_change_drops_the_folder(watcher: TreeWatcher, tree: Path) -> None:
    (tree / ".gitignore").write_text("sub/\n")
    # The file's creation may be handled before its content is written; the write that follows
    # re-evaluates again, so keep reading events until the watches follow.
    collect(watcher, lambda s: ".gitignore" in s and watcher.watched_dirs == {""})
    (tree / "sub" / "helper.py").write_text("x = 9\n")
    assert quiet_for(watcher, 0.3) == set()


def test_moved_in_tree_is_walked(watcher: TreeWatcher, tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "staging" / "lib"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "m.py").write_text("m = 1\n")
    os.rename(outside, tree / "lib")
    collect(watcher, lambda s: "lib" in s)
    assert {"lib", "lib/inner"} <= watcher.watched_dirs


def test_wake_returns_at_once() -> None:
    src = QueueChangeSource()
    src.wake()
    start = time.monotonic()
    assert src.get(5) is None
    assert time.monotonic() - start < 1
    src.put({"a"})
    src.put({"b"})
    assert src.get(1) == {"a", "b"}


def test_stop_joins_the_threads(tree: Path) -> None:
    import threading

    before = threading.active_count()
    w = TreeWatcher(Selector(FilesSpec(root=tree)))
    w.start()
    assert threading.active_count() > before
    w.stop()
    wait_until(lambda: threading.active_count() <= before, 5, "the watcher's threads to end")


class FailingObserver:
    """schedule() fails like an exhausted inotify limit (EMFILE)."""

    def __init__(self) -> None:
        self.scheduled: list[str] = []

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def unschedule(self, watch: object) -> None: ...

    def schedule(self, handler: object, path: str, **kw: object) -> str:
        if path.endswith("pkg"):
            raise OSError(errno.EMFILE, "inotify instance limit reached")
        self.scheduled.append(path)
        return path


def test_an_inotify_limit_is_one_warning_not_a_crash(tree: Path) -> None:
    obs = FailingObserver()
    w = TreeWatcher(Selector(FilesSpec(root=tree)), observer=obs)
    with structlog.testing.capture_logs() as logs:
        w.start()
        w.resync()
    assert w.watched_dirs == {"", "sub"}
    w.stop()
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["watch_failed"]


def test_the_folder_cap_is_one_warning(tree: Path) -> None:
    w = TreeWatcher(Selector(FilesSpec(root=tree)), observer=FailingObserver(), max_dirs=1)
    with structlog.testing.capture_logs() as logs:
        w.start()
    assert w.watched_dirs == {""}
    w.stop()
    assert [e["event"] for e in logs] == ["watch_dir_cap"]
