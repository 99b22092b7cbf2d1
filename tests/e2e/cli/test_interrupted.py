"""A push interrupted at the worst moments: the next one finishes the job, never twice."""

from __future__ import annotations

import pytest
from helpers.arena import adapter_class, hits, mutations, routes
from helpers.cli import Cli, in_project
from helpers.project import Project

from mlarena_sync.api.interface import Arena
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import TransportError


def _push_killed_before_its_deploy(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployed agent; then a change pushed by a push that dies before its deploy request."""
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("lib/helper.py", "SIDE = 0\n")
    with monkeypatch.context() as m:

        def die(*args: object) -> object:
            raise RuntimeError("killed")

        m.setattr("mlarena_sync.engine.push.request_deploy", die)
        assert cli(*in_project(project, "push")).code == 1


def test_push_dying_between_uploads_and_deploy_is_deployed_by_the_next(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _push_killed_before_its_deploy(cli, project, monkeypatch)
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).deploy) == 1
    arena.reset_counters()
    again = cli(*in_project(project, "push"))
    assert again.code == 0, again.text
    assert mutations(arena.counters) == {}, "deployed once, not on every push after"


def test_plan_and_status_show_the_deploy_an_interrupted_push_left_pending(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _push_killed_before_its_deploy(cli, project, monkeypatch)
    arena.reset_counters()
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text
    (line,) = [x for x in plan.out.splitlines() if x.startswith("deploy:")]
    assert line.startswith("deploy: yes (synced files not deployed yet: pending for "), line
    (event,) = cli(*in_project(project, "--json", "plan")).json_lines()
    assert event["deploy"] is True and "not deployed yet" in event["deploy_reason"]
    status = cli(*in_project(project, "status"))
    assert "deploy: pending (synced files not deployed yet: pending for " in status.out
    (event,) = cli(*in_project(project, "--json", "status")).json_lines()
    assert event["deploy_pending"] is True and event["in_sync"] is True
    assert mutations(arena.counters) == {}, "plan and status change nothing"

    assert cli(*in_project(project, "push", "--wait")).code == 0
    assert "deploy: no (nothing changed" in cli(*in_project(project, "plan")).out
    (event,) = cli(*in_project(project, "--json", "status")).json_lines()
    assert event["deploy_pending"] is False


def test_lost_create_reply_never_makes_a_silent_twin(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = adapter_class(arena)
    real_create = adapter.create_agent

    def created_but_reply_lost(self: Arena, cid: int, name: str, *a: object) -> int:
        real_create(self, cid, name)  # type: ignore[arg-type]
        raise TransportError("the connection dropped")

    with monkeypatch.context() as m:
        m.setattr(adapter, "create_agent", created_but_reply_lost)
        assert cli(*in_project(project, "push")).code == 1
    arena.reset_counters()
    res = cli(*in_project(project, "push"))
    assert res.code == 2, res.text
    assert "`id:` under `submission:`" in res.err and "--force" in res.err
    assert mutations(arena.counters) == {}
    forced = cli(*in_project(project, "push", "--force", "--no-deploy"))
    assert forced.code == 0, forced.text
    assert hits(arena.counters, routes(arena).create) == 1
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
