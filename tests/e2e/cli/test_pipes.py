"""The CLI in a shell: output into a pipe closed early, and the ``fake-arena --help`` example.

Real subprocesses (``python -m mlarena_sync``), each in its own session so that whatever it
starts is found and stopped by the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import Cli, in_project, push_ok
from helpers.processes import cli_env, stop_group, wait_group_gone
from helpers.project import Project

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import BROKEN_PIPE, main


def _env(tmp_path: Path, token: str | None = None) -> dict[str, str]:
    return cli_env(token, TMPDIR=str(tmp_path))  # TMPDIR: where a crash log would go


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; each one's process group is stopped afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        stop_group(proc.pid)
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


MLARENA_SYNC = [sys.executable, "-m", "mlarena_sync"]


def _spawn(
    started: list[subprocess.Popen[bytes]],
    argv: list[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    stderr: int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """``argv`` in its own session, stdout piped to us; stopped by the ``started`` fixture."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    started.append(proc)
    return proc


def _reader_leaves_after(proc: subprocess.Popen[bytes], lines: int) -> None:
    """``| head -N``: read N lines, then close the reading end of the pipe."""
    assert proc.stdout is not None
    for _ in range(lines):
        assert proc.stdout.readline(), "the command ended before writing enough lines"
    proc.stdout.close()


def _assert_quiet_exit(proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    assert proc.wait(timeout=60) == BROKEN_PIPE, err
    assert err == ""
    assert not list(tmp_path.glob("mlarena-sync-crash-*")), "a closed pipe is not a crash"
    assert wait_group_gone(proc.pid), "something the command started is still running"


@pytest.mark.timeout(90)
def test_json_demo_into_head_exits_quietly(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    proc = _spawn(started, [*MLARENA_SYNC, "--json", "demo"], _env(tmp_path))
    _reader_leaves_after(proc, 5)
    _assert_quiet_exit(proc, tmp_path)


@pytest.mark.timeout(90)
def test_logs_follow_into_head_exits_quietly(
    arena: FakeArena,
    cli: Cli,
    project: Project,
    tmp_path: Path,
    started: list[subprocess.Popen[bytes]],
) -> None:
    push_ok(cli, project, "--wait")
    env = _env(tmp_path, arena.user_token)
    argv = [*MLARENA_SYNC, *in_project(project, "logs", "--follow", "--timeout", "60")]
    proc = _spawn(started, argv, env)
    _reader_leaves_after(proc, 1)
    # Something new to print after the reader left: the agent turns upload_failed.
    project.write("agent.py", "this is not python(\n")
    cli(*in_project(project, "push", "--no-deploy"))
    _assert_quiet_exit(proc, tmp_path)


def _shim(bin_dir: Path) -> None:
    """``mlarena-sync`` on PATH, running this interpreter on this checkout."""
    bin_dir.mkdir()
    script = bin_dir / "mlarena-sync"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlarena_sync "$@"\n')
    script.chmod(0o755)


@pytest.mark.timeout(60)
def test_fake_arena_help_example_returns_with_the_variables_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], started: list[subprocess.Popen[bytes]]
) -> None:
    assert main(["fake-arena", "--help"]) == 0
    example = capsys.readouterr().out.partition("example:\n")[2]
    script = "\n".join(line.removeprefix("  ") for line in example.splitlines())
    assert "fake-arena" in script
    _shim(tmp_path / "bin")
    env = _env(tmp_path)
    env["PATH"] = os.pathsep.join([str(tmp_path / "bin"), env.get("PATH", "")])
    work = tmp_path / "work"
    work.mkdir()
    argv = ["bash", "-euo", "pipefail", "-c", script + '\necho "url=$MLARENA_SERVER"']
    proc = _spawn(started, argv, env, cwd=work, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the `fake-arena --help` example did not return")
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "url=http://127.0.0.1:" in text, text
    assert wait_group_gone(proc.pid), "the example left the fake arena running"
