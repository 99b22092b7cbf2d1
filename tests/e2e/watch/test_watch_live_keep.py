"""``sync.live: keep`` (issue 12): while the agent is live and no deploy could follow an edit,
``watch`` keeps the edit local (the agent stays on the leaderboard) and says so once; when a
deploy can follow, it syncs and deploys together. ``follow`` (the default) uploads at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.project import Project, make_project
from helpers.watch import StartWatch, WatchRun

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import load_config
from mlarena_sync.errors import ConfigError
from mlarena_sync.watch.source import QueueChangeSource


def _live_watch(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch, live: str, **config: object
) -> tuple[Project, QueueChangeSource, WatchRun, int]:
    project = make_project(tmp_path, arena.url, "watch", auto=True, **config)
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace("sync:\n", f"sync:\n  live: {live}\n", 1))
    source = QueueChangeSource()
    run = start_watch(project, arena, source=source)
    aid = run.wait_bound()
    run.out.expect("agent_status", 20, where=lambda f: f.get("status") == "active")
    return project, source, run, aid


def test_keep_holds_an_edit_a_deploy_cannot_follow(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena.set_deploy_limit(2)  # after the first deploy: 1 left, kept in reserve
    project, source, run, aid = _live_watch(arena, tmp_path, start_watch, "keep", reserve=1)
    project.write("helper.py", "VALUE = 1\n")
    source.put({"helper.py"})
    held = run.out.expect("held_live", 10)
    assert held["blocker"] == "reserve"
    assert "`mlarena-sync push --deploy` sends them now" in held["text"]
    assert run.remote()["helper.py"] == "VALUE = 0\n"  # not uploaded
    assert arena.agent_status(aid) == "active"  # still on the leaderboard
    assert run.finish() == 0


def test_follow_uploads_at_once(arena: FakeArena, tmp_path: Path, start_watch: StartWatch) -> None:
    arena.set_deploy_limit(2)
    project, source, run, _ = _live_watch(arena, tmp_path, start_watch, "follow", reserve=1)
    project.write("helper.py", "VALUE = 1\n")
    source.put({"helper.py"})
    run.wait_remote("helper.py", "VALUE = 1\n")
    assert not run.out.named("held_live")
    assert run.finish() == 0


def test_keep_syncs_and_deploys_together_when_a_deploy_can_follow(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project, source, run, aid = _live_watch(arena, tmp_path, start_watch, "keep", reserve=0)
    before = arena.deploy_count(aid)
    project.write("helper.py", "VALUE = 3\n")
    source.put({"helper.py"})
    run.wait_remote("helper.py", "VALUE = 3\n")
    run.out.expect("deploy_requested", 20, count=2)
    assert arena.deploy_count(aid) == before + 1
    assert not run.out.named("held_live")
    assert run.finish() == 0


def test_sync_live_accepts_keep_and_follow_only(tmp_path: Path) -> None:
    project = make_project(tmp_path, "http://127.0.0.1:9", "watch")
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace("sync:\n", "sync:\n  live: sometimes\n", 1))
    with pytest.raises(ConfigError, match="must be one of follow, keep"):
        load_config(project.config)
