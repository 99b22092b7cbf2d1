"""v4.6 deploys over HTTP: deploy, quotas, attempts, runs with stdout, the board, and what a
file PUT gets while a deploy is in flight (both settings of the knob)."""

from __future__ import annotations

import pytest
import requests
from arena_v4_helpers import CHATTY_AGENT, STATUS_BLOCK, SUBS, Api4

from mlarena_sync.arena import FakeArena

BROKEN_AGENT = (
    b"import torch\n\n\nclass Agent:\n    def predict(self, observation):\n        return 0\n"
)


@pytest.fixture
def held(arena_v4: FakeArena, monkeypatch: pytest.MonkeyPatch) -> FakeArena:
    """Deploys stay queued (in flight) for the whole test."""
    monkeypatch.setattr(arena_v4.simulator, "queue_seconds", 60.0)
    return arena_v4


def test_deploy_202_then_active_with_the_attempt_and_runs(alice4: Api4) -> None:
    sid = alice4.ready(1, "chatty", CHATTY_AGENT)
    resp = alice4.deploy(1, sid)
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "deploy_queue" and set(body) >= STATUS_BLOCK
    assert (body["is_settled"], body["is_uploadable"]) == (False, False)
    sub = alice4.wait_settled(sid)
    assert (sub["status"], sub["phase"], sub["is_settled"]) == ("active", "active", True)
    assert sub["latest_deploy"]["id"] == body["deployment_id"]
    assert sub["latest_deploy"]["status"] == "succeeded"
    assert sub["score"] > 0 and sub["number_of_runs"] == 3
    deploys = alice4.request("GET", f"{SUBS}/submission/{sid}/deploys").json()["deploys"]
    assert [d["id"] for d in deploys] == [body["deployment_id"]]
    keys = {"id", "created_at_ts", "status", "finished_at_ts", "failure_message", "failure_owner"}
    assert set(deploys[0]) == keys
    runs = alice4.request("GET", f"{SUBS}/submission/{sid}/runs").json()
    assert runs["total"] == 3 and runs["retention_days"] == 364
    assert runs["challenge_context"]["number_of_agents"] == 1
    run = runs["runs"][0]
    assert run["job_status"] == "completed" and run["submission_deploy_id"] == body["deployment_id"]
    mine = [row for row in run["submission_results"] if row["submission_id"] == sid]
    assert len(mine) == 1 and mine[0]["agent_nb_steps"] > 0
    assert "hello from the agent" in "".join(
        row["agent_stdout_logs"] for r in runs["runs"] for row in r["submission_results"]
    )


def test_runs_page_and_filter(alice4: Api4) -> None:
    sid = alice4.ready(1)
    first = alice4.deploy(1, sid).json()["deployment_id"]
    alice4.wait_settled(sid)
    second = alice4.deploy(1, sid).json()["deployment_id"]
    alice4.wait_settled(sid)
    path = f"{SUBS}/submission/{sid}/runs"
    page = alice4.request("GET", path, params={"offset": 1, "limit": 2}).json()
    assert page["total"] == 6 and len(page["runs"]) == 2
    everything = alice4.request("GET", path, params={"limit": 100}).json()["runs"]
    assert [r["submission_deploy_id"] for r in everything] == [second] * 3 + [first] * 3
    only = alice4.request("GET", path, params={"deploy_id": first}).json()
    assert only["total"] == 3
    assert alice4.request("GET", path, params={"is_test": "true"}).json()["runs"] == []
    assert alice4.request("GET", path, params={"limit": 101}).status_code == 400
    assert alice4.request("GET", path, params={"limit": 0}).status_code == 400
    assert alice4.request("GET", path, params={"deploy_id": 9999}).status_code == 404


def test_deploy_status_is_snake_case_quota_only(alice4: Api4) -> None:
    sid = alice4.ready(1)
    status = alice4.request("GET", alice4.one(1, sid, "/deploy")).json()
    assert set(status) == {"deployment_limits", "active_submission_limits"}
    assert set(status["deployment_limits"]) == {
        "daily_deploy_limit",
        "daily_deploys_used",
        "daily_deploys_remaining",
        "next_deploy_available_at",
        "can_deploy",
    }
    assert status["active_submission_limits"] == {
        "max_active_submissions": 5,
        "active_submissions_count": 0,
        "active_submissions_remaining": 5,
    }


def test_deploy_refusals_are_409_with_the_limits(alice4: Api4, arena_v4: FakeArena) -> None:
    empty = int(alice4.create(1)["submission_id"])
    resp = alice4.deploy(1, empty)
    assert resp.status_code == 409
    assert {"error", "deployment_limits", "active_submission_limits"} <= set(resp.json())
    arena_v4.set_deploy_limit(1)
    sid = alice4.ready(1)
    assert alice4.deploy(1, sid).status_code == 202
    alice4.wait_settled(sid)
    again = alice4.deploy(1, sid)
    assert again.status_code == 409
    body = again.json()
    assert body["error"] == "Daily deployment limit (1) reached"
    assert body["deployment_limits"]["can_deploy"] is False
    assert body["active_submission_limits"]["active_submissions_count"] == 1


