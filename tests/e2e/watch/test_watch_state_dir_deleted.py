"""``rm -rf .mlarena-sync/`` while ``watch`` runs (issue 15: 13).

Before, the watch kept its lock on an inode nobody else could find: a ``push`` made a new lock
file, took it and ran beside the watch; and the binding was gone from the disk. Now the watch
notices within a second, makes the folder again, holds the lock file at its path, writes back the
binding it keeps in memory, reopens its lending socket, and says so once; no agent is created."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from helpers.arena import routes
from helpers.cli import Cli
from helpers.processes import cli_env, run_process
from helpers.project import make_project
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.lock import LOCK_FILE


def _lock_is_held(state_dir: Path) -> bool:
    """Whether another process holds ``state_dir/lock`` (what a push would find)."""
    path = state_dir / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the flock when it was taken
    return False


def test_rm_rf_state_dir_under_watch_keeps_lock_and_binding(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", files={"a.py": "A = 0\n"})
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.wait_remote("a.py", "A = 0\n")
    run.out.expect("synced")  # the reconcile is over: its state written (see RELIABILITY.md)
    assert _lock_is_held(project.state_dir)
    creates = arena.counters.get(routes(arena).create, 0)

    # what `rm -rf .mlarena-sync/` leaves (renamed away first: the watch may restore the
    # folder before a file-by-file removal ends, which rm would then report as not empty)
    gone = tmp_path / "deleted-state"
    project.state_dir.rename(gone)
    shutil.rmtree(gone)

    restored = run.out.expect("state_dir_restored", timeout=10)
    assert restored["level"] == "warning"
    assert _lock_is_held(project.state_dir), "a push would lock a new file and run beside"
    assert (project.state_dir / ".gitignore").is_file()
    assert project.agent_id() == aid, "the binding kept in memory is written back"
    assert run.out.names().count("state_dir_restored") == 1

    project.write("a.py", "A = 1\n")
    run.wait_remote("a.py", "A = 1\n")
    # a push borrows the folder from the watch (its socket reopened), it does not run beside it
    res = run_process(["-C", str(project.dir), "push"], cli_env(token))
    assert res.code == 0, res.err
    lent = run.out.expect("folder_lent", timeout=10)
    assert lent["command"].startswith("mlarena-sync"), lent
    assert run.out.names().count("agent_created") == 1  # the first, before the rm -rf
    assert arena.counters.get(routes(arena).create, 0) == creates, "no agent was created"
    assert project.agent_id() == aid
    assert run.finish() == 0
