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


def test_pull_force_without_a_name_keeps_edits_made_only_here(
    cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("notes.txt", "my notes\n")
    res = cli(*in_project(project, "pull", "--force"))
    assert res.code == 0, res.text
    assert (project.root / "notes.txt").read_text() == "my notes\n"
    assert "`mlarena-sync pull --force notes.txt` takes the server's version" in res.out
