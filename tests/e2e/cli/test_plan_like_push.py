"""`plan` says what `push` would do: it refuses an unknown runtime as push does (m11), and names
the new agent's template file the same way (n5)."""

from __future__ import annotations

from helpers.arena import mutations
from helpers.cli import Cli, in_project
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena


def test_plan_refuses_an_unknown_runtime_as_push_does(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    write_config(project.dir, arena.url, extra="runtime:\n  language: python\n  framework: nope\n")
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 2, plan.text
    assert "runtime python / nope is not offered by challenge 1; it offers: id " in plan.err
    assert mutations(arena.counters) == {}
    push = cli(*in_project(project, "push", "--no-deploy"))
    assert push.code == 2, push.text
    assert push.err == plan.err


def test_plan_accepts_an_offered_runtime(arena: FakeArena, cli: Cli, project: Project) -> None:
    write_config(project.dir, arena.url, extra="runtime:\n  language: python\n")
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text


def test_plan_and_push_give_the_template_file_one_reason(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    """A new v0 agent holds the competition's template ``agent.py``; a new v4.6 submission is
    empty (the template comes back as ``template_source`` only), so agent.py is just new."""
    plan = cli(*in_project(project, "--json", "plan"))
    assert plan.code == 0, plan.text
    (event,) = plan.json_lines()
    reasons = {u["name"]: u["reason"] for u in event["uploads"]}
    assert reasons["agent.py"] == ("replaces the template" if arena.api == "v0" else "new")
    assert reasons["helper.py"] == "new"
    push = cli(*in_project(project, "--json", "push", "--no-deploy"))
    assert push.code == 0, push.text
    uploads = {e["name"]: e["reason"] for e in push.json_lines() if e["event"] == "upload"}
    assert uploads == reasons
