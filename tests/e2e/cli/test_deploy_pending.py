"""A sync whose deploy did not happen (check, quota, validation, --no-deploy) leaves the deploy
pending: the next push deploys it once, plan and status say so, only an accepted deploy clears it.
"""

from __future__ import annotations

import pytest
from helpers.arena import hits, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import exit_code_for
from mlarena_sync.errors import DeployRefusedError

FAILING_CHECK = '"python -c \\"import sys; sys.exit(1)\\""'
PASSING_CHECK = '"python -m py_compile agent.py"'


def _deploys_once_then_rests(arena: FakeArena, cli: Cli, project: Project) -> None:
    """Nothing changed locally: the pending deploy goes out once, and the push after does not."""
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).deploy) == 1, res.text
    assert "no deploy needed" not in res.text
    again = cli(*in_project(project, "push"))
    assert again.code == 0, again.text
    assert hits(arena.counters, routes(arena).deploy) == 1, "the pending deploy was spent once"
    assert "nothing changed: no deploy needed" in again.out
    assert "not deployed yet" not in cli(*in_project(project, "status")).out


def _says_pending(cli: Cli, project: Project) -> None:
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text
    (line,) = [x for x in plan.out.splitlines() if x.startswith("deploy:")]
    assert "synced files not deployed yet: pending for " in line, line
    assert "no deploy needed" not in plan.out
    status = cli(*in_project(project, "status"))
    assert "deploy: pending (synced files not deployed yet: pending for " in status.out
    (event,) = cli(*in_project(project, "--json", "status")).json_lines()
    assert event["deploy_pending"] is True


def test_failed_check_then_fixed_deploys_on_the_next_push(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    write_config(project.dir, arena.url, check=FAILING_CHECK)
    res = cli(*in_project(project, "push"))
    assert res.code == 5, res.text
    assert "the local check failed" in res.err and "the deploy stays pending" in res.err
    assert hits(arena.counters, routes(arena).deploy) == 0
    _says_pending(cli, project)
    write_config(project.dir, arena.url, check=PASSING_CHECK)
    _deploys_once_then_rests(arena, cli, project)


def test_quota_refusal_then_more_quota_deploys_on_the_next_push(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    arena.set_deploy_limit(1)
    push_ok(cli, project, "--wait")
    project.write("lib/helper.py", "SIDE = 0\n")
    res = cli(*in_project(project, "push"))
    assert res.code == 5, res.text
    assert "quota" in res.err and "the deploy stays pending" in res.err
    _says_pending(cli, project)
    arena.set_deploy_limit(5)
    _deploys_once_then_rests(arena, cli, project)


def test_no_deploy_then_push_deploys_once(arena: FakeArena, cli: Cli, project: Project) -> None:
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert "synced files not deployed yet (pending for " in res.out
    assert hits(arena.counters, routes(arena).deploy) == 0
    _says_pending(cli, project)
    _deploys_once_then_rests(arena, cli, project)


def test_failed_validation_keeps_the_deploy_pending(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    good = (project.root / "agent.py").read_text()
    project.write("agent.py", "class NotAnAgent:\n    pass\n")
    res = cli(*in_project(project, "push"))
    assert res.code == 5, res.text
    assert "validation failed" in res.err
    project.write("agent.py", good)
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    _says_pending(cli, project)
    _deploys_once_then_rests(arena, cli, project)


@pytest.mark.parametrize("exc", [DeployRefusedError("no deploy: the local check failed")])
def test_a_refused_deploy_exits_5(exc: BaseException) -> None:
    assert exit_code_for(exc) == 5


def test_a_conflict_with_a_pending_deploy_never_says_no_deploy_needed(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)  # --no-deploy: pending
    arena.browser_edit(aid, "helper.py", "SIDE = 7  # browser\n")
    project.write("lib/helper.py", "SIDE = 0  # here\n")
    plan = cli(*in_project(project, "plan"))
    (line,) = [x for x in plan.out.splitlines() if x.startswith("deploy:")]
    assert line.startswith("deploy: no (push would stop at a conflict before any deploy; "), line
    assert "synced files not deployed yet: pending for " in line
    assert "no deploy needed" not in plan.out
