"""`watch` sees the remote (issue 12): every ``watch.remote_every`` seconds it reads the agent's
status and file list, and reports a browser edit, a deletion, or the agent leaving ``active``,
as one line naming the file and an event with the file's name. No local event is needed."""

from __future__ import annotations

from pathlib import Path

from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import WatchSpec
from mlarena_sync.watch.source import QueueChangeSource


def test_remote_every_defaults_to_30_seconds() -> None:
    assert WatchSpec().remote_every == 30.0


def test_a_browser_edit_is_reported_within_the_period_naming_the_file(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", remote_every=1)
    run = start_watch(project, arena, source=QueueChangeSource())  # no local events at all
    aid = run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    arena.browser_edit(aid, "helper.py", "VALUE = 7  # browser\n")
    fields = run.out.expect("remote_changed", 5, where=lambda f: f.get("file") == "helper.py")
    assert fields["change"] == "edited"
    assert "helper.py" in fields["text"]
    assert run.finish() == 0


def test_a_remote_deletion_is_reported_naming_the_file(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", remote_every=1)
    run = start_watch(project, arena, source=QueueChangeSource())
    aid = run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    with arena.store.lock:
        arena.store.files.delete(aid, "helper.py")
    fields = run.out.expect("remote_changed", 5, where=lambda f: f.get("file") == "helper.py")
    assert fields["change"] == "deleted"
    run.wait_remote("helper.py", "VALUE = 0\n")  # uploaded again from the folder
    assert run.finish() == 0


def test_the_agent_leaving_active_is_said_once(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", remote_every=1, auto=True)
    run = start_watch(project, arena, source=QueueChangeSource())
    aid = run.wait_bound()
    wait_until(lambda: arena.agent_status(aid) == "active", 20, "the first deploy")
    run.out.expect("agent_status", 10, where=lambda f: f.get("status") == "active")  # seen
    arena.browser_edit(aid, "helper.py", "VALUE = 8  # browser\n")
    left = run.out.expect("agent_left_active", 5)
    assert left["agent_id"] == aid and left["status"] != "active"
    run.out.expect("remote_changed", 5, where=lambda f: f.get("file") == "helper.py")
    assert run.finish() == 0
    assert len(run.out.named("agent_left_active")) == 1


def test_remote_every_0_never_looks_without_an_edit(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", remote_every=0)
    run = start_watch(project, arena, source=QueueChangeSource())
    run.wait_bound()
    run.out.expect("synced", 10)  # the first reconcile is over (its verdict read included)
    arena.reset_counters()
    run.hold(1.5)
    assert not {k: v for k, v in arena.counters.items() if v}, "remote_every: 0 asks nothing"
    assert run.finish() == 0
