"""Process-group helpers for tests that start ``mlarena-sync`` (or a shell) as a subprocess.

A test starts its subprocess with ``start_new_session=True``: the child's pid is then the id of
a process group holding everything it starts, which these helpers can inspect and stop.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def wait_group_gone(pgid: int, timeout: float = 10.0) -> bool:
    """Wait (bounded) until nothing of the group is left; False if something still runs."""
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
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
