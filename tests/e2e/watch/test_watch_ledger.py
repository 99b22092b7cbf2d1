"""`watch` records each deploy it requests in the ledger (trigger ``watch``), with the bytes it
deployed kept for ``restore``, and its outcome once it sees the deploy settle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.checks import sha256
from helpers.processes import cli_env, run_process
from helpers.project import AGENT_PY, Project, make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.ledger import Ledger
from mlarena_sync.store.objects import ObjectStore


def test_a_watch_deploy_is_recorded_with_its_bytes(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    recorded = run.out.expect("deploy_recorded", 15)
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the deploy")
    ledger = Ledger(project.state_dir)
    wait_until(lambda: ledger.records()[0].settled, 15, "watch to record the outcome")
    assert run.finish() == 0
    [record] = ledger.records()
    assert record.status and record.settled_at is not None
    assert record.id == recorded["id"] == 1
    assert record.trigger in ("watch", "ci") and record.agent_id == aid
    objects = ObjectStore(project.state_dir)
    for entry in record.files.values():
        data = objects.read(entry.sha256)
        assert sha256(data) == entry.sha256
        assert (project.root / entry.path).read_bytes() == data


def test_a_browser_edit_left_in_place_is_recorded_as_the_server_version(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.out.expect("deploy_recorded", 15)
    ledger = Ledger(project.state_dir)
    wait_until(lambda: ledger.records()[0].settled, 15, "the first deploy to settle")
    arena.browser_edit(aid, "helper.py", "VALUE = 7  # browser\n")
    project.write("agent.py", AGENT_PY + "# edited here\n")
    wait_until(lambda: len(ledger.records()) == 2, 30, "the second deploy")
    assert run.finish() == 0
    entry = ledger.records()[-1].files["helper.py"]
    assert entry.server, "the server's version was deployed, not the folder's"
    data = ObjectStore(project.state_dir).read(entry.sha256)
    assert data == b"VALUE = 7  # browser\n"
    assert (project.root / "helper.py").read_bytes() == b"VALUE = 0\n", "left in place"


def _history(project: Project, token: str) -> dict[str, Any]:
    """The one record ``history --offline --json`` shows, as a separate process would see it."""
    res = run_process(["-C", str(project.dir), "--json", "history", "--offline"], cli_env(token))
    assert res.code == 0, res.text
    [rec] = [e for e in res.json_lines() if e["event"] == "deploy_record"]
    return rec


def test_a_deploy_in_flight_is_never_live(
    arena: FakeArena, token: str, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena.simulator.queue_seconds = 3.0  # the deploy stays queued a while
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.out.expect("deploy_recorded", 15)
    rec = _history(project, token)
    assert rec["outcome"] == "in flight" and rec["live"] is False, rec
    wait_until(lambda: arena.agent_status(aid) == "active", 20, "the deploy to go live")
    ledger = Ledger(project.state_dir)
    wait_until(lambda: ledger.records()[0].settled, 15, "watch to record the outcome")
    assert run.finish() == 0
    assert _history(project, token)["live"] is True


def test_a_conflict_left_paused_is_recorded_as_the_server_version(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    run.out.expect("deploy_recorded", 15)
    ledger = Ledger(project.state_dir)
    wait_until(lambda: ledger.records()[0].settled, 15, "the first deploy to settle")
    arena.browser_edit(aid, "helper.py", "VALUE = 7  # browser\n")
    project.write("helper.py", "VALUE = 8  # here\n")  # changed on both sides: paused
    project.write("agent.py", AGENT_PY + "# edited here\n")
    wait_until(lambda: len(ledger.records()) == 2, 30, "the second deploy")
    assert run.finish() == 0
    entry = ledger.records()[-1].files["helper.py"]
    assert entry.server, "the server's side of the conflict was deployed"
    assert ObjectStore(project.state_dir).read(entry.sha256) == b"VALUE = 7  # browser\n"
