"""Protect the live agent (issue 12): when a deploy cannot follow an edit that moved the agent
out of ``active`` (reserve, quota, a failing check), ``watch`` says so once, in one sentence,
with the next slot time and the command that spends the reserve."""

from __future__ import annotations

from pathlib import Path

from helpers.project import make_project
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.watch.source import QueueChangeSource


def test_an_edit_no_deploy_can_follow_says_the_agent_is_off_the_leaderboard(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena.set_deploy_limit(2)  # the first deploy leaves 1: kept in reserve
    project = make_project(tmp_path, arena.url, "watch", auto=True, reserve=1)
    source = QueueChangeSource()
    run = start_watch(project, arena, source=source)
    run.wait_bound()
    run.out.expect("agent_status", 20, where=lambda f: f.get("status") == "active")
    project.write("helper.py", "VALUE = 1\n")
    source.put({"helper.py"})
    waiting = run.out.expect("deploy_waiting", 10, where=lambda f: f.get("blocker") == "reserve")
    assert waiting["off_leaderboard"] is True
    text = waiting["text"]
    assert text.startswith("the agent is off the leaderboard (status: ")
    assert "`mlarena-sync push --deploy`" in text and "next slot" in text
    assert "\n" not in text
    project.write("helper.py", "VALUE = 2\n")  # a second edit while blocked: said once
    source.put({"helper.py"})
    run.out.expect("synced", 10, count=3)
    assert run.finish() == 0
    assert len([f for f in run.out.named("deploy_waiting") if f.get("off_leaderboard")]) == 1
