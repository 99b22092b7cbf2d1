"""Deploy rules end to end: quota, the local check, a failing deploy with --wait."""

from __future__ import annotations

from helpers.arena import hits, remote_text, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena

BROKEN_AGENT = """\
import helper_that_does_not_exist


class Agent:
    def predict(self, observation):
        return 0
"""


def test_quota_used_up_syncs_files_but_does_not_deploy(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    arena.set_deploy_limit(1)
    aid = push_ok(cli, project, "--wait")
    project.write("lib/helper.py", "SIDE = 0\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 5, res.text
    assert hits(arena.counters, routes(arena).deploy) == 0, "quota read first: no request to refuse"
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0\n", "files were synced"
    assert "quota" in res.err and "next slot in " in res.err  # relative, for a person
    assert "hint: the deploy stays pending: the next push after the next slot" in res.err
    assert "files were synced" in res.err
    assert arena.deploy_count(aid) == 1


def test_reserve_is_not_kept_from_push(arena: FakeArena, cli: Cli, project: Project) -> None:
    arena.set_deploy_limit(1)
    write_config(project.dir, arena.url, reserve=1)
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).deploy) == 1


def test_failing_check_means_no_deploy(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    write_config(
        project.dir,
        arena.url,
        check='"python -c \\"import sys; print(\'lint says no\'); sys.exit(3)\\""',
    )
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 5, res.text
    assert "check failed" in res.err
    assert "lint says no" in res.out
    assert hits(arena.counters, routes(arena).deploy) == 0
    aid = project.agent_id()
    assert set(remote_text(arena, token, aid)) == {"agent.py", "helper.py", "notes.txt"}


def test_broken_agent_with_wait_exits_6_and_shows_the_traceback(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    project.write("agent.py", BROKEN_AGENT)
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 6, res.text
    assert "Traceback" in res.out  # the agent's traceback, from the server
    assert "helper_that_does_not_exist" in res.out
    assert "deploy_failed" in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert hits(arena.counters, routes(arena).deploy) == 1


def test_validation_failure_means_no_deploy(arena: FakeArena, cli: Cli, project: Project) -> None:
    project.write("agent.py", "def nothing_here():\n    return 0\n")
    res = cli(*in_project(project, "push"))
    assert res.code == 5, res.text
    assert "validation" in res.err
    assert hits(arena.counters, routes(arena).deploy) == 0


def test_no_deploy_and_deploy_flags(arena: FakeArena, cli: Cli, project: Project) -> None:
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    assert hits(arena.counters, routes(arena).deploy) == 0
    res = cli(*in_project(project, "push", "--deploy", "--wait"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).deploy) == 1
