"""Fault matrix, `watch` part: the arena stopped and restarted under a running watch, and the
whole local folder emptied (`rm -rf *`) under watch. `watch` runs as a real subprocess and is
stopped with SIGINT (exit 130 after a clean shutdown, docs/product.md)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from helpers.arena import Served, path_of, remote_files, routes
from helpers.checks import bound_agent_id
from helpers.processes import cli_env, free_port, spawn_cli, stop_process
from helpers.project import Project, local_selection, make_project, small_tree
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena

INTERRUPTED = 130


class Watch:
    """`python -m mlarena_sync watch` in the background, output in a file."""

    def __init__(self, project: Project, token: str, log: Path) -> None:
        self.log = log
        self._out: IO[bytes] = log.open("wb")
        self.proc = spawn_cli(
            "-C",
            str(project.dir),
            "watch",
            env=cli_env(token),
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        code = stop_process(self.proc, sig=signal.SIGINT, grace=15)
        self._out.close()
        return code


@pytest.fixture
def watches() -> Iterator[list[Watch]]:
    started: list[Watch] = []
    yield started
    for watch in started:
        if watch.alive():
            watch.stop()


def _synced(arena: Served, project: Project, token: str, aid_box: list[int]) -> bool:
    if not aid_box:
        aid_box.append(bound_agent_id(project))
    remote = remote_files(arena, token, aid_box[0])
    local = local_selection(project.root)
    return all(
        name in remote
        and remote[name]["size"] == len(data)
        and (remote[name]["content"] is None or remote[name]["content"].encode() == data)
        for name, data in local.items()
    ) and set(remote) <= set(local) | {"agent.py"}


class ArenaProcess:
    """The fake arena CLI on a fixed port with a data dir (restartable)."""

    def __init__(self, api: str, port: int, data_dir: Path, log: Path) -> None:
        self.api = api
        self.port = port
        self.data_dir = data_dir
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mlarena_sync.arena",
                    "--api",
                    self.api,
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    "--quiet-requests",
                ],
                env=cli_env(None),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        import requests

        probe = path_of(routes(self).competition, cid=1)
        wait_until(
            lambda: requests.get(f"{self.url}{probe}", timeout=2).ok,
            timeout=20,
            what="the fake arena to answer",
        )

    def stop(self) -> None:
        if self.proc is not None:
            assert stop_process(self.proc, sig=signal.SIGTERM, grace=10) == 0
            self.proc = None


@pytest.fixture
def arena_process(api_generation: str, tmp_path: Path) -> Iterator[ArenaProcess]:
    data, log = tmp_path / "arena-data", tmp_path / "arena.log"
    proc = ArenaProcess(api_generation, free_port(), data, log)
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(10)


def test_arena_restart_during_watch(
    arena_process: ArenaProcess, watches: list[Watch], tmp_path: Path
) -> None:
    token = FakeArena.user_token
    arena_process.start()
    project = make_project(tmp_path, arena_process.url, "faults", files=small_tree(5, binaries=1))
    watch = Watch(project, token, tmp_path / "watch.log")
    watches.append(watch)
    aid: list[int] = []
    wait_until(
        lambda: _synced(arena_process, project, token, aid),
        timeout=30,
        what="the first sync",
    )

    arena_process.stop()
    (project.root / "pkg1" / "helper_01.py").write_text("VALUE = 'during the outage'\n")
    (project.root / "pkg2" / "new_in_outage.py").write_text("NEW = 1\n")
    (project.root / "pkg0" / "helper_03.py").unlink()
    before = len(watch.output())
    wait_until(lambda: len(watch.output()) > before, timeout=10, what="watch to notice")
    assert watch.alive(), f"watch died during the outage:\n{watch.output()}"

    arena_process.start()
    wait_until(
        lambda: _synced(arena_process, project, token, aid),
        timeout=45,
        interval=0.2,
        what="watch to catch up after the restart",
    )
    assert watch.alive(), watch.output()
    assert watch.stop() == INTERRUPTED, watch.output()
    assert "Traceback" not in watch.output()
    remote = remote_files(arena_process, token, aid[0])
    assert "helper_03.py" not in remote
    assert remote["helper_01.py"]["content"] == "VALUE = 'during the outage'\n"
    arena_process.stop()


@pytest.mark.parametrize("root", ["agent", "."], ids=["agent-subfolder", "config-folder"])
def test_rm_rf_under_watch_respects_max_delete(
    arena: FakeArena, token: str, watches: list[Watch], tmp_path: Path, root: str
) -> None:
    max_delete = 3
    project = make_project(
        tmp_path, arena.url, "faults", files=small_tree(9), max_delete=max_delete, root=root
    )
    watch = Watch(project, token, tmp_path / "watch.log")
    watches.append(watch)
    aid: list[int] = []
    wait_until(lambda: _synced(arena, project, token, aid), timeout=30, what="first sync")
    synced = set(remote_files(arena, token, aid[0]))
    assert len(synced) >= 10

    arena.reset_counters()
    for child in project.root.iterdir():  # rm -rf * (hidden entries, like .mlarena-sync, stay)
        if child.name.startswith("."):
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    wait_until(
        lambda: "max_delete" in watch.output() or "--force" in watch.output(),
        timeout=10,
        what="watch to say the deletes exceed max_delete",
    )
    if root == "agent":
        # Watch is alive and still syncing: a new file reaches the arena.
        (project.root / "after.py").write_text("AFTER = 1\n")
        wait_until(
            lambda: "after.py" in remote_files(arena, token, aid[0]),
            timeout=20,
            what="a file written after the rm -rf to sync",
        )
    remote = set(remote_files(arena, token, aid[0]))
    deleted = synced - remote
    assert len(deleted) <= max_delete, f"watch deleted {len(deleted)} remote files: {deleted}"
    print(f"rm -rf under watch ({root}): {len(deleted)} remote file(s) deleted")
    code = watch.stop()
    assert "Traceback" not in watch.output(), watch.output()
    assert code in (INTERRUPTED, 2, 3), watch.output()
