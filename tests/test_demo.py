"""``mlarena-sync demo``: the whole loop on a fresh machine, and nothing left behind."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _processes import stop_group, wait_group_gone

from mlarena_sync.cli import main
from mlarena_sync.commands import demo
from mlarena_sync.errors import MlarenaSyncError

REPO = Path(__file__).resolve().parent.parent


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


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
    assert re.search(r"\bactive\b", out), out
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
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads_before == set()


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


def read_lines(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put(None)


def wait_for(lines: queue.Queue[str | None], pattern: str, seen: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"output ended before {pattern!r}:\n{''.join(seen)}")
        seen.append(line)
        if re.search(pattern, line):
            return line


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_demo_watch_redeploys_an_edit_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "my-agent"
    proc = start_demo("--watch", "--dir", str(folder), cwd=tmp_path)
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        wait_for(lines, r"\bactive\b", seen, timeout=45)
        wait_for(lines, r"watch", seen, timeout=15)
        weights = folder / "weights.json"
        weights.write_text(weights.read_text().replace('"bias": 0.0', '"bias": 0.01'))
        wait_for(lines, r"upload.*weights\.json", seen, timeout=20)
        wait_for(lines, r"deploy_requested", seen, timeout=30)
        wait_for(lines, r"\bactive\b", seen, timeout=30)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
        survivors = not wait_group_gone(proc.pid, timeout=5)
        stop_group(proc.pid)
    assert not survivors, "the demo left a process running"
    assert (folder / "agent.py").is_file()  # --dir: kept
