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
