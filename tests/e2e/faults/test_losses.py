"""Data loss found by the adversarial review (issue 15): pull writing over files it does not
track, ``--force`` overwriting more than its error named, binary files called in sync on an API
that cannot prove it, advice that does nothing, remote names that are no file names."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import Cli, in_project, push_ok
from helpers.project import make_project
from helpers.watch import watch_starter

from mlarena_sync.api.models import RemoteFile
from mlarena_sync.api.v0 import ArenaClient
from mlarena_sync.api.v4 import V4Arena
from mlarena_sync.arena import FakeArena

CONFLICT = 3
WEIGHTS = bytes(range(256)) * 4  # not UTF-8: a binary file for both generations


def _server_writes(arena: FakeArena, aid: int, name: str, data: bytes) -> None:
    """Another clone (or the web page) replaces ``name`` on the server with ``data``."""
    with arena.store.lock:
        arena.store.files.write_bytes(aid, name, data)
        agent = arena.store.agents[aid]
        arena.store.after_file_change(agent, arena.seed.competition_of(agent))


def _server_text(arena: FakeArena, aid: int, name: str) -> str:
    """What the server stores under ``name`` (read from the fake arena's storage)."""
    path = arena.store.files.path(aid, name)
    assert path is not None, f"{name} is not on the server"
    return Path(path).read_text(encoding="utf-8")


# ---------------------------------------------------------------- item 1: pull's targets


def test_pull_never_writes_the_config_an_ignored_or_an_untracked_file(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli", root=".")
    (project.dir / ".gitignore").write_text("scratch.txt\n")
    (project.dir / "scratch.txt").write_text("my ignored notes\n")
    aid = push_ok(cli, project)
    config = project.config.read_text()
    # Anyone who can write the agent's files: a config whose check runs a command, and a
    # file of the name of one the user keeps out of the sync.
    arena.browser_edit(aid, "mlarena.yaml", config + "deploy:\n  check: touch pwned\n")
    arena.browser_edit(aid, "scratch.txt", "from the server\n")
    arena.browser_edit(aid, "fresh.py", "X = 1\n")

    for args in (("pull",), ("pull", "--force"), ("pull", "--force", "mlarena.yaml")):
        res = cli(*in_project(project, *args))
        assert res.code == CONFLICT, (args, res.text)
        assert "mlarena.yaml" in res.err and "config" in res.err, res.err
        if "scratch.txt" in args or len(args) < 3:
            assert "scratch.txt" in res.err and "ignored" in res.err, res.err
        assert "Traceback" not in res.text
        assert project.config.read_text() == config
        assert (project.dir / "scratch.txt").read_text() == "my ignored notes\n"
        assert not (project.dir / "fresh.py").exists(), "nothing is written when one is refused"

    res = cli(*in_project(project, "pull", "fresh.py"))
    assert res.code == 0, res.text
    assert (project.dir / "fresh.py").read_text() == "X = 1\n"


def test_pull_does_not_replace_an_existing_file_it_does_not_track(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    aid = push_ok(cli, project)
    # A path the scan does not track (a broken symlink is refused, not synced) stays as it is.
    link = project.root / "data.txt"
    link.symlink_to("elsewhere.txt")
    arena.browser_edit(aid, "data.txt", "server\n")
    res = cli(*in_project(project, "pull", "--force", "data.txt"))
    assert res.code == CONFLICT, res.text
    assert "data.txt" in res.err and "not tracked" in res.err, res.err
    assert link.is_symlink() and str(link.readlink()) == "elsewhere.txt"
    assert not (project.root / "elsewhere.txt").exists()


# ---------------------------------------------------------------- item 2: --force's reach


def test_a_conflict_error_names_every_server_edit_its_force_overwrites(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "helper.py", "SIDE = 9  # browser, left in place\n")
    arena.browser_edit(aid, "notes.txt", "browser\n")
    project.write("notes.txt", "local\n")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == CONFLICT, res.text
    assert "notes.txt" in res.err
    assert "--force would also overwrite" in res.err, res.err
    assert "helper.py: changed on the server only" in res.err, res.err
    assert _server_text(arena, aid, "helper.py") == "SIDE = 9  # browser, left in place\n"


def test_a_delete_limit_error_names_the_server_edits_its_force_overwrites(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli", max_delete=2)
    extra = [project.write(f"extra_{i}.txt", f"{i}\n") for i in range(3)]
    aid = push_ok(cli, project)
    for path in extra:
        path.unlink()
    arena.browser_edit(aid, "helper.py", "SIDE = 9  # browser\n")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == CONFLICT, res.text
    assert "max_delete" in res.err
    assert "helper.py: changed on the server only" in res.err, res.err
    assert _server_text(arena, aid, "helper.py") == "SIDE = 9  # browser\n"


# ---------------------------------------------------------------- item 4: cannot verify


@pytest.mark.api("v0")
def test_v0_binary_of_the_same_size_is_cannot_verify_not_unchanged(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    project.write("weights.bin", WEIGHTS)
    aid = push_ok(cli, project)
    _server_writes(arena, aid, "weights.bin", WEIGHTS[::-1])  # another clone, same size

    plan = cli(*in_project(project, "--json", "plan"))
    assert plan.code == 0, plan.text
    line = next(x for x in plan.json_lines() if x["event"] == "plan")
    assert "weights.bin" not in line["unchanged"]
    assert line["unverified"] == ["weights.bin"]
    assert "cannot verify" in cli(*in_project(project, "plan")).out  # plan's row
    status = cli(*in_project(project, "status"))
    assert status.code == 0, status.text
    assert "cannot be verified" in status.out and "weights.bin" in status.out, status.out


# ---------------------------------------------------------------- item 16: advice that works


def test_a_binary_conflict_gives_advice_that_works_on_this_generation(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    project.write("weights.bin", WEIGHTS)
    aid = push_ok(cli, project)
    theirs = WEIGHTS * 2
    _server_writes(arena, aid, "weights.bin", theirs)
    project.write("weights.bin", WEIGHTS * 3)

    plan = cli(*in_project(project, "plan"))
    push = cli(*in_project(project, "push", "--no-deploy"))
    assert push.code == CONFLICT, push.text
    for text in (plan.out, push.err):
        assert "CONFLICT" in text or "changed on the server" in text, text
        assert "keep yours: `mlarena-sync push --force`" in text, text
        if arena.api == "v0":
            assert "pull --force" not in text, text
            assert "cannot download binary files" in text, text
        else:
            assert "take the remote: `mlarena-sync pull --force weights.bin`" in text, text
    if arena.api != "v0":
        res = cli(*in_project(project, "pull", "--force", "weights.bin"))
        assert res.code == 0, res.text
        assert (project.root / "weights.bin").read_bytes() == theirs


# ---------------------------------------------------------------- item 17: remote names


def test_pull_refuses_remote_names_that_are_no_file_names(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "fresh.py", "X = 1\n")
    adapter = ArenaClient if arena.api == "v0" else V4Arena
    listing = adapter.list_files
    bad = ["", ".", "..", "a\0b", "sub/x.py"]

    def garbage(self: object, cid: int, aid: int) -> dict[str, RemoteFile]:
        files = listing(self, cid, aid)  # type: ignore[arg-type]
        for name in bad:
            files[name] = RemoteFile(name, "boom\n", False, 5, "plaintext")
        return files

    monkeypatch.setattr(adapter, "list_files", garbage)
    before = sorted(p.name for p in project.dir.parent.iterdir())
    res = cli(*in_project(project, "pull"))
    assert res.code == 0, res.text
    assert "Traceback" not in res.text
    assert res.text.count("not a file name this folder can hold") == len(bad), res.text
    assert (project.root / "fresh.py").read_text() == "X = 1\n"
    assert sorted(p.name for p in project.dir.parent.iterdir()) == before
    assert not (project.root / "sub").exists()


def test_watch_pausing_deletes_names_the_server_edits_push_force_would_overwrite(
    arena: FakeArena, token: str, tmp_path: Path
) -> None:
    files = {"helper.py": "VALUE = 0\n", "a.txt": "a\n", "b.txt": "b\n"}
    project = make_project(tmp_path, arena.url, "watch", files=files, max_delete=1)
    with watch_starter() as start_watch:
        run = start_watch(project, arena)
        aid = run.wait_bound()
        run.wait_remote("b.txt", "b\n")
        arena.browser_edit(aid, "helper.py", "VALUE = 9  # browser\n")
        (project.root / "a.txt").unlink()
        (project.root / "b.txt").unlink()
        paused = run.out.expect("deletes_paused", 10)
        assert "`mlarena-sync push --force`" in paused["text"]
        assert "would also overwrite the server's edits of: helper.py" in paused["text"], paused
        assert run.finish() == 0
    assert _server_text(arena, aid, "helper.py") == "VALUE = 9  # browser\n"
