""".mlarena-sync/: atomic JSON state per target, corruption recovery, stat cache, lock."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import REPO
from structlog.testing import capture_logs

from mlarena_sync.config.model import load_config
from mlarena_sync.errors import LockedError, StateError
from mlarena_sync.local.scan import StatCache, StatEntry
from mlarena_sync.store.state import BaseEntry, StateStore, TargetState, target_key

WHEN = datetime(2025, 5, 1, 12, 30, tzinfo=timezone.utc)


def sample() -> TargetState:
    return TargetState(
        agent_id=12,
        files={
            "agent.py": BaseEntry("agent.py", "a" * 64, 10),
            "policy.pt": BaseEntry("models/policy.pt", "b" * 64, 2048, remote_sha256="c" * 64),
        },
        last_deploy_at=WHEN,
        runtime_id=7,
    )


def test_missing_state_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    store = StateStore(tmp_path / ".mlarena-sync")
    assert store.load("t") == TargetState()
    assert not (tmp_path / ".mlarena-sync").exists()
    assert not store.was_reset


def test_round_trip_keeps_other_targets(tmp_path: Path) -> None:
    store = StateStore.for_config(tmp_path / "mlarena.yaml")
    store.save("one", sample())
    store.save("two", TargetState(agent_id=99))
    again = StateStore(tmp_path / ".mlarena-sync")
    assert again.load("one") == sample()
    assert again.load("two") == TargetState(agent_id=99)
    assert (tmp_path / ".mlarena-sync" / ".gitignore").read_text(encoding="utf-8") == "*\n"
    again.forget("two")
    assert StateStore(tmp_path / ".mlarena-sync").load("two") == TargetState()
    leftovers = [p.name for p in (tmp_path / ".mlarena-sync").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_target_key_separates_servers_and_competitions(tmp_path: Path) -> None:
    path = tmp_path / "mlarena.yaml"
    path.write_text("competition: 3\nagent: {name: a}\n", encoding="utf-8")
    target = load_config(path).target()
    other_server = target_key(dataclasses.replace(target, server="http://127.0.0.1:1"))
    other_comp = target_key(dataclasses.replace(target, competition=4))
    assert len({target_key(target), other_server, other_comp}) == 3
    assert "default" in target_key(target)


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore(tmp_path / "st")
    store.save("t", sample())

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(StateError, match="No space left"):
        store.save("t", TargetState(agent_id=1))
    monkeypatch.undo()
    assert StateStore(tmp_path / "st").load("t") == sample()
    assert [p.name for p in (tmp_path / "st").iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 1, "targets": {"t": {"agent_id": "x"}}}',
        '{"version": 1, "targets": {"t": {"files": {"a": {"path": 1}}}}}',
        '{"version": 1, "targets": {"t": {"last_deploy_at": "yesterday"}}}',
        '{"targets": {}}',
        "\udcff",
    ],
)
def test_a_corrupted_state_is_treated_as_empty_with_a_warning(tmp_path: Path, content: str) -> None:
    state_dir = tmp_path / ".mlarena-sync"
    state_dir.mkdir()
    (state_dir / "state.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    store = StateStore(state_dir)
    with capture_logs() as events:
        assert store.load("t") == TargetState()
    assert store.was_reset and store.reset_reason
    assert [e["event"] for e in events] == ["state_reset"]
    assert events[0]["log_level"] == "warning"
    store.save("t", sample())
    assert StateStore(state_dir).load("t") == sample()


def test_state_from_a_newer_version_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"version": 9, "targets": {}}', encoding="utf-8")
    with pytest.raises(StateError, match="newer mlarena-sync"):
        StateStore(tmp_path).load("t")


def test_stat_cache_round_trip_per_root(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "st")
    cache = StatCache({"a.py": StatEntry(1, 2, 3, "d" * 64, 4)})
    store.save_stat_cache(Path("/root/one"), cache)
    assert not (tmp_path / "st").exists()  # not dirty: nothing to write
    cache.dirty = True
    store.save_stat_cache(Path("/root/one"), cache)
    assert not cache.dirty
    other = StatCache({"b.py": StatEntry(5, 6, 7, "e" * 64, 8)})
    other.dirty = True
    store.save_stat_cache(Path("/root/two"), other)
    assert store.load_stat_cache(Path("/root/one")).entries == cache.entries
    assert store.load_stat_cache(Path("/root/two")).entries == other.entries
    assert store.load_stat_cache(Path("/elsewhere")).entries == {}
    (tmp_path / "st" / "stat-cache.json").write_text("garbage", encoding="utf-8")
    assert store.load_stat_cache(Path("/root/one")).entries == {}


def test_the_token_is_never_stored(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "st")
    store.save("t", sample())
    cache = StatCache({"a.py": StatEntry(1, 2, 3, "d" * 64, 4)})
    cache.dirty = True
    store.save_stat_cache(tmp_path, cache)
    with store.lock():
        for path in (tmp_path / "st").iterdir():
            assert "mlk_" not in path.read_text(encoding="utf-8")


def test_lock_writes_the_pid_and_refuses_a_second_holder(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "st")
    with store.lock():
        assert (tmp_path / "st" / "lock").read_text(encoding="utf-8").strip() == str(os.getpid())
        with pytest.raises(LockedError) as info, StateStore(tmp_path / "st").lock():
            pass  # pragma: no cover
        assert info.value.pid == os.getpid()
        assert f"another mlarena-sync (pid {os.getpid()}) is working on this folder" in str(
            info.value
        )
    with store.lock():  # released: can be taken again
        pass


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    repo = REPO
    child_code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from mlarena_sync.store.state import StateStore
        with StateStore(Path({str(tmp_path / "st")!r})).lock():
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(repo)}
    child = subprocess.Popen(
        [sys.executable, "-c", child_code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError) as info, StateStore(tmp_path / "st").lock():
            pass  # pragma: no cover
        assert info.value.pid == child.pid
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    with StateStore(tmp_path / "st").lock():
        pass
