"""StatusTracker: successive snapshots → each line once."""

from __future__ import annotations

from mlarena_sync.api.models import AgentStatus, QueueInfo, RunResult
from mlarena_sync.status import StatusTracker


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
    assert events[1].fields == {"position": "1/1"}
    assert tracker.last_status == "deploy_queue"
