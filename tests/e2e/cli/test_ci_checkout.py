"""A CI job runs in a fresh checkout: no ``.mlarena-sync/`` (no binding, no base, no journal).

What README.md's "Continuous deployment" section and ``examples/ci/github-actions.yml`` tell CI
users rests on these facts; the last test keeps the docs saying them.
"""

from __future__ import annotations

import shutil

from helpers import REPO
from helpers.arena import hits, remote_text, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def _fresh_checkout(project: Project, config: str | None = None) -> None:
    """No .mlarena-sync/; ``config``: the mlarena.yaml that was committed (default: as it is)."""
    shutil.rmtree(project.dir / ".mlarena-sync")
    if config is not None:
        project.config.write_text(config)


def _bind_by_id(project: Project, aid: int, mode: str = "safe") -> None:
    text = project.config.read_text()
    if f"id: {aid}" not in text:  # the first push pins it; a hand-written file may not have it
        text = text.replace("agent:\n", f"agent:\n  id: {aid}\n")
    project.config.write_text(text.replace("mode: safe", f"mode: {mode}"))


def test_the_first_push_pins_the_agent_so_a_fresh_checkout_binds_to_it(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    before = project.config.read_text()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    first = project.agent_id()
    after = project.config.read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [f"  id: {first}"], "one line, the rest of the file as the user wrote it"
    assert "pinned it in mlarena.yaml" in res.out
    _fresh_checkout(project)  # a clone of the repository with the pinned mlarena.yaml
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).create) == 0
    assert project.agent_id() == first


def test_agent_name_only_creates_a_new_agent_in_every_fresh_checkout(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    """v0 finds an agent by name only on the leaderboard (once deployed): an undeployed one goes
    unnoticed and every fresh checkout creates another. v4.6 lists every submission of mine
    (``/submissions/mine``), so the twin guard refuses and says how to bind the first. (The
    first push pins the id in mlarena.yaml; here that file was not committed again.)"""
    name_only = project.config.read_text()
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    first = project.agent_id()
    _fresh_checkout(project, name_only)
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    if arena.api == "v0":
        assert res.code == 0, res.text
        assert hits(arena.counters, routes(arena).create) == 1
        assert project.agent_id() != first
    else:
        assert res.code == 2, res.text
        assert f"already exists in competition 1 (id {first})" in res.err
        assert f"`agent: {{id: {first}}}`" in res.err and "--force" in res.err
        assert hits(arena.counters, routes(arena).create) == 0


def test_agent_id_in_a_fresh_checkout_safe_mode_calls_a_changed_file_a_conflict(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    _bind_by_id(project, aid)
    _fresh_checkout(project)
    arena.reset_counters()
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0, "unchanged: in sync"
    assert hits(arena.counters, routes(arena).create) == 0
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
    assert hits(arena.counters, routes(arena).create) == 0
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0\n"
    assert "deployed: live" in res.out


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
