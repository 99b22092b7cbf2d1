"""`pull --force` replaces a local edit with the server's version, but never loses it: the local
version is kept aside under .mlarena-sync/pulled/ and the command says where."""

from __future__ import annotations

from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def test_pull_force_keeps_the_local_edit_it_replaces(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    project.write("notes.txt", "mine, not pushed yet\n")
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    project.write("notes.txt", "my local edit\n")
    arena.browser_edit(aid, "notes.txt", "the browser's edit\n")
    assert cli(*in_project(project, "pull")).code == 3, "a local edit is not overwritten"
    res = cli(*in_project(project, "pull", "--force", "notes.txt"))
    assert res.code == 0, res.text
    assert (project.root / "notes.txt").read_text() == "the browser's edit\n"
    kept = list((project.state_dir / "pulled").rglob("notes.txt"))
    assert [k.read_text() for k in kept] == ["my local edit\n"]
    assert f"your version is kept in {kept[0]}" in res.text