def test_put_during_a_deploy_is_refused_by_default(held: FakeArena, alice4: Api4) -> None:
    sid = alice4.ready(1)
    assert alice4.deploy(1, sid).status_code == 202
    assert alice4.submission(sid)["is_uploadable"] is False
    resp = alice4.upload(1, sid, "agent.py", b"class Agent:\n    pass\n")
    assert resp.status_code == 409
    assert resp.json()["is_uploadable"] is False and resp.json()["status"] == "deploy_queue"
    assert alice4.delete_file(1, sid, "agent.py").status_code == 409
    assert alice4.submission(sid)["status"] == "deploy_queue"
    assert held.deploy_count(sid) == 1


def test_put_during_a_deploy_cancels_it_when_asked(held: FakeArena, alice4: Api4) -> None:
    held.faults.put_during_deploy = "cancel"
    sid = alice4.ready(1)
    did = alice4.deploy(1, sid).json()["deployment_id"]
    assert alice4.submission(sid)["is_uploadable"] is True
    resp = alice4.upload(1, sid, "helper.py", b"x = 1\n")
    assert resp.status_code == 200 and resp.json()["status"] == "upload_validated"
    latest = alice4.submission(sid)["latest_deploy"]
    assert (latest["id"], latest["status"]) == (did, "cancelled")


def test_the_put_knob_over_the_control_route(held: FakeArena, alice4: Api4) -> None:
    control = held.url + "/_arena/faults"
    reply = requests.post(control, json={"put_during_deploy": "cancel"}, timeout=10).json()
    assert reply["faults"]["put_during_deploy"] == "cancel"
    sid = alice4.ready(1)
    alice4.deploy(1, sid)
    assert alice4.upload(1, sid, "helper.py", b"x = 1\n").status_code == 200
    requests.post(control, json={"put_during_deploy": "refuse"}, timeout=10)
    alice4.deploy(1, sid)
    assert alice4.upload(1, sid, "helper.py", b"x = 2\n").status_code == 409
    bad = requests.post(control, json={"put_during_deploy": "maybe"}, timeout=10)
    assert bad.status_code == 400


def test_a_failing_agent_ends_deploy_failed_with_its_error(alice4: Api4) -> None:
    sid = alice4.ready(1, "broken", BROKEN_AGENT)
    alice4.deploy(1, sid)
    sub = alice4.wait_settled(sid)
    assert (sub["status"], sub["phase"]) == ("deploy_failed", "upload")
    assert sub["latest_deploy"]["failure_owner"] == "participant"
    assert "ModuleNotFoundError" in sub["latest_deploy"]["failure_message"]
    assert sub["latest_run_failure"]["agent_error_type"] == "code_error"
    runs = alice4.request("GET", f"{SUBS}/submission/{sid}/runs").json()["runs"]
    row = runs[0]["submission_results"][0]
    assert row["agent_error_type"] == "code_error" and "ModuleNotFoundError" in (
        row["agent_stdout_logs"] or ""
    )


def test_file_challenge_scores_and_the_board_envelope(
    alice4: Api4, bob4: Api4, anon4: Api4
) -> None:
    sid = int(alice4.create(2, "parity")["submission_id"])
    alice4.upload(2, sid, "submission.csv", b"id,prediction\n1,1\n2,0\n3,0\n4,0\n")
    assert alice4.deploy(2, sid).status_code == 202
    sub = alice4.wait_settled(sid)
    assert (sub["status"], sub["score"], sub["agent_runtime"]) == ("active", 0.75, None)
    board = alice4.request("GET", "/api/leaderboard/challenge/2", params={"me": "true"}).json()
    assert set(board) >= {"challenge", "total", "leaders", "me", "matches"}
    assert board["challenge"]["kernel_version"] == "file_v1"
    assert [m["key"] for m in board["challenge"]["metrics"]] == ["accuracy"]
    row = board["leaders"][0]
    assert (row["rank"], row["submission_id"], row["score"]) == (1, sid, 0.75)
    assert row["is_my_submission"] is True and row["metrics"] == {"accuracy": 0.75}
    assert board["me"]["submission_id"] == sid and board["me"]["position"] == 1
    # bob is alice's teammate on challenge 2: the team's row is his too
    assert bob4.request("GET", "/api/leaderboard/challenge/2").json()["leaders"][0][
        "is_my_submission"
    ]
    public = anon4.request("GET", "/api/leaderboard/challenge/2").json()
    assert public["leaders"][0]["is_my_submission"] is False and public["total"] == 1
    found = anon4.request("GET", "/api/leaderboard/challenge/1", params={"q": "bo"}).json()
    assert [m["username"] for m in found["matches"]] == ["bob"]
    assert anon4.request("GET", "/api/leaderboard/challenge/3").status_code == 404
    mine = alice4.request("GET", f"{SUBS}/mine").json()["submissions"]
    assert mine[0]["rank"] == 1
