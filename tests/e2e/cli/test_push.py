"""`push` end to end: create + bind + pin + upload + deploy once; then only what changed."""

from __future__ import annotations

import pytest
from helpers.arena import hits, mutations, open_client, remote_text, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena

RUNTIME = "runtime:\n  language: python\n  framework: gymnasium\n"


def test_first_push_creates_binds_pins_uploads_and_deploys_once(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    write_config(project.dir, arena.url, extra=RUNTIME)
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    aid = project.agent_id()
    counters = arena.counters
    assert hits(counters, routes(arena).create) == 1
    assert hits(counters, routes(arena).runtime) == 1
    assert hits(counters, routes(arena).deploy) == 1
    assert hits(counters, routes(arena).file) == 3  # helper.py, notes.txt, then agent.py
    remote = remote_text(arena, token, aid)
    assert remote == {
        "agent.py": (project.root / "agent.py").read_text(),
        "helper.py": (project.root / "lib/helper.py").read_text(),
        "notes.txt": "keep calm\n",
    }
    assert arena.agent_status(aid) == "active"
    with open_client(arena, token) as c:
        pinned = c.agent_runtime(aid)
    assert pinned is not None and pinned.framework == "gymnasium"
    assert "deployed: live" in res.out


def test_second_push_with_nothing_changed_sends_nothing(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push")).code == 0
    arena.wait_deploys_idle()
    arena.reset_counters()
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    assert mutations(arena.counters) == {}
    assert "no deploy" in res.out


def test_editing_one_file_sends_exactly_one_upload(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project, "--wait")
    project.write("lib/helper.py", "SIDE = 0\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    route = routes(arena)
    assert hits(arena.counters, route.file) == 1
    assert hits(arena.counters, route.deploy) == 1
    # v4.6 lists sizes only: the remote copy (still of the synced size) is read back once
    # before it is overwritten; the v0 listing carries the text, so no read is needed.
    read_backs = hits(arena.counters, route.read_back) if route.read_back else 0
    assert read_backs == (0 if arena.api == "v0" else 1), arena.counters
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0\n"


def test_deleting_one_file_sends_one_delete(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    (project.root / "notes.txt").unlink()
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert mutations(arena.counters) == {routes(arena).file: 1}
    assert "notes.txt" not in remote_text(arena, token, aid)


def test_max_delete_stops_a_bigger_deletion(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    write_config(project.dir, arena.url, max_delete=1)
    project.write("extra.py", "X = 1\n")
    aid = push_ok(cli, project)
    before = remote_text(arena, token, aid)
    (project.root / "notes.txt").unlink()
    (project.root / "extra.py").unlink()
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 3, res.text
    assert "max_delete" in res.err and "--force" in res.err
    assert "Traceback" not in res.text
    assert mutations(arena.counters) == {}
    assert remote_text(arena, token, aid) == before
    forced = cli(*in_project(project, "push", "--no-deploy", "--force"))
    assert forced.code == 0, forced.text
    assert set(remote_text(arena, token, aid)) == {"agent.py", "helper.py"}


def test_entry_file_is_uploaded_last(arena: FakeArena, cli: Cli, project: Project) -> None:
    res = cli(*in_project(project, "--json", "push", "--no-deploy"))
    assert res.code == 0, res.text
    uploads = [e["name"] for e in res.json_lines() if e["event"] == "upload"]
    assert uploads[-1] == "agent.py"
    assert sorted(uploads) == ["agent.py", "helper.py", "notes.txt"]


def test_replica_mode_makes_the_remote_equal_the_folder(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "made_in_browser.py", "Y = 2\n")
    arena.browser_edit(aid, "helper.py", "SIDE = 5\n")
    # safe mode leaves both alone
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    assert remote_text(arena, token, aid)["made_in_browser.py"] == "Y = 2\n"
    write_config(project.dir, arena.url, mode="replica")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert remote_text(arena, token, aid) == {
        "agent.py": (project.root / "agent.py").read_text(),
        "helper.py": "SIDE = 1\n",
        "notes.txt": "keep calm\n",
    }


def test_replica_mode_overwrites_a_remote_edit_of_another_size(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    """Both generations see a browser edit that changed the size in the listing."""
    aid = push_ok(cli, project)
    arena.browser_edit(aid, "helper.py", "SIDE = 'browser'\n")
    arena.browser_edit(aid, "made_in_browser.py", "Y = 2\n")
    write_config(project.dir, arena.url, mode="replica")
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert remote_text(arena, token, aid) == {
        "agent.py": (project.root / "agent.py").read_text(),
        "helper.py": "SIDE = 1\n",
        "notes.txt": "keep calm\n",
    }


def test_push_dry_run_changes_nothing(arena: FakeArena, cli: Cli, project: Project) -> None:
    res = cli(*in_project(project, "push", "--dry-run"))
    assert res.code == 0, res.text
    assert mutations(arena.counters) == {}
    assert "agent: none yet" in res.out
    assert "3 to upload" in res.out
    assert not (project.dir / ".mlarena-sync" / "state.json").exists()


def test_push_waits_for_a_deploy_in_flight(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push")).code == 0  # deploy queued, not waited for
    aid = project.agent_id()
    assert arena.agent_status(aid) in {"deploy_queue", "deploy_run", "active"}
    project.write("lib/helper.py", "SIDE = 0\n")
    res = cli(*in_project(project, "push", "--wait"))
    assert res.code == 0, res.text
    assert arena.deploy_count(aid) == 2
    assert remote_text(arena, token, aid)["helper.py"] == "SIDE = 0\n"
    assert arena.agent_status(aid) == "active"


def test_big_files_stream_with_progress_and_are_remembered(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 9 * 1024 * 1024
    (project.root / "weights.bin").write_bytes(b"\x00\xff" * (size // 2))
    monkeypatch.setattr(
        "mlarena_sync.engine.apply.PROGRESS_AFTER", 0.0
    )  # as if the upload were slow
    res = cli(*in_project(project, "--json", "push", "--no-deploy"))
    assert res.code == 0, res.text
    progress = [e for e in res.json_lines() if e["event"] == "upload_progress"]
    assert progress and progress[-1]["percent"] == 100
    assert all(e["file"] == "weights.bin" and e["total"] == size for e in progress)
    assert progress[-1]["bytes"] == size  # the file's bytes, not the multipart body's
    arena.reset_counters()
    again = cli(*in_project(project, "push", "--no-deploy"))
    assert again.code == 0, again.text
    assert mutations(arena.counters) == {}, "the streamed file is proven equal by the base"


def test_common_flags_after_the_command(arena: FakeArena, cli: Cli, project: Project) -> None:
    res = cli("push", "-C", str(project.dir), "--no-deploy", "--json")
    assert res.code == 0, res.text
    assert res.json_lines()[-1]["event"] == "push_done"


def test_a_fast_upload_shows_no_progress_and_counts_file_bytes() -> None:
    """n4: progress only for an upload that takes more than a moment (PROGRESS_AFTER)."""
    from mlarena_sync.engine.apply import _progress

    now = [0.0]
    seen: list[dict[str, object]] = []
    report = _progress("w.bin", lambda event, **f: seen.append(f), 1000, clock=lambda: now[0])
    report(0, 1100)
    for sent in (300, 600, 1100):  # all within the first second
        report(sent, 1100)
    assert seen == []
    report(0, 1100)  # a retried attempt
    now[0] = 1.5
    report(550, 1100)
    report(1100, 1100)
    assert [(e["bytes"], e["total"], e["percent"]) for e in seen] == [
        (500, 1000, 50),
        (1000, 1000, 100),
    ]
