"""A CI job runs in a fresh checkout: no ``.mlarena-sync/`` (no binding, no base, no journal).

What README.md's "Continuous deployment" section and ``examples/ci/github-actions.yml`` tell CI
users rests on these facts; the last test keeps the docs saying them.
"""

from __future__ import annotations

import shutil

from helpers import REPO
from helpers.arena import CREATE_ROUTE, hits, remote_text
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def _fresh_checkout(project: Project) -> None:
    shutil.rmtree(project.dir / ".mlarena-sync")


def _bind_by_id(project: Project, aid: int, mode: str = "safe") -> None:
    text = project.config.read_text()
    text = text.replace("agent:\n", f"agent:\n  id: {aid}\n").replace("mode: safe", f"mode: {mode}")
    project.config.write_text(text)


def test_agent_name_only_creates_a_new_agent_in_every_fresh_checkout(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    first = project.agent_id()
    _fresh_checkout(project)
    arena.reset_counters()
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    assert hits(arena.counters, CREATE_ROUTE) == 1
    assert project.agent_id() != first


def test_agent_id_in_a_fresh_checkout_safe_mode_calls_a_changed_file_a_conflict(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    _bind_by_id(project, aid)
    _fresh_checkout(project)
    arena.reset_counters()
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0, "unchanged: in sync"
    assert hits(arena.counters, CREATE_ROUTE) == 0
    _fresh_checkout(project)
    project.write("lib/helper.py", "SIDE = 0\n")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 3 and "no sync record" in res.err, res.text


def test_agent_id_in_a_fresh_checkout_replica_mode_uploads_and_deploys(
    arena: FakeArena, cli: Cli, project: Project, token: str
) -> None:
    aid = push_ok(cli, project, "--wait")
    _bind_by_id(project, aid, mode="replica")
    _fresh_checkout(project)
    project.write("lib/helper.py", "SIDE = 0\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    assert hits(arena.counters, CREATE_ROUTE) == 0
    assert remote_text(arena.url, token, aid)["helper.py"] == "SIDE = 0\n"
    assert "deployed: active" in res.out


def test_the_ci_docs_say_so() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.partition("## Continuous deployment")[2].partition("\n## ")[0]
    workflow = (REPO / "examples" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    for text in (section, workflow):
        flat = " ".join(text.replace("#", " ").split())
        assert "agent.id" in flat or "id: 1234" in flat
        assert "mode: replica" in flat, "safe mode in a fresh checkout: every change conflicts"
        assert "creates a new agent" in flat
        assert "interrupted" in flat, "the twin refusal does not survive a fresh checkout"
