"""Browser edits: a conflict stops push (exit 3, both sides intact); `pull` brings edits down."""

from __future__ import annotations

from helpers.arena import hits, mutations, remote_text, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.arena import FakeArena


def _edited_on_both_sides(arena: FakeArena, cli: Cli, project: Project) -> int:
    """helper.py pushed, then edited in the browser and locally; the agent id."""
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "helper.py", "SIDE = 7  # browser\n")
    project.write("lib/helper.py", "SIDE = 0  # local\n")
    return aid


def test_browser_and_local_edit_of_one_file_is_a_conflict(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = _edited_on_both_sides(arena, cli, project)
    project.write("notes.txt", "also changed\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 3, res.text
    assert "helper.py" in res.err and "--force" in res.err
    assert "Traceback" not in res.text
    assert mutations(arena.counters) == {}, "nothing is applied when a conflict is found"
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 7  # browser\n"
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 0  # local\n"

    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text
    assert "CONFLICT" in plan.out and "helper.py" in plan.out

    pulled = cli(*in_project(project, "pull"))
    assert pulled.code == 3, pulled.text
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 0  # local\n"


def test_browser_edit_alone_is_left_in_place_and_pull_brings_it_down(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "helper.py", "SIDE = 0  # browser\n")
    arena.browser_edit(aid, "made_in_browser.py", "Z = 3\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).file) == 0
    assert "changed on the server" in res.out and "pull" in res.out
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0  # browser\n"

    pulled = cli(*in_project(project, "pull"))
    assert pulled.code == 0, pulled.text
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 0  # browser\n"
    assert (project.root / "made_in_browser.py").read_text() == "Z = 3\n"
    assert mutations(arena.counters) == {}

    arena.reset_counters()
    again = cli(*in_project(project, "push", "--no-deploy"))
    assert again.code == 0, again.text
    assert mutations(arena.counters) == {}, "after pull, local and remote agree"


def test_pull_force_takes_the_server_version(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    _edited_on_both_sides(arena, cli, project)
    res = cli(*in_project(project, "pull", "--force", "helper.py"))
    assert res.code == 0, res.text
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 7  # browser\n"
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0


def test_push_force_keeps_the_local_version(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = _edited_on_both_sides(arena, cli, project)
    res = cli(*in_project(project, "push", "--no-deploy", "--force"))
    assert res.code == 0, res.text
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0  # local\n"


def test_pull_reports_binary_files_as_not_downloadable_on_v0_and_brings_them_on_v46(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    """v0 serves text files only: pull reports a binary as not downloadable. v4.6 serves the
    bytes: a binary deleted here is left deleted like any file, and ``pull --force`` brings it
    back byte for byte."""
    weights = bytes(range(256)) * 4
    (project.root / "weights.bin").write_bytes(weights)
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    (project.root / "weights.bin").unlink()
    res = cli(*in_project(project, "--json", "pull"))
    assert res.code == 0, res.text
    events = res.json_lines()
    reported = any(e["event"] == "not_downloadable" and e["name"] == "weights.bin" for e in events)
    assert reported is (arena.api == "v0"), events
    assert not (project.root / "weights.bin").exists()
    if arena.api != "v0":
        forced = cli(*in_project(project, "pull", "--force", "weights.bin"))
        assert forced.code == 0, forced.text
        assert (project.root / "weights.bin").read_bytes() == weights


def test_pull_leaves_a_locally_deleted_file_deleted_unless_forced(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    push_ok(cli, project)
    (project.root / "notes.txt").unlink()
    res = cli(*in_project(project, "pull"))
    assert res.code == 0, res.text
    assert not (project.root / "notes.txt").exists(), "a local delete is a change for push"
    assert "notes.txt: deleted here since the last sync, so left deleted" in res.out
    assert "pull --force notes.txt" in res.out
    forced = cli(*in_project(project, "pull", "--force", "notes.txt"))
    assert forced.code == 0, forced.text
    assert (project.root / "notes.txt").read_text() == "keep calm\n"


def test_pull_is_not_blocked_by_a_file_push_would_refuse(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    project.write("tok.txt", f"MLARENA_API_KEY={token}\n")  # the secrets guard refuses it
    arena.browser_edit(aid, "helper.py", "SIDE = 0  # browser\n")
    res = cli(*in_project(project, "pull"))
    assert res.code == 0, res.text
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 0  # browser\n"
    assert "would stop a push" in res.out and "tok.txt" in res.out
    assert token not in res.text
