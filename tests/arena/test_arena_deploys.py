"""Deploys: the simulator, quotas over a UTC day, active-agent limit, cancellation, games."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests
from arena_helpers import GOOD_AGENT, Api

from mlarena_sync.arena import FakeArena

SLOW_AGENT = b"""import time

class Agent:
    def __init__(self):
        time.sleep(0.8)

    def predict(self, observation):
        print("pole", round(observation[2], 3))
        return 1 if observation[2] > 0 else 0
"""


def test_deploy_runs_the_agent_and_ranks_it(alice: Api, anon: Api, arena: FakeArena) -> None:
    aid = alice.ready_agent(1, "balancer", SLOW_AGENT)
    started = time.monotonic()
    resp = alice.deploy(1, aid)
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "deploy_queue"
    assert isinstance(body["deployment_id"], int)
    seen = set()
    run_info = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = alice.status(1, aid)
        seen.add(status["status"])
        if status["status"] == "deploy_run":
            run_info = status["run_info"]
            assert status["queue_info"] is None
        if status["status"] in ("active", "deploy_failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "active", status
    assert "deploy_run" in seen
    assert run_info is not None and isinstance(run_info["results"], list)
    assert status["mean_reward"] > 9
    assert status["last_status_message"].startswith("Deployed: mean reward")
    assert time.monotonic() - started < 10

    latest = alice.deploy_status(1, aid)["latestDeploy"]
    assert latest["status"] == "succeeded"
    assert latest["finished_at"] is not None

    games = alice.request("GET", f"/api/direct_attache_agents/agent/{aid}/games").json()
    assert len(games["games"]) == 3
    assert games["competition_context"]["competition_id"] == 1
    log = requests.get(games["games"][0]["signed_url"], timeout=10)
    assert log.status_code == 200
    assert "pole" in log.text and "[arena] episode 3/3" in log.text
    forged = requests.get(games["games"][0]["signed_url"][:-4] + "0000", timeout=10)
    assert forged.status_code == 403

    board = anon.request("GET", "/api/leaderboard/competition/1").json()
    assert board[0]["agentAttachId"] == aid
    assert board[0]["Username"] == "alice" and board[0]["Rank"] == 1
    assert board[0]["IsMyAgent"] is False  # anonymous
    mine = alice.request("GET", "/api/leaderboard/competition/1").json()
    assert mine[0]["IsMyAgent"] is True
    assert mine[1]["AgentName"] == "bob-baseline" and mine[1]["IsMyAgent"] is False


def test_trivial_deploy_settles_fast(alice: Api) -> None:
    aid = alice.ready_agent()
    started = time.monotonic()
    alice.deploy(1, aid)
    assert alice.wait_settled(1, aid)["status"] == "active"
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (
            b"import not_a_module_xyz\n" + GOOD_AGENT,
            "ModuleNotFoundError",
        ),
        (b"class Agent:\n    def predict(self, o):\n        return 1 / 0\n", "ZeroDivisionError"),
        (
            b"class Agent:\n    def predict(self, o):\n        return 7\n",
            "the action must be 0 or 1",
        ),
    ],
)
def test_broken_agent_fails_with_its_traceback(alice: Api, source: bytes, needle: str) -> None:
    aid = alice.ready_agent(1, "broken", source)
    assert alice.deploy(1, aid).status_code == 202
    status = alice.wait_settled(1, aid)
    assert status["status"] == "deploy_failed"
    assert needle in status["last_status_message"]
    assert "Traceback" in status["last_status_message"]
    assert alice.deploy_status(1, aid)["latestDeploy"]["status"] == "failed"
    games = alice.request("GET", f"/api/direct_attache_agents/agent/{aid}/games").json()["games"]
    assert games[0]["outcome"] == "error"
    assert needle in requests.get(games[0]["signed_url"], timeout=10).text
    assert alice.deploy(1, aid).status_code == 202  # a failed agent may be redeployed


def test_agent_does_not_see_mlarena_variables(alice: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLARENA_API_KEY", "mlk_user_x_secret")
    source = b"import os\nassert 'MLARENA_API_KEY' not in os.environ\n" + GOOD_AGENT
    aid = alice.ready_agent(1, "env", source)
    alice.deploy(1, aid)
    assert alice.wait_settled(1, aid)["status"] == "active"


def test_deploy_from_a_busy_state_is_409(alice: Api) -> None:
    aid = alice.ready_agent(1, "busy", SLOW_AGENT)
    alice.deploy(1, aid)
    resp = alice.deploy(1, aid)
    assert resp.status_code == 409
    assert resp.json()["error"] in (
        "Cannot deploy agent in 'deploy_queue' state",
        "Cannot deploy agent in 'deploy_run' state",
    )


def test_file_put_cancels_the_deploy_in_flight(alice: Api, arena: FakeArena) -> None:
    aid = alice.ready_agent(1, "edited", SLOW_AGENT)
    alice.deploy(1, aid)
    resp = alice.upload(1, aid, "agent.py", GOOD_AGENT)
    assert resp.json()["status"] == "upload_validated"
    ds = alice.deploy_status(1, aid)
    assert ds["latestDeploy"]["status"] == "cancelled"
    assert ds["deploymentLimits"]["daily_deploys_used"] == 1  # not given back
    assert alice.deploy(1, aid).status_code == 202
    assert alice.wait_settled(1, aid)["status"] == "active"
    assert arena.deploy_count(aid) == 2


def test_daily_quota_and_next_utc_midnight(alice: Api, arena: FakeArena) -> None:
    arena.set_deploy_limit(2)
    aid = alice.ready_agent()
    for _ in range(2):
        assert alice.deploy(1, aid).status_code == 202
        assert alice.wait_settled(1, aid)["status"] == "active"
    resp = alice.deploy(1, aid)
    assert resp.status_code == 409
    body = resp.json()
    assert body["error"] == "Daily deployment limit (2) reached"
    limits = body["deployment_limits"]
    assert limits["daily_deploys_remaining"] == 0 and limits["can_deploy"] is False
    midnight = datetime.fromisoformat(limits["next_deploy_available_at"])
    now = arena.now()
    assert midnight.tzinfo is not None and midnight.hour == midnight.minute == 0
    assert timedelta(0) < midnight - now <= timedelta(days=1)
    assert "active_submission_limits" in body
    # The quota is per user: the same refusal on another agent of alice.
    other = alice.ready_agent(1, "other")
    assert alice.deploy(1, other).status_code == 409
    # Tomorrow (UTC) the quota is back.
    arena.set_clock_offset((midnight - now).total_seconds() + 1)
    fresh = alice.deploy_status(1, aid)["deploymentLimits"]
    assert fresh["daily_deploys_used"] == 0 and fresh["can_deploy"] is True
    assert alice.deploy(1, aid).status_code == 202


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clocked() -> Iterator[tuple[FakeArena, FakeClock]]:
    clock = FakeClock(datetime(2025, 3, 9, 23, 59, 58, tzinfo=timezone.utc))
    arena = FakeArena(api="v0", deploy_limit=1, clock=clock, queue_seconds=0.05).start()
    try:
        yield arena, clock
    finally:
        arena.stop()


def test_quota_day_with_an_injected_clock(clocked: tuple[FakeArena, FakeClock]) -> None:
    arena, clock = clocked
    api = Api(arena.url, arena.user_token)
    try:
        aid = api.ready_agent()
        assert api.deploy(1, aid).status_code == 202
        api.wait_settled(1, aid)
        limits = api.deploy_status(1, aid)["deploymentLimits"]
        assert limits == {
            "daily_deploy_limit": 1,
            "daily_deploys_used": 1,
            "daily_deploys_remaining": 0,
            "next_deploy_available_at": "2025-03-10T00:00:00+00:00",
            "can_deploy": False,
        }
        assert api.deploy(1, aid).status_code == 409
        clock.moment = datetime(2025, 3, 10, 0, 0, 1, tzinfo=timezone.utc)
        limits = api.deploy_status(1, aid)["deploymentLimits"]
        assert limits["daily_deploys_used"] == 0
        assert limits["next_deploy_available_at"] == "2025-03-11T00:00:00+00:00"
        assert api.deploy(1, aid).status_code == 202
        assert api.deploy_status(1, aid)["latestDeploy"]["created_at"].startswith("2025-03-10")
        assert arena.wait_deploys_idle(10)
    finally:
        api.close()


def test_active_agent_limit_per_competition(alice: Api) -> None:
    csv = b"id,prediction\n1,1\n2,0\n"
    agents = [alice.create(2, f"csv{i}") for i in range(3)]
    for aid in agents:
        alice.upload(2, aid, "submission.csv", csv)
    for aid in agents[:2]:
        assert alice.deploy(2, aid).status_code == 202
    resp = alice.deploy(2, agents[2])
    assert resp.status_code == 409
    body = resp.json()
    assert body["error"].startswith("Active agent limit (2) reached")
    assert body["active_submission_limits"]["active_agents"] == 2
    for aid in agents[:2]:
        assert alice.wait_settled(2, aid)["status"] == "active"
    assert alice.deploy(2, agents[0]).status_code == 202  # redeploy keeps its own slot
    alice.wait_settled(2, agents[0])
    assert alice.request("DELETE", alice.agent_path(2, agents[1])).status_code == 200
    assert alice.deploy(2, agents[2]).status_code == 202


def test_delete_agent(alice: Api, bob: Api) -> None:
    aid = alice.ready_agent(1, "doomed", SLOW_AGENT)
    alice.deploy(1, aid)
    assert bob.request("DELETE", bob.agent_path(1, aid)).status_code == 404
    assert alice.request("DELETE", alice.agent_path(1, aid)).status_code == 200
    assert alice.status(1, aid)["status"] == "deleted"
    assert alice.deploy_status(1, aid)["latestDeploy"]["status"] == "cancelled"
    assert alice.files(1, aid) == {}
    assert alice.upload(1, aid, "x.py", b"").status_code == 409
    assert alice.deploy(1, aid).json() == {"error": "Cannot deploy agent in 'deleted' state"}
    assert alice.request("DELETE", alice.agent_path(1, aid)).status_code == 404


def test_runtimes(alice: Api) -> None:
    options = alice.request("GET", "/api/direct_attache_agents/runtime_options/1").json()
    assert [(o["language"], o["framework"]) for o in options] == [
        ("python", "gymnasium"),
        ("python", "torch"),
    ]
    assert set(options[0]) >= {
        "id",
        "language",
        "language_version",
        "framework",
        "framework_version",
        "requirement",
    }
    aid = alice.create(1)
    path = f"/api/direct_attache_agents/agent_runtime/{aid}"
    assert alice.request("GET", path).json()["framework"] == "gymnasium"
    put = alice.request("PUT", path, json={"docker_image_agent_runtime_id": 2})
    assert put.status_code == 200 and put.json()["id"] == 2
    assert alice.request("GET", path).json()["framework"] == "torch"
    other_engine = alice.request("PUT", path, json={"docker_image_agent_runtime_id": 4})
    assert other_engine.status_code == 400
    assert "engine" in other_engine.json()["error"]
    assert alice.request("PUT", path, json={"docker_image_agent_runtime_id": 99}).status_code == 404
    assert alice.request("PUT", path, json={}).status_code == 400
