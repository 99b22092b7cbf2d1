"""`push` and `pull` do what a person expects (issue 13's review, both API generations):
``push --wait`` waits for a deploy already in flight and reports how it ended; a push that
leaves a live agent off the leaderboard says so; ``pull --force NAME`` takes the server's
version of a file edited only here; an interrupted ``push --wait`` says plainly what goes on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.arena import hits, routes
from helpers.cli import Cli, in_project
from helpers.project import Project

from mlarena_sync.arena import FakeArena

#: Passes the upload validation, fails its deploy (the import runs on the deploy runner).
BROKEN_AGENT = """\
import helper_that_does_not_exist


class Agent:
    def predict(self, observation):
        return 0
"""


@pytest.fixture
def slow_queue(arena: FakeArena) -> Iterator[None]:
    """A deploy stays queued ~2 s: long enough for a second command to find it in flight."""
    before = arena.simulator.queue_seconds
    arena.simulator.queue_seconds = 2.0
    yield
    arena.simulator.queue_seconds = before


def test_push_wait_waits_for_the_deploy_already_in_flight(
    arena: FakeArena, cli: Cli, project: Project, slow_queue: None
) -> None:
    assert cli(*in_project(project, "push")).code == 0  # deploy queued, not waited for
    aid = project.agent_id()
    assert aid is not None
    assert arena.agent_status(aid) in {"deploy_queue", "deploy_run"}
    arena.reset_counters()
    res = cli(*in_project(project, "--json", "push", "--wait", "--timeout", "60"))
    assert res.code == 0, res.text
    assert arena.agent_status(aid) == "active", "returned only once the deploy settled"
    assert hits(arena.counters, routes(arena).deploy) == 0, "no second deploy"
    events = res.json_lines()
    names = [e["event"] for e in events]
    assert "waiting_for_deploy" in names, names
    (done,) = [e for e in events if e["event"] == "push_done"]
    assert done["deployed"] is False and done["status"] == "active", done
    assert done["blocker"] == "in_flight", done


def test_pull_force_name_takes_the_servers_version_of_a_file_edited_only_here(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    server = (project.root / "agent.py").read_text()
    project.write("agent.py", server + "# my local idea\n")

    kept = cli(*in_project(project, "pull", "agent.py"))
    assert kept.code == 0, kept.text
    assert (project.root / "agent.py").read_text().endswith("# my local idea\n")
    assert "agent.py: edited here, unchanged on the server: your edit is kept" in kept.out
    assert "`mlarena-sync pull --force agent.py` takes the server's version" in kept.out
    (event,) = [
        e
        for e in cli(*in_project(project, "--json", "pull")).json_lines()
        if e["event"] == "local_edit_kept"
    ]
    assert (event["name"], event["file"]) == ("agent.py", "agent.py")

    forced = cli(*in_project(project, "--json", "pull", "--force", "agent.py"))
    assert forced.code == 0, forced.text
    assert (project.root / "agent.py").read_text() == server, "the server's version"
    events = forced.json_lines()
    (aside,) = [e for e in events if e["event"] == "kept_aside"]
    assert aside["file"] == "agent.py"
    copies = list((project.state_dir / "pulled").rglob("agent.py"))
    assert [c.read_text() for c in copies] == [server + "# my local idea\n"]
    (done,) = [e for e in events if e["event"] == "pull_done"]
    assert done["pulled"] == ["agent.py"]
    arena.reset_counters()
    again = cli(*in_project(project, "push"))
    assert again.code == 0, again.text
    assert hits(arena.counters, routes(arena).file) == 0, "in sync with the server: no upload"


def test_pull_force_without_a_name_keeps_edits_made_only_here(cli: Cli, project: Project) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("notes.txt", "my notes\n")
    res = cli(*in_project(project, "pull", "--force"))
    assert res.code == 0, res.text
    assert (project.root / "notes.txt").read_text() == "my notes\n"
    assert "`mlarena-sync pull --force notes.txt` takes the server's version" in res.out


def test_push_that_cannot_deploy_says_the_live_agent_is_off_the_leaderboard(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    aid = project.agent_id()
    assert aid is not None and arena.agent_status(aid) == "active"

    project.write("notes.txt", "second\n")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    lines = [x for x in res.out.splitlines() if "off the leaderboard" in x]
    assert lines == [
        f"! agent {aid} is off the leaderboard until a deploy: deploys are off (--no-deploy)"
    ], res.out

    arena.set_deploy_limit(1)  # the first deploy spent today's quota
    project.write("notes.txt", "third\n")
    refused = cli(*in_project(project, "--json", "push"))
    assert refused.code == 5, refused.text
    (left,) = [e for e in refused.json_lines() if e["event"] == "agent_left_active"]
    assert left["agent_id"] == aid and left["status"] not in ("active", None), left
    assert "quota" in left["reason"], left


def test_push_that_deploys_or_changes_nothing_says_nothing_about_the_leaderboard(
    cli: Cli, project: Project
) -> None:
    first = cli(*in_project(project, "push", "--wait"))  # a new agent: never was on the board
    assert first.code == 0 and "off the leaderboard" not in first.text
    project.write("notes.txt", "second\n")
    deployed = cli(*in_project(project, "push", "--wait"))
    assert deployed.code == 0 and "off the leaderboard" not in deployed.text
    same = cli(*in_project(project, "push", "--no-deploy"))
    assert same.code == 0 and "off the leaderboard" not in same.text


def _ctrl_c(*args: object, **kwargs: object) -> object:
    raise KeyboardInterrupt


def test_ctrl_c_while_push_wait_follows_its_deploy_names_the_deployment(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlarena_sync.engine.push.follow", _ctrl_c)
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 130, res.text
    error, hint = res.err.strip().splitlines()
    assert error.startswith("mlarena-sync: error: interrupted; deployment "), error
    assert error.endswith(" continues on the server"), error
    assert hint == "  hint: follow it: `mlarena-sync logs --follow`"
    assert "goes on on" not in res.err and "(" not in res.err


def test_ctrl_c_before_any_deploy_request_says_none_was_requested(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlarena_sync.engine.push._decide", _ctrl_c)
    res = cli(*in_project(project, "--json", "push", "--wait"))
    assert res.code == 130, res.text
    assert hits(arena.counters, routes(arena).deploy) == 0
    assert "error: interrupted; no deploy was requested" in res.err, res.err
    (error,) = [e for e in res.json_lines() if e["event"] == "error"]
    assert error["message"] == "interrupted; no deploy was requested"
    assert error["exit_code"] == 130


def test_ctrl_c_while_waiting_for_a_deploy_in_flight_says_that_one_goes_on(
    arena: FakeArena,
    cli: Cli,
    project: Project,
    slow_queue: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli(*in_project(project, "push")).code == 0  # deploy queued, not waited for
    aid = project.agent_id()
    monkeypatch.setattr("mlarena_sync.engine.push.follow", _ctrl_c)
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 130, res.text
    assert (
        f"error: interrupted; the deploy in flight on agent {aid} continues on the server"
        in res.err
    ), res.err
    assert arena.wait_deploys_idle(20)


def test_push_wait_on_a_deploy_in_flight_that_fails_exits_6_and_times_out_with_7(
    arena: FakeArena, cli: Cli, project: Project, slow_queue: None
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("agent.py", BROKEN_AGENT)
    assert cli(*in_project(project, "push")).code == 0  # a failing deploy, queued
    late = cli(*in_project(project, "push", "--wait", "--timeout", "0.5"))
    assert late.code == 7, late.text
    assert "the deploy continues on the server" in late.err
    failed = cli(*in_project(project, "push", "--wait", "--timeout", "60"))
    assert failed.code == 6, failed.text
    assert "the deploy in flight on agent" in failed.err, failed.err
    assert hits(arena.counters, routes(arena).deploy) == 2, "no deploy requested by --wait"
