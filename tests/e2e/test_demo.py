"""``mlarena-sync demo``: the whole loop on a fresh machine, and nothing left behind."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from helpers import REPO
from helpers.arena import hits, routes
from helpers.processes import cli_env, stop_group, wait_group_gone
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import main
from mlarena_sync.commands import demo
from mlarena_sync.errors import MlarenaSyncError


def demo_env() -> dict[str, str]:
    return cli_env(None, PYTHONUNBUFFERED="1")


def start_demo(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlarena_sync", "demo", *args],
        cwd=cwd,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_demo_deploys_the_example_and_leaves_nothing_behind(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = start_demo(cwd=tmp_path)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        survivors = not wait_group_gone(proc.pid, timeout=5)
        stop_group(proc.pid)

    assert proc.returncode == 0, out
    assert time.monotonic() - started < 60
    assert re.search(r"deployed: live\b", out) and "commit" not in out, out
    assert re.search(r"leaderboard.*cartpole-linear.*200", out, re.IGNORECASE), out
    assert not survivors, "the demo left a process running"
    # The temporary copy is gone (its path is printed), and nothing was written where we ran.
    folders = set(re.findall(r"(/\S*mlarena-demo-[^/\s]+)", out))
    assert folders, out
    assert all(not Path(folder).exists() for folder in folders)
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_a_non_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me\n")

    assert main(["demo", "--dir", str(mine)]) == 2

    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "keep me\n"
    captured = capsys.readouterr()
    assert "not an empty folder" in captured.out + captured.err


def test_demo_into_a_new_dir_keeps_a_working_copy(tmp_path: Path) -> None:
    folder = tmp_path / "my-agent"
    threads_before = set(threading.enumerate())

    assert main(["demo", "--dir", str(folder)]) == 0

    assert {p.name for p in folder.iterdir()} >= {"agent.py", "policy.py", "weights.json"}
    config = (folder / "mlarena.yaml").read_text()
    assert re.search(r"^server: http://127\.0\.0\.1:\d+", config, re.M)
    assert (folder / ".mlarena-sync").is_dir()
    # The embedded arena and everything it ran are stopped.
    wait_until(lambda: not set(threading.enumerate()) - threads_before, 5, "its threads to end")


def test_example_is_found_in_a_checkout_and_in_an_installed_wheel(tmp_path: Path) -> None:
    assert demo.example_dir() == REPO / "examples" / "cartpole-agent"
    # A wheel carries examples/ inside the package (pyproject.toml maps it there).
    wheel_pkg = tmp_path / "site-packages" / "mlarena_sync"
    shipped = wheel_pkg / "examples" / "cartpole-agent"
    shipped.mkdir(parents=True)
    (shipped / "agent.py").write_text("class Agent: ...\n")
    (shipped / "mlarena.yaml").write_text("version: 1\n")
    assert demo.example_dir(wheel_pkg) == shipped
    with pytest.raises(MlarenaSyncError, match="example agent"):
        demo.example_dir(tmp_path / "elsewhere" / "mlarena_sync")


class LiveDemo:
    """A running ``mlarena-sync demo`` whose output is read line by line (a reader thread)."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = start_demo(*args, cwd=cwd)
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    @property
    def output(self) -> str:
        return "".join(self.seen)

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The next line matching ``pattern``; fails when the output ends or time runs out."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n{self.output}")
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in:\n{self.output}")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=20)

    def close(self) -> bool:
        """Stop everything; True when nothing of the demo was left running on its own."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        with contextlib.suppress(queue.Empty):  # what is left once the reader has stopped
            while (line := self._lines.get_nowait()) is not None:
                self.seen.append(line)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        clean = wait_group_gone(self.proc.pid, timeout=5)
        stop_group(self.proc.pid)
        return clean


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_demo_watch_redeploys_an_edit_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "my-agent"
    live = LiveDemo("--watch", "--dir", str(folder), cwd=tmp_path)
    try:
        live.wait_for(r"\blive\b", timeout=45)
        live.wait_for(r"watch", timeout=15)
        weights = folder / "weights.json"
        weights.write_text(weights.read_text().replace('"bias": 0.0', '"bias": 0.01'))
        live.wait_for(r"weights\.json", timeout=20)  # its upload line, in any renderer
        live.wait_for(r"deploy.requested", timeout=30)
        live.wait_for(r"\blive\b", timeout=30)
        assert live.interrupt() == 130, live.output
    finally:
        clean = live.close()
    assert clean, "the demo left a process running"
    assert (folder / "agent.py").is_file()  # --dir: kept


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_ctrl_c_during_the_push_stops_cleanly(tmp_path: Path) -> None:
    live = LiveDemo(cwd=tmp_path)
    try:
        live.wait_for(r"deploy.requested", timeout=30)
        assert live.interrupt() == 130, live.output
    finally:
        clean = live.close()
    assert clean, "the demo left a process running"
    folders = set(re.findall(r"(/\S*mlarena-demo-[^/\s]+)", live.output))
    assert folders, live.output
    assert all(not Path(folder).exists() for folder in folders), live.output


def test_keep_leaves_the_temporary_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes the copy

    assert main(["demo", "--keep"]) == 0

    out = capsys.readouterr().out
    (kept,) = tmp_path.glob("mlarena-demo-*/cartpole-agent")
    assert str(kept) in out and "is kept in" in out
    assert (kept / "agent.py").is_file() and (kept / ".mlarena-sync").is_dir()


def test_demo_api_v0_runs_on_the_older_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--api", "v0", "-v", "demo"]) == 0
    out = capsys.readouterr()
    assert "/api/direct_attache_agents/" in out.out + out.err, "the v0 routes were spoken"
    assert "/api/submissions/" not in out.out + out.err


def test_demo_server_runs_against_that_fake_arena(
    arena: FakeArena,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake arena "in another shell": the session's, on either generation; its token exported.
    monkeypatch.setenv("MLARENA_API_KEY", arena.user_token)
    folder = tmp_path / "copy"

    assert main(["--server", arena.url, "demo", "--dir", str(folder)]) == 0, capsys.readouterr()

    out = capsys.readouterr().out
    assert hits(arena.counters, routes(arena).create) == 1  # the agent was made there
    assert hits(arena.counters, routes(arena).deploy) == 1
    assert re.search(r"leaderboard.*cartpole-linear", out, re.IGNORECASE), out
    config = (folder / "mlarena.yaml").read_text()
    assert f"server: {arena.url}   # the fake arena the demo ran against" in config
    assert f"points at {arena.url}" in out


def test_demo_server_without_its_token_is_a_usage_error(
    arena: FakeArena, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--server", arena.url, "demo", "--dir", str(tmp_path / "copy")]) == 2
    err = capsys.readouterr().err
    assert f"demo --server {arena.url} needs that fake arena's token: set MLARENA_API_KEY" in err
    assert not arena.counters  # nothing was asked of it
    assert not (tmp_path / "copy").exists()


def test_demo_refuses_a_server_beyond_this_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--server", "https://ml-arena.com", "demo", "--dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "the demo runs only against a fake arena on this machine" in err
    assert "mlarena-sync init --challenge ID" in err
    assert not (tmp_path / "c").exists()
