"""`watch` owns the folder; other commands are served (product.md, "One folder, one owner").

A real ``watch`` process, and ``push``/``pull``/``plan``/``status`` run beside it as real
processes: the writers borrow the lock over ``.mlarena-sync/watch.sock`` and run as alone (same
exit codes); the watch takes the folder back and reconciles. Waits are on conditions.
"""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.arena import remote_text
from helpers.processes import cli_env, run_process, spawn_cli, stop_process
from helpers.project import Project, make_project
from helpers.wait import wait_until
from helpers.watch import COMPETITION

from mlarena_sync.arena import FakeArena

BACK = "watch has the folder back"


class WatchProcess:
    def __init__(self, project: Project, arena: FakeArena, log: Path) -> None:
        self.project = project
        self.arena = arena
        self.log = log
        with log.open("wb") as out:
            self.proc = spawn_cli(
                "-C",
                str(project.dir),
                "watch",
                env=cli_env(arena.user_token),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> None:
        assert self.proc.poll() is None, self.output()

    def ready(self) -> int:
        """The agent bound, the first sync done, the control channel open; the agent id."""

        def up() -> int | None:
            self.alive()
            aid = self.project.agent_id()
            if aid is None or not (self.project.state_dir / "watch.sock").exists():
                return None
            return aid if "agent.py" in self.remote(aid) else None

        aid: int = wait_until(up, 30, "the watch to sync and listen")
        # its own first deploy (deploy.auto) done: the watch is idle, no reconcile under way
        wait_until(lambda: self.arena.agent_status(aid) == "active", 30, "the first deploy")
        wait_until(lambda: "→ live" in self.output(), 30, "the watch to see it")
        return aid

    def remote(self, aid: int) -> dict[str, str | None]:
        return remote_text(self.arena, self.arena.user_token, aid, COMPETITION)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.alive()
        res = run_process(["-C", str(self.project.dir), *args], cli_env(self.arena.user_token))
        return subprocess.CompletedProcess(args, res.code, res.out, res.err)

    def wait_back(self, times: int) -> None:
        wait_until(lambda: self.output().count(BACK) >= times, 20, f"{times} hand-back(s)")


@pytest.fixture
def watching(arena: FakeArena, tmp_path: Path) -> Iterator[WatchProcess]:
    project = make_project(tmp_path, arena.url, "watch", auto=True)
    watch = WatchProcess(project, arena, tmp_path / "watch.log")
    try:
        yield watch
    finally:
        code = stop_process(watch.proc)
        assert code in (0, 130), watch.output()
        assert not (project.state_dir / "watch.sock").exists(), "watch.sock left behind"


def test_push_deploy_beside_watch_exits_0_and_deploys_once(
    watching: WatchProcess, arena: FakeArena
) -> None:
    aid = watching.ready()
    sock = watching.project.state_dir / "watch.sock"
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert arena.wait_deploys_idle(30)
    before = arena.deploy_count(aid)
    res = watching.run("push", "--deploy")
    assert res.returncode == 0, res.stdout + res.stderr + watching.output()
    assert "another mlarena-sync" not in res.stderr
    assert arena.deploy_count(aid) == before + 1
    watching.wait_back(1)
    # the watch reconciled after taking the folder back, and owes no deploy of its own
    res = watching.run("status")
    assert res.returncode == 0, res.stderr
    assert arena.wait_deploys_idle(30)
    assert arena.deploy_count(aid) == before + 1, watching.output()
    watching.alive()


def test_pull_force_beside_watch_takes_the_browser_edit(
    watching: WatchProcess, arena: FakeArena
) -> None:
    aid = watching.ready()
    arena.browser_edit(aid, "helper.py", "VALUE = 42\n")
    res = watching.run("pull", "--force", "helper.py")
    assert res.returncode == 0, res.stdout + res.stderr + watching.output()
    assert (watching.project.root / "helper.py").read_text() == "VALUE = 42\n"
    watching.wait_back(1)
    watching.alive()


def test_plan_and_status_work_beside_watch(watching: WatchProcess) -> None:
    watching.ready()
    for command in ("plan", "status"):
        res = watching.run(command)
        assert res.returncode == 0, res.stdout + res.stderr
    assert BACK not in watching.output()  # read-only: no lock borrowed


def test_the_hints_watch_prints_run_as_printed(watching: WatchProcess, arena: FakeArena) -> None:
    aid = watching.ready()
    arena.browser_edit(aid, "helper.py", "VALUE = 'browser'\n")
    watching.project.write("helper.py", "VALUE = 'local'\n")

    def hint() -> list[str]:
        watching.alive()
        return re.findall(r"`(mlarena-sync pull --force [^`]*)`", watching.output())

    try:
        commands = wait_until(hint, 30, "watch's conflict hint")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{watching.output()}") from None
    args = commands[0].split()[1:]
    res = watching.run(*args)
    assert res.returncode == 0, res.stdout + res.stderr + watching.output()
    assert (watching.project.root / "helper.py").read_text() == "VALUE = 'browser'\n"
    watching.wait_back(1)
    res = watching.run("push", "--force")  # the other side's hint, as printed
    assert res.returncode == 0, res.stdout + res.stderr
    watching.wait_back(2)


def test_a_failing_borrower_hands_the_folder_back(watching: WatchProcess) -> None:
    watching.ready()
    res = watching.run("pull", "--force", "no-such-file.py")
    assert res.returncode == 2, res.stdout + res.stderr  # as when run alone: a usage error
    assert "another mlarena-sync" not in res.stderr
    watching.wait_back(1)
    res = watching.run("push")  # the folder was handed back: the next writer is served too
    assert res.returncode == 0, res.stdout + res.stderr
    watching.wait_back(2)
