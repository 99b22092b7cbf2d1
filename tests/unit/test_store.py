"""store/: the one atomic_write, and the StateDir that reads each file once per run."""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlarena_sync.store import atomic, journal, state
from mlarena_sync.store.atomic import atomic_write
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import BaseEntry, StateDir, TargetState

ENTRY = BaseEntry("a.py", "0" * 64, 3)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """File name → how many times ``Path.read_text`` opened it."""
    counts: Counter[str] = Counter()
    real = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        counts[self.name] += 1
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    yield counts


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return calls


# ---------------------------------------------------------------- atomic_write


@pytest.mark.parametrize("data", [b"bytes\x00", "text é\n"])
def test_atomic_write_replaces_the_file_and_leaves_no_temp(
    tmp_path: Path, data: bytes | str
) -> None:
    path = tmp_path / "f"
    path.write_text("old", encoding="utf-8")
    atomic_write(path, data, fsync=False)
    expected = data.encode() if isinstance(data, str) else data
    assert path.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_atomic_write_fsyncs_only_when_asked(tmp_path: Path, fsyncs: list[int]) -> None:
    atomic_write(tmp_path / "cheap", "x", fsync=False)
    assert fsyncs == []
    atomic_write(tmp_path / "durable", "x", fsync=True)
    assert len(fsyncs) == 2  # the data, then the folder entry


def test_atomic_write_sets_the_mode(tmp_path: Path) -> None:
    atomic_write(tmp_path / "default", "x", fsync=False)
    atomic_write(tmp_path / "given", "x", fsync=False, mode=0o640)
    assert stat.S_IMODE((tmp_path / "default").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "given").stat().st_mode) == 0o640


def test_a_failed_atomic_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_text("old", encoding="utf-8")

    def no_rename(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_rename)
    with pytest.raises(OSError):
        atomic_write(path, "new", fsync=True)
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


# ---------------------------------------------------------------- StateDir


def test_state_is_read_once_then_served_from_memory(tmp_path: Path, reads: Counter[str]) -> None:
    StateDir(tmp_path).save("t", TargetState(agent_id=7))
    reads.clear()
    store = StateDir(tmp_path)
    with store.lock():
        for _ in range(5):
            assert store.load("t").agent_id == 7
            store.save("t", TargetState(agent_id=7, files={"a.py": ENTRY}))
    for _ in range(3):
        assert store.load("t").files == {"a.py": ENTRY}
    assert reads[state.STATE_FILE] == 1


def test_load_returns_a_copy(tmp_path: Path) -> None:
    store = StateDir(tmp_path)
    store.save("t", TargetState(agent_id=1))
    mine = store.load("t")
    mine.files["x"] = ENTRY
    mine.agent_id = 2
    assert store.load("t") == TargetState(agent_id=1)


def test_writes_go_to_disk_at_once(tmp_path: Path) -> None:
    store = StateDir(tmp_path)
    with store.lock():
        store.save("t", TargetState(agent_id=3))
        assert StateDir(tmp_path).load("t").agent_id == 3


def test_another_process_write_is_seen_without_the_lock(
    tmp_path: Path, reads: Counter[str]
) -> None:
    ours, theirs = StateDir(tmp_path), StateDir(tmp_path)
    ours.save("t", TargetState(agent_id=1))
    assert ours.load("t").agent_id == 1
    theirs.save("t", TargetState(agent_id=2))
    assert ours.load("t").agent_id == 2  # the file changed: read again
    count = reads[state.STATE_FILE]
    assert ours.load("t").agent_id == 2
    assert reads[state.STATE_FILE] == count  # unchanged: from memory


def test_taking_the_lock_rereads_what_changed_before(tmp_path: Path) -> None:
    ours, theirs = StateDir(tmp_path), StateDir(tmp_path)
    assert ours.load("t") == TargetState()
    theirs.save("t", TargetState(agent_id=5))
    with ours.lock():
        assert ours.load("t").agent_id == 5


def test_the_fsync_policy(tmp_path: Path, fsyncs: list[int]) -> None:
    store = StateDir(tmp_path)
    store.save("t", TargetState(agent_id=1))
    assert fsyncs, "state.json: fsync (a lost binding would create a twin agent)"
    fsyncs.clear()
    j = Journal(store, "t")
    j.add("a.py", None, ENTRY)
    j.set_deploy_pending(True)
    assert fsyncs == [], "journal intents and deploy_pending: no fsync"
    j.set_creating("agent")
    assert fsyncs, "creating: fsync"


def test_the_journal_is_read_once_and_shared(tmp_path: Path, reads: Counter[str]) -> None:
    Journal(tmp_path, "t").add("a.py", None, ENTRY)
    reads.clear()
    store = StateDir(tmp_path)
    with store.lock():
        j = Journal(store, "t")
        assert j.load() == {"a.py": (None, ENTRY)}
        j.set_deploy_pending(True)
        assert Journal(store, "t").deploy_pending()
        j.clear()
        j.set_deploy_pending(False)
        assert not (tmp_path / journal.Journal.FILE).exists()
        assert j.load() == {} and not j.deploy_pending()
    assert reads[state.JOURNAL_FILE] == 1
    assert Journal(tmp_path, "t").load() == {}


def test_the_stat_cache_is_read_once(tmp_path: Path, reads: Counter[str]) -> None:
    store = StateDir(tmp_path)
    cache = store.load_stat_cache(tmp_path)
    cache.dirty = True
    store.save_stat_cache(tmp_path, cache)
    for _ in range(3):
        store.load_stat_cache(tmp_path)
    assert reads[state.STAT_CACHE_FILE] <= 1


def test_the_generation_memory_never_overwrites_a_foreign_file(tmp_path: Path) -> None:
    from mlarena_sync.store.generations import FILE_NAME, remember, remembered

    store, path = StateDir(tmp_path), tmp_path / FILE_NAME
    path.write_text('{"version": 999}', encoding="utf-8")
    remember(store, "https://ml-arena.com", "v4.6")
    assert path.read_text(encoding="utf-8") == '{"version": 999}'
    assert remembered(tmp_path, "https://ml-arena.com") is None
    path.write_text("{damaged", encoding="utf-8")
    remember(store, "https://ml-arena.com", "v4.6")
    assert remembered(tmp_path, "https://ml-arena.com") == "v4.6"
