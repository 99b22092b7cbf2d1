"""A conflict: plan shows both sides (size, short hash) and how to settle it; pull names a file
once; README tells the way out that works (m2)."""

from __future__ import annotations

import hashlib
import re

from helpers import REPO
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena

README = REPO / "README.md"


def _sha12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def test_plan_shows_both_sides_of_a_conflict_and_the_way_out(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    remote, local = "SIDE = 7  # browser\n", "SIDE = 0  # here\n"
    arena.browser_edit(aid, "helper.py", remote)
    project.write("lib/helper.py", local)
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text
    out = plan.out
    assert f"local   lib/helper.py: {len(local)} B, sha256 {_sha12(local)}" in out, out
    assert f"remote  helper.py: {len(remote)} B, sha256 {_sha12(remote)}" in out, out
    assert "take the remote: `mlarena-sync pull --force helper.py`" in out
    assert "keep yours: `mlarena-sync push --force`" in out


def test_pull_names_a_conflicted_file_once_and_says_how_to_settle_it(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "notes.txt", "browser\n")
    project.write("notes.txt", "local\n")
    res = cli(*in_project(project, "pull"))
    assert res.code == 3, res.text
    assert "notes.txt (notes.txt)" not in res.err
    assert re.search(r"nothing was written:\s+notes\.txt\b", res.err), res.err
    assert "`mlarena-sync pull --force notes.txt`" in res.err
    assert "`mlarena-sync push --force`" in res.err


def test_readme_settles_a_conflict_with_force() -> None:
    text = README.read_text(encoding="utf-8")
    section = " ".join(text.partition("## How sync decides")[2].partition("\n## ")[0].split())
    assert "run `mlarena-sync pull` to take" not in section
    assert "`mlarena-sync pull --force NAME`" in section
    assert "`mlarena-sync push --force`" in section
    assert "safe to delete" in section and "pins `submission.id`" in section
