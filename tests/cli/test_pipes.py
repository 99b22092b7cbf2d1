"""The CLI in a shell: the ``fake-arena --help`` example.

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
from _processes import stop_group, wait_group_gone

import mlarena_sync
from mlarena_sync.cli import main

REPO = Path(mlarena_sync.__file__).resolve().parent.parent


def _env(tmp_path: Path, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["TMPDIR"] = str(tmp_path)  # where a crash log would go
    if token is not None:
        env["MLARENA_API_KEY"] = token
    return env


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
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script + '\necho "url=$MLARENA_URL"'],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started.append(proc)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the `fake-arena --help` example did not return")
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "url=http://127.0.0.1:" in text, text
    assert wait_group_gone(proc.pid), "the example left the fake arena running"
