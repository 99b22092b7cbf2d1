"""`watch` lifecycle: outages, conflicts, the lock, signals (real subprocesses for those)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.arena import remote_text
from helpers.processes import cli_env, spawn_cli
from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import COMPETITION, StartWatch

from mlarena_sync.api.interface import Generation
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import AuthError, LockedError
from mlarena_sync.watch.source import QueueChangeSource


@pytest.fixture
def own_arena(tmp_path: Path) -> Iterator[list[FakeArena]]:
    """Fake arenas of this test (with a data dir, restartable on the same port)."""
    arenas: list[FakeArena] = []
    yield arenas
    for a in arenas:
        a.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_outage_says_lost_and_back_once_and_syncs_the_edits(
    api_generation: Generation,
    own_arena: list[FakeArena],
    tmp_path: Path,
    start_watch: StartWatch,
) -> None:
    data = tmp_path / "arena-data"
    port = _free_port()  # an explicit port: cheroot sets SO_REUSEADDR, the restart can rebind
    first = FakeArena(data, api=api_generation).start(port=port)
    own_arena.append(first)
    project = make_project(
        tmp_path, first.url, "watch", files={"a.py": "A = 0\n", "b.py": "B = 0\n"}
    )
    run = start_watch(project, first)
    run.wait_bound()
    run.wait_remote("a.py", "A = 0\n")

    first.stop()
    project.write("a.py", "A = 'offline'\n")
    (project.root / "b.py").unlink()
    project.write("c.py", "C = 1\n")
    run.out.expect("connection_lost", 15)
    project.write("a.py", "A = 'offline 2'\n")  # more edits while down

    second = FakeArena(data, api=api_generation).start(port=port)
    own_arena.append(second)
    run.arena = second
    run.out.expect("connection_restored", 15)
    run.wait_remote("a.py", "A = 'offline 2'\n")
    run.wait_remote("c.py", "C = 1\n")
    run.wait_remote("b.py", "<absent>")
    assert len(run.out.named("connection_lost")) == 1
    assert len(run.out.named("connection_restored")) == 1
    names = run.out.names()
    assert names.index("connection_restored") > names.index("connection_lost")
    assert run.finish() == 0


def test_conflict_pauses_one_file_with_one_warning(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(
        tmp_path, arena.url, "watch", files={"a.py": "A = 0\n", "b.py": "B = 0\n"}
    )
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.wait_remote("a.py", "A = 0\n")
    arena.browser_edit(aid, "a.py", "A = 'browser'\n")
    for i in range(3):
        project.write("a.py", f"A = 'local {i}'\n")
        project.write("b.py", f"B = {i + 1}\n")
        run.wait_remote("b.py", f"B = {i + 1}\n")
    assert run.remote()["a.py"] == "A = 'browser'\n"  # not overwritten
    conflicts = run.out.named("conflict_paused")
    assert len(conflicts) == 1 and conflicts[0]["name"] == "a.py", conflicts
    assert run.finish() == 0


def test_second_watcher_in_process_is_locked_out(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    first = start_watch(project, arena)
    first.wait_bound()
    second = start_watch(project, arena)
    second.thread.join(10)
    assert second.errors and isinstance(second.errors[0], LockedError)
    assert second.errors[0].pid == os.getpid()
    assert first.finish() == 0


# ---------------------------------------------------------------- real processes


def _spawn(project_dir: Path, token: str, log: Path) -> subprocess.Popen[bytes]:
    """``mlarena-sync watch`` in the background, its output in ``log``."""
    with log.open("wb") as out:
        return spawn_cli(
            "-C",
            str(project_dir),
            "watch",
            env=cli_env(token),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(10)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_signal_stops_cleanly_and_leaves_a_consistent_state(
    arena: FakeArena,
    tmp_path: Path,
    procs: list[subprocess.Popen[bytes]],
    sig: signal.Signals,
    code: int,
) -> None:
    project = make_project(tmp_path, arena.url, "watch", files={"a.py": "A = 0\n"})
    log = tmp_path / "watch.log"
    proc = _spawn(project.dir, arena.user_token, log)
    procs.append(proc)
    wait_until(lambda: project.agent_id() is not None, 20, "the agent to be bound")
    aid = project.agent_id()
    assert aid is not None

    def remote() -> dict[str, str | None]:
        return remote_text(arena, arena.user_token, aid, COMPETITION)

    def synced() -> bool:
        assert proc.poll() is None, log.read_text()
        return "a.py" in remote()

    wait_until(synced, 20, "the first sync")
    project.write("a.py", "A = 1\n")
    wait_until(lambda: remote().get("a.py") == "A = 1\n", 10, "the edit to sync")
    proc.send_signal(sig)
    assert proc.wait(15) == code, log.read_text()
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "watch stopped" in output or "watch_stopped" in output, output
    # consistent: the base manifest says what the server holds, and the lock is free
    state = json.loads((project.dir / ".mlarena-sync" / "state.json").read_text())
    (entry,) = state["targets"].values()
    assert set(entry["files"]) == set(remote())
    import hashlib

    assert entry["files"]["a.py"]["sha256"] == hashlib.sha256(b"A = 1\n").hexdigest()
    assert (project.dir / ".mlarena-sync" / "lock").read_text() == ""


def test_second_watcher_process_exits_2_naming_the_pid(
    arena: FakeArena, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    first = _spawn(project.dir, arena.user_token, tmp_path / "first.log")
    procs.append(first)
    wait_until(lambda: project.agent_id() is not None, 20, "the first watcher to bind")
    second = subprocess.run(
        [sys.executable, "-m", "mlarena_sync", "-C", str(project.dir), "watch"],
        env=cli_env(arena.user_token),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"pid {first.pid}" in second.stderr, second.stderr
    first.send_signal(signal.SIGTERM)
    assert first.wait(15) == 0


def test_rescan_catches_what_no_event_reported(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", rescan=0.3)
    run = start_watch(project, arena, source=QueueChangeSource())  # reports nothing, ever
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    project.write("helper.py", "VALUE = 'unreported'\n")
    run.wait_remote("helper.py", "VALUE = 'unreported'\n", timeout=5)
    assert run.finish() == 0


def test_a_rejected_token_stops_the_watch(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena, token="mlk_user_nosuchkey_0000000000000000")
    run.thread.join(15)
    assert not run.thread.is_alive()
    assert run.errors and isinstance(run.errors[0], AuthError), run.errors
    assert "0000000000000000" not in str(run.errors[0])


def test_max_duration_ends_the_watch_by_itself(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena, max_duration=1.0)
    run.thread.join(10)
    assert not run.thread.is_alive()
    run.check_alive()
    assert run.code == [0]
    assert run.out.named("watch_stopped")[0]["reason"] == "stopped"
