"""``python -m mlarena_sync`` (or a shell) as a child process; process groups.

A test that must stop everything a child started runs it with ``start_new_session=True``: the
child's pid is then the id of a process group, which these helpers inspect and stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import REPO
from .cli import Result
from .wait import wait_until


def cli_env(token: str | None, **extra: str) -> dict[str, str]:
    """A child's environment: no MLARENA_* from outside, the repo importable, ``token`` as
    MLARENA_API_KEY (if given), then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if token is not None:
        env["MLARENA_API_KEY"] = token
    env.update(extra)
    return env


def cli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlarena_sync", *args]


def spawn_cli(*args: str, env: Mapping[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    """``python -m mlarena_sync *args`` in the background, stdin closed; the output goes to
    ``popen``'s ``stdout``/``stderr`` (default: discarded)."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(cli_cmd(*args), env=dict(env), stdin=subprocess.DEVNULL, **popen)


def run_process(
    args: Iterable[str], env: Mapping[str, str], *, timeout: float = 60, prefix: Sequence[str] = ()
) -> Result:
    """``python -m mlarena_sync *args`` to its end (under the command ``prefix``, if any)."""
    proc = subprocess.run(
        [*prefix, *cli_cmd(*args)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def stop_process(
    proc: subprocess.Popen[Any], *, sig: int = signal.SIGINT, grace: float = 10
) -> int:
    """Stop ``proc`` (``sig`` first, SIGKILL after ``grace`` s); its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat_fields(pid: str) -> list[str] | None:
    try:
        stat = (Path("/proc") / pid / "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(entry.name) if entry.name.isdigit() else None
        if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def children_running(pid: int, needle: str) -> list[int]:
    """Live children of ``pid`` whose command line contains ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(entry.name) if entry.name.isdigit() else None
        if fields is None or int(fields[1]) != pid or fields[0] == "Z":
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def wait_group_gone(pgid: int, timeout: float = 10.0) -> bool:
    """Wait (bounded) until nothing of the group is left; False if something still runs."""
    try:
        wait_until(lambda: not group_members(pgid), timeout, f"process group {pgid} to end")
    except AssertionError:
        return False
    return True


def stop_group(pgid: int) -> None:
    """SIGTERM, then SIGKILL, whatever is left of the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_members(pgid):
            return
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        wait_group_gone(pgid, timeout=5.0)
