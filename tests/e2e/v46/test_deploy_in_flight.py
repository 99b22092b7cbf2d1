"""Edits made while a deploy is in flight on v4.6, where the server refuses a file PUT until the
deploy settles (``put_during_deploy`` "refuse", the v4.6 default): ``push`` and ``watch`` hold
them, wait for the deploy to settle, then sync and deploy exactly once more; ``push --wait
--timeout`` gives up on a deploy that stays queued with exit 7, the deploy going on."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli
from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena

from .kit import AGENT_PY, DEPLOY, PUT_FILE, SLOW_QUEUE_SECONDS, code_project, stored, writes

SID = 101
IN_FLIGHT = ("deploy_queue", "deploy_run")


def deploy_statuses(arena: FakeArena, sid: int) -> list[str]:
    """The status of each deploy of ``sid``, oldest first."""
    with arena.store.lock:
        deploys = sorted(arena.store.deployments.values(), key=lambda d: d.id)
        return [d.status for d in deploys if d.agent_id == sid]


def test_push_during_a_deploy_holds_then_syncs_and_deploys_once_more(
    cli: Cli, alice: str, slow_queue: FakeArena, tmp_path: Path
) -> None:
    arena = slow_queue
    arena.faults.put_during_deploy = "refuse"
    project = code_project(tmp_path, arena.url, extra="deploy:\n  check: null\n")
    first = cli("-C", str(project.dir), "push")  # no --wait: the deploy stays in flight
    assert first.code == 0, first.text
    assert arena.agent_status(SID) in IN_FLIGHT
    assert arena.deploy_count(SID) == 1
    v2 = AGENT_PY + "# v2\n"
    project.write("agent.py", v2)
    arena.reset_counters()

    res = cli("-C", str(project.dir), "push", "--wait")

    assert res.code == 0, res.text
    assert "1 change held while a deploy is in flight" in res.text, res.text
    assert "deployed: live" in res.out, res.out
    # the first deploy ran to its end (nothing cancelled it), then exactly one more
    assert deploy_statuses(arena, SID) == ["succeeded", "succeeded"]
    assert arena.deploy_count(SID) == 2
    # one upload, sent after the deploy settled (none refused and retried), one deploy
    assert writes(arena.counters) == {PUT_FILE: 1, DEPLOY: 1}
    assert stored(arena, SID, "agent.py") == v2.encode()
    assert arena.agent_status(SID) == "active"


def test_an_upload_refused_unforeseen_is_held_then_sent_once_the_deploy_settles(
    cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    """A deploy started between push's status read and its upload: the server's 409 on the
    file PUT (injected here) holds the edit like a deploy seen in flight."""
    project = code_project(tmp_path, arena46.url, extra="deploy:\n  check: null\n")
    assert cli("-C", str(project.dir), "push", "--wait").code == 0
    v2 = AGENT_PY + "# v2\n"
    project.write("agent.py", v2)
    arena46.reset_counters()
    arena46.faults.fail_next(1, 409, route="put_file")

    res = cli("-C", str(project.dir), "push", "--wait")

    assert res.code == 0, res.text
    assert "held while a deploy is in flight" in res.text, res.text
    assert "deployed: live" in res.out, res.out
    assert writes(arena46.counters) == {PUT_FILE: 2, DEPLOY: 1}  # refused, then sent once
    assert stored(arena46, SID, "agent.py") == v2.encode()
    assert arena46.deploy_count(SID) == 2


def test_watch_during_a_deploy_holds_then_syncs_and_deploys_once_more(
    slow_queue: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena = slow_queue
    arena.faults.put_during_deploy = "refuse"
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    sid = run.wait_bound()
    run.out.expect("deploy_requested", 10)
    run.out.expect("queue", 5)
    assert arena.deploy_count(sid) == 1

    project.write("helper.py", "VALUE = 1\n")
    held = run.out.expect("held", 5)
    assert held["held"] == 1 and held["text"].endswith("held while deploy runs"), held
    assert arena.agent_status(sid) in IN_FLIGHT  # held while the deploy is in flight
    assert stored(arena, sid, "helper.py") == b"VALUE = 0\n"

    run.out.expect("synced", SLOW_QUEUE_SECONDS * 3, where=lambda f: f.get("uploaded") == 1)
    assert deploy_statuses(arena, sid)[0] == "succeeded"  # synced after it settled
    assert stored(arena, sid, "helper.py") == b"VALUE = 1\n"
    run.out.expect("deploy_requested", 10, count=2)
    assert arena.wait_deploys_idle(SLOW_QUEUE_SECONDS * 3)
    wait_until(lambda: arena.agent_status(sid) == "active", 5, "the redeploy to be active")
    run.hold(1.0)  # three settle windows: no third deploy
    assert deploy_statuses(arena, sid) == ["succeeded", "succeeded"]
    assert len(run.out.named("deploy_requested")) == 2
    assert run.finish() == 0


def test_push_wait_times_out_on_a_deploy_that_stays_queued(
    cli: Cli, alice: str, slow_queue: FakeArena, tmp_path: Path
) -> None:
    arena = slow_queue
    project = code_project(tmp_path, arena.url, extra="deploy:\n  check: null\n")

    res = cli("-C", str(project.dir), "push", "--wait", "--timeout", "1")

    assert res.code == 7, res.text
    assert "still 'deploy_queue' after 1s" in res.err, res.err
    assert "the deploy continues on the server" in res.err, res.err
    assert "Traceback" not in res.text
    assert arena.deploy_count(SID) == 1  # asked once, not again
    assert arena.counters.get(DEPLOY) == 1
    assert arena.agent_status(SID) in IN_FLIGHT
    assert arena.wait_deploys_idle(SLOW_QUEUE_SECONDS * 3)
    assert arena.agent_status(SID) == "active"  # it did settle, later
