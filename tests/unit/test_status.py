"""StatusTracker: successive snapshots → each line once."""

from __future__ import annotations

import pytest
from helpers.clock import FakeClock

from mlarena_sync.api.models import AgentStatus, QueueInfo, RunResult
from mlarena_sync.engine.deploy import follow
from mlarena_sync.engine.status_lines import StatusTracker
from mlarena_sync.errors import MlarenaSyncError


def snap(
    status: str | None,
    message: str | None = None,
    *,
    queue: str | None = None,
    waited: float = 0.0,
    runs: tuple[RunResult, ...] = (),
) -> AgentStatus:
    q = QueueInfo(queue, waited) if queue is not None else None
    return AgentStatus(status, message, "a", q, runs)


def run(status: str, steps: int, reward: float, outcome: str | None = None) -> RunResult:
    return RunResult(status, steps, reward, outcome, None, None)


def feed(snaps: list[AgentStatus]) -> list[str]:
    tracker = StatusTracker()
    return [e.text for s in snaps for e in tracker.update(s)]


def test_repeated_polls_give_one_line() -> None:
    lines = feed([snap("upload_validated")] * 5)
    assert lines == ["status: upload_validated"]


def test_a_whole_deploy() -> None:
    lines = feed(
        [
            snap("upload_validated", "Agent validated"),
            snap("deploy_queue", queue="2/3", waited=0),
            snap("deploy_queue", queue="2/3", waited=1),
            snap("deploy_queue", queue="1/3", waited=2),
            snap("deploy_run", runs=(run("running", 10, 10.0),)),
            snap("deploy_run", runs=(run("running", 50, 50.0),)),
            snap("deploy_run", runs=(run("finished", 200, 200.0, "win"),)),
            snap("active", "Deployed: mean reward 200"),
            snap("active", "Deployed: mean reward 200"),
        ]
    )
    assert lines == [
        "status: upload_validated (Agent validated)",
        "status: upload_validated → deploy_queue",
        "queue position 2/3",
        "queue position 1/3",
        "status: deploy_queue → deploy_run",
        "run 1: running, steps 10, reward 10",
        "run 1: finished, steps 200, reward 200, outcome win",
        "status: deploy_run → active (Deployed: mean reward 200)",
    ]


def test_failure_shows_the_traceback_once() -> None:
    tb = "Deploy failed: the agent raised ImportError\nTraceback ..."
    lines = feed([snap("deploy_run"), snap("deploy_failed", tb), snap("deploy_failed", tb)])
    assert lines == [
        "status: deploy_run",
        "status: deploy_run → deploy_failed",
        f"deploy_failed: {tb}",
    ]


def test_a_redeploy_is_reported_again() -> None:
    lines = feed([snap("active"), snap("deploy_queue"), snap("active"), snap("active")])
    assert lines == [
        "status: active",
        "status: active → deploy_queue",
        "status: deploy_queue → active",
    ]


def test_unknown_status_does_not_crash() -> None:
    lines = feed([snap("uploading"), snap(None), snap(None)])
    assert lines == ["status: uploading", "status: uploading → None"]


def test_events_carry_fields() -> None:
    tracker = StatusTracker()
    events = tracker.update(snap("deploy_queue", queue="1/1"))
    assert [e.event for e in events] == ["agent_status", "queue"]
    assert events[1].fields == {"position": "1/1", "queue_position": None, "queue_total": None}
    assert tracker.last_status == "deploy_queue"


class ScriptedClient:
    """Answers ``status`` from a script (the last answer repeats)."""

    def __init__(self, snaps: list[AgentStatus]) -> None:
        self.snaps = snaps
        self.calls = 0

    def status(self, cid: int, aid: int) -> AgentStatus:
        snap = self.snaps[min(self.calls, len(self.snaps) - 1)]
        self.calls += 1
        return snap


def test_follow_emits_each_line_once_and_stops_when_settled() -> None:
    client = ScriptedClient(
        [snap("deploy_queue", queue="1/1")] * 3 + [snap("deploy_run")] * 2 + [snap("active")]
    )
    seen: list[str] = []
    final = follow(client, 1, 2, lambda e: seen.append(e.text), clock=FakeClock(), poll=1.0)  # type: ignore[arg-type]
    assert final.status == "active"
    assert seen == [
        "status: deploy_queue",
        "queue position 1/1",
        "status: deploy_queue → deploy_run",
        "status: deploy_run → active",
    ]
    assert client.calls == 6


def test_follow_is_bounded_by_its_timeout() -> None:
    client = ScriptedClient([snap("deploy_run")])
    clock = FakeClock()
    with pytest.raises(MlarenaSyncError, match="still 'deploy_run' after 5s"):
        follow(client, 1, 2, lambda e: None, clock=clock, poll=1.0, timeout=5.0)  # type: ignore[arg-type]
    assert clock.t == 5.0


def test_follow_does_not_trust_an_old_verdict_right_after_a_deploy() -> None:
    client = ScriptedClient([snap("active"), snap("deploy_queue"), snap("active")])
    final = follow(
        client,
        1,
        2,
        lambda e: None,
        clock=FakeClock(),
        poll=1.0,
        wait_for_start=10.0,  # type: ignore[arg-type]
    )
    assert final.status == "active" and client.calls == 3
