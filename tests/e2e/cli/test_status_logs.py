"""`status` and `logs` end to end."""

from __future__ import annotations

import re

import pytest
from helpers.arena import mutations, open_client
from helpers.cli import Cli, in_project
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def test_status_before_and_after_a_push(arena: FakeArena, cli: Cli, project: Project) -> None:
    before = cli(*in_project(project, "status"))
    assert before.code == 0, before.text
    assert "none yet" in before.out and "not in sync" in before.out
    assert cli(*in_project(project, "push", "--wait")).code == 0
    arena.reset_counters()
    after = cli(*in_project(project, "status"))
    assert after.code == 0, after.text
    assert "): live · " in after.out and "active" not in after.out, after.out
    assert "1 of 5 used, 4 left" in after.out
    assert "last deploy: deploy #1 in history, succeeded" in after.out
    assert "files: in sync (3 files)" in after.out
    assert mutations(arena.counters) == {}
    project.write("notes.txt", "edited\n")
    (event,) = cli(*in_project(project, "--json", "status")).json_lines()
    assert event["in_sync"] is False
    assert event["deploys_remaining"] == 4
    assert [u["name"] for u in event["plan"]["uploads"]] == ["notes.txt"]


def test_status_works_while_another_command_holds_the_lock(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    from mlarena_sync.store.state import StateStore

    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    with StateStore(project.dir / ".mlarena-sync").lock():
        assert cli(*in_project(project, "status")).code == 0
        locked = cli(*in_project(project, "push"))
    assert locked.code == 2
    assert "another mlarena-sync" in locked.err


def test_logs_and_games(arena: FakeArena, cli: Cli, project: Project) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    res = cli(*in_project(project, "logs"))
    assert res.code == 0, res.text
    assert "status: live" in res.out and "active" not in res.out, res.out
    games = cli(*in_project(project, "logs", "--games", "--limit", "2"))
    assert games.code == 0, games.text
    assert games.out.count("=== game") == 2
    assert "[arena]" in games.out


def test_logs_follow_is_bounded(arena: FakeArena, cli: Cli, project: Project) -> None:
    assert cli(*in_project(project, "push")).code == 0
    res = cli(*in_project(project, "logs", "--follow", "--timeout", "3"))
    assert res.code == 0, res.text
    lines = [line for line in res.out.splitlines() if line.startswith("· status:")]
    assert re.search(r"→ live · mean reward \d+$", lines[-1]), lines
    assert len(lines) == len(set(lines)), "each status line once"


def test_logs_without_an_agent_is_a_clear_error(cli: Cli, project: Project) -> None:
    res = cli(*in_project(project, "logs"))
    assert res.code == 2
    assert "push" in res.err


def test_logs_follow_shows_a_redeploy_made_between_two_polls(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m4: the redeploy starts and ends while follow sleeps; it is noticed by its deploy id."""
    from mlarena_sync.clock import SystemClock

    assert cli(*in_project(project, "push", "--wait")).code == 0
    aid = project.agent_id()
    real_sleep = SystemClock.sleep
    redeployed: list[int] = []

    def sleep(self: SystemClock, seconds: float) -> None:
        if not redeployed:
            with open_client(arena) as client:
                redeployed.append(client.deploy(1, aid).deployment_id or 0)
            assert arena.wait_deploys_idle(15)
        real_sleep(self, seconds)

    monkeypatch.setattr(SystemClock, "sleep", sleep)
    res = cli(*in_project(project, "logs", "--follow", "--timeout", "1.5"))
    assert res.code == 0, res.text
    assert redeployed and f"deploy #{redeployed[0]}: " in res.out, res.out
    outcomes = [line for line in res.out.splitlines() if line.startswith("· status: live")]
    assert len(outcomes) == 2, res.out  # the first deploy's, then the redeploy's


def test_status_shows_the_agent_and_quota_beside_files_that_cannot_sync(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("tok.txt", f"MLARENA_API_KEY={token}\n")
    res = cli(*in_project(project, "status"))
    assert res.code == 0, res.text
    assert "): live" in res.out and "1 of 5 used, 4 left" in res.out
    assert "files: not syncable" in res.out and "tok.txt" in res.out
    assert "stop the sync" not in res.out and token not in res.text
    (event,) = cli(*in_project(project, "--json", "status")).json_lines()
    assert event["in_sync"] is False and event["plan"] is None
    assert any("tok.txt" in p for p in event["not_syncable"])
