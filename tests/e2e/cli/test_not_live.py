"""An agent taken off the leaderboard by an edit made elsewhere (a browser edit re-validates it)
is never reported as "no deploy needed": plan, push and status say it is not live and how to
deploy it again (issue 12: deploy state that tells the truth)."""

from __future__ import annotations

from helpers.arena import hits, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def test_a_browser_edit_pulled_back_says_the_agent_is_not_live(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project, "--wait")
    arena.browser_edit(aid, "agent.py", (project.root / "agent.py").read_text() + "# web\n")
    pulled = cli(*in_project(project, "pull"))
    assert pulled.code == 0, pulled.text
    status = cli(*in_project(project, "status"))
    assert status.code == 0, status.text
    assert "synced, not deployed (off the leaderboard)" in status.out
    assert "deploy: the agent is not live;" in status.out
    assert "`mlarena-sync push --deploy` deploys it" in status.out
    plan = cli(*in_project(project, "plan"))
    assert "no deploy needed" not in plan.out
    assert "but the agent is not live" in plan.out and "deploys it" in plan.out
    arena.reset_counters()
    push = cli(*in_project(project, "push"))
    assert push.code == 0, push.text
    assert "push --deploy` deploys it" in push.out
    assert hits(arena.counters, routes(arena).deploy) == 0, "no deploy without cause"
    deployed = cli(*in_project(project, "push", "--deploy", "--wait"))
    assert deployed.code == 0, deployed.text
    assert "not live" not in cli(*in_project(project, "status")).out
