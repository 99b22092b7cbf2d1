"""`watch` against the fake arena on a real folder: saves, bursts, atomic saves, storms."""

from __future__ import annotations

import os
import time
from pathlib import Path

from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena


def test_one_save_is_uploaded_within_the_quiet_window(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena)
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    run.out.expect("synced", 5)

    saved = time.monotonic()
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n", timeout=5)
    elapsed = time.monotonic() - saved
    assert elapsed < 0.1 + 1.0, f"the save took {elapsed:.2f}s to reach the arena"
    assert run.finish() == 0
    assert run.out.named("watch_stopped")


def test_a_burst_of_200_saves_is_one_or_two_reconciles_and_one_deploy(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true", max_wait=5)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.out.expect("deploy_requested", 10)
    wait_until(lambda: arena.agent_status(aid) == "active", 15, "the first deploy to settle")
    run.out.expect("agent_status", 5)
    before = len(run.out.named("synced"))
    deploys = arena.deploy_count(aid)

    for i in range(200):
        project.write("helper.py", f"VALUE = {i}\n")
    run.wait_remote("helper.py", "VALUE = 199\n")
    wait_until(lambda: arena.deploy_count(aid) == deploys + 1, 10, "one redeploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "the redeploy to settle")
    syncs = len(run.out.named("synced")) - before
    assert 1 <= syncs <= 2, run.out.names()
    assert arena.deploy_count(aid) == deploys + 1
    assert run.finish() == 0


def test_editor_atomic_save(arena: FakeArena, tmp_path: Path, start_watch: StartWatch) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena)
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")

    # vim-like: write a swap/backup file, rename over the target, remove the backup
    tmp = project.root / ".helper.py.swx"
    tmp.write_text("VALUE = 'atomic'\n")
    backup = project.root / "helper.py~"
    os.link(project.root / "helper.py", backup)
    os.replace(tmp, project.root / "helper.py")
    backup.unlink()
    run.wait_remote("helper.py", "VALUE = 'atomic'\n")
    remote = run.remote()
    assert set(remote) == {"agent.py", "helper.py"}, remote
    assert run.finish() == 0


def test_checkout_storm_is_synced(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    files = {f"pkg{i % 5}/mod_{i:03d}.py": f"V = {i}\n" for i in range(40)}
    project = make_project(tmp_path, arena.url, "watch", files=files, max_delete=100)
    run = start_watch(project, arena)
    run.wait_bound()
    run.wait_remote("mod_039.py", "V = 39\n")
    before = run.out.named("synced")

    # git checkout: every file replaced (temp + rename), some deleted, a new folder appears
    for rel in files:
        path = project.root / rel
        tmp = path.with_name(f".{path.name}.lock")
        tmp.write_text(f"V = 'b{rel}'\n")
        os.replace(tmp, path)
    for i in range(5):
        (project.root / f"pkg{i}" / f"mod_{i:03d}.py").unlink()
    for i in range(10):
        project.write(f"newpkg/deep/new_{i}.py", f"N = {i}\n")

    def done() -> bool:
        remote = run.remote()
        gone = not any(f"mod_{i:03d}.py" in remote for i in range(5))
        return (
            gone
            and remote.get("new_9.py") == "N = 9\n"
            and all(
                remote.get(Path(rel).name) == f"V = 'b{rel}'\n"
                for i, rel in enumerate(files)
                if i >= 5
            )
        )

    wait_until(done, 15, "the storm to be synced")
    assert len(run.out.named("synced")) - len(before) <= 3
    assert run.finish() == 0
