"""v4.6 reply shapes (api-v4.md, mlarena-sdk 4.6.0 docstrings) → the shared reply types."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from mlarena_sync.api.models import (
    AgentStatus,
    Competition,
    DeployStatus,
    LatestDeploy,
    LeaderboardRow,
    QueueInfo,
)
from mlarena_sync.api.v4_parse import (
    deploy_outcome_from_v4,
    deploys_from_v4,
    file_op_from_v4,
    files_from_v4,
    my_submissions_from_v4,
    run_logs_from_v4,
    status_from_v4,
)
from mlarena_sync.errors import GenerationChangedError, ServerError

BLOCK: dict[str, Any] = {
    "status": "deploy_queue",
    "phase": "deployment",
    "last_status_message": "queued",
    "status_update_ts": "2026-12-01T10:00:00Z",
    "is_uploadable": False,
    "is_deployable": False,
    "is_settled": False,
}

SUBMISSION: dict[str, Any] = {
    **BLOCK,
    "id": 101,
    "challenge_id": 1,
    "submission_name": "bot",
    "created_at_ts": "2026-12-01T09:00:00Z",
    "is_public": False,
    "owner": {"user_id": 1, "username": "alice", "avatar_key": None},
    "team": None,
    "viewer_role": "owner",
    "agent_runtime": {
        "id": 7,
        "language": "python",
        "framework": "torch",
        "display_name": "PyTorch",
    },
    "latest_deploy": {
        "id": 9,
        "created_at_ts": "2026-12-01T10:00:00Z",
        "status": "queued",
        "finished_at_ts": None,
        "failure_message": None,
        "failure_owner": None,
    },
    "queue_info": {
        "queue_position": 3,
        "queue_total": 12,
        "created_at_ts": "2026-12-01T10:00:00Z",
        "in_queue_for_second": 4,
    },
    "score": None,
    "number_of_runs": 0,
    "latest_run_failure": None,
}


def test_the_status_flags_are_read_not_derived() -> None:
    # A status name the client has never heard of: the server's flags still decide.
    odd = {**SUBMISSION, "status": "warming_up", "is_settled": True, "is_deployable": True}
    status = status_from_v4(odd, "submission 101")
    assert status.settled and status.deployable and not status.uploadable
    # The same name with the server saying "not settled".
    assert not status_from_v4({**odd, "is_settled": False}, "s").settled
    # And a v0-settled name the server says is not settled is not settled.
    assert not status_from_v4({**SUBMISSION, "status": "active"}, "s").settled


def test_a_submission_with_its_role_queue_runtime_and_latest_deploy() -> None:
    status = status_from_v4(SUBMISSION, "submission 101")
    assert status.status == "deploy_queue" and status.phase == "deployment"
    assert status.in_flight and status.owned and status.viewer_role == "owner"
    assert (status.queue_position, status.queue_total) == (3, 12)
    assert status.queue is not None and status.queue.position == "3/12"
    assert status.queue.waiting_seconds == 4.0
    assert status.latest_deploy is not None and status.latest_deploy.open
    assert status.latest_deploy.created_at == datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    assert status.runtime is not None and status.runtime.display_name == "PyTorch"
    assert (status.agent_id, status.competition_id, status.name) == (101, 1, "bot")


def test_before_the_first_deploy_and_nothing_queued() -> None:
    fresh = {
        **SUBMISSION,
        "status": "created",
        "phase": "upload",
        "is_settled": True,
        "latest_deploy": None,
        "queue_info": dict.fromkeys(
            ("queue_position", "queue_total", "created_at_ts", "in_queue_for_second")
        ),
    }
    status = status_from_v4(fresh, "s")
    assert status.latest_deploy is None and status.queue is None and not status.in_flight


def test_a_teammates_submission_is_not_owned() -> None:
    status = status_from_v4({**SUBMISSION, "viewer_role": "teammate"}, "s")
    assert not status.owned and status.viewer_role == "teammate"


def test_a_failed_attempt_names_who_it_blames() -> None:
    row = {**SUBMISSION["latest_deploy"], "status": "failed", "failure_owner": "platform"}
    latest = LatestDeploy.from_json(row)
    assert latest is not None and latest.failure_owner == "platform" and not latest.open


@pytest.mark.parametrize("missing", ["is_uploadable", "is_deployable", "is_settled"])
def test_a_reply_without_the_flags_is_another_generation(missing: str) -> None:
    reply = {k: v for k, v in SUBMISSION.items() if k != missing}
    with pytest.raises(GenerationChangedError, match=missing):
        status_from_v4(reply, "submission 101")


def test_v0_status_derives_the_flags_and_is_owned() -> None:
    status = AgentStatus.from_json({"status": "upload_validated", "queue_info": {}})
    assert status.deployable and status.settled and status.uploadable and status.owned
    queued = AgentStatus.from_json(
        {"status": "deploy_queue", "queue_info": {"position_in_queue": "2/5"}}
    )
    assert not queued.uploadable and not queued.settled and queued.in_flight
    assert (queued.queue_position, queued.queue_total) == (2, 5)


def test_a_hand_built_snapshot_keeps_the_v0_reading() -> None:
    snap = AgentStatus("active", None, "a", QueueInfo("1/2", 0.0), ())
    assert snap.settled and snap.deployable and snap.latest_deploy is None


def test_file_list_is_metadata_only() -> None:
    files = files_from_v4(
        {
            "files": [
                {"name": "agent.py", "size": 40, "role": "entry", "language": "python"},
                {"name": "README.md", "size": 5, "role": "report", "language": "markdown"},
                {"name": "weights.pt", "size": 900, "role": "other", "language": None},
            ]
        }
    )
    assert list(files) == ["agent.py", "README.md", "weights.pt"]
    assert files["agent.py"].role == "entry" and not files["agent.py"].is_binary
    assert files["weights.pt"].is_binary and files["weights.pt"].size == 900
    assert all(f.content is None and f.sha256 is None for f in files.values())
    assert files_from_v4({"files": []}) == {}
    with pytest.raises(ServerError):
        files_from_v4([])


def test_file_put_reply_carries_the_verdict_and_flags() -> None:
    reply = {
        "message": "File uploaded",
        "validation_message": "agent.py must define class Agent",
        **BLOCK,
        "status": "upload_failed",
        "phase": "upload",
        "is_uploadable": True,
        "is_settled": True,
    }
    result = file_op_from_v4(reply, "upload")
    assert result.status == "upload_failed" and result.validation_message
    assert result.agent_status is not None and not result.agent_status.deployable
    assert file_op_from_v4({"message": "deleted"}, "delete").agent_status is None


def test_deploy_reply_and_attempts() -> None:
    outcome = deploy_outcome_from_v4({"message": "queued", "deployment_id": 9, **BLOCK}, "d")
    assert outcome.accepted and outcome.deployment_id == 9 and not outcome.timed_out
    assert outcome.agent_status is not None and outcome.agent_status.in_flight
    attempts = deploys_from_v4(
        {"deploys": [SUBMISSION["latest_deploy"], {**SUBMISSION["latest_deploy"], "id": 8}]}
    )
    assert [a.id for a in attempts] == [9, 8]
    assert deploys_from_v4({"deploys": []}) == []


def test_quota_reply_snake_case_with_active_limits() -> None:
    status = DeployStatus.from_json(
        {
            "deployment_limits": {
                "daily_deploy_limit": 2,
                "daily_deploys_used": 2,
                "daily_deploys_remaining": 0,
                "next_deploy_available_at": "2026-12-02T09:00:00Z",
                "can_deploy": False,
            },
            "active_submission_limits": {
                "max_active_submissions": 3,
                "active_submissions_count": 1,
                "active_submissions_remaining": 2,
            },
        }
    )
    assert status.limits.remaining == 0 and status.limits.can_deploy is False
    assert status.latest is None
    assert status.active is not None and (status.active.max_active, status.active.remaining) == (
        3,
        2,
    )


def test_my_submissions_are_filtered_to_the_challenge() -> None:
    reply = {
        "submissions": [
            {"id": 101, "submission_name": "bot", "challenge_id": 1, "rank": None, **BLOCK},
            {"id": 102, "submission_name": "bot", "challenge_id": 2, "rank": 4, **BLOCK},
            {"submission_name": "no id", "challenge_id": 1},
        ],
        "started_submissions_count": 2,
        "deployment_limits": {},
    }
    mine = my_submissions_from_v4(reply, 1)
    assert [(s.id, s.name, s.status, s.settled) for s in mine] == [
        (101, "bot", "deploy_queue", False)
    ]
    assert my_submissions_from_v4({"submissions": []}, 1) == []


def test_run_logs_read_my_own_row_only() -> None:
    run = {
        "simulation_result_id": 55,
        "job_status": "completed",
        "created_at_ts": "2026-12-01T11:00:00Z",
        "env_error_type": None,
        "submission_results": [
            {"submission_id": 7, "agent_stdout_logs": None, "score": 0.0},
            {
                "submission_id": 101,
                "agent_stdout_logs": "hello from the agent\n",
                "score": 21.0,
                "game_outcome": "win",
                "agent_error_type": None,
            },
        ],
    }
    logs, total = run_logs_from_v4({"runs": [run], "total": 1, "retention_days": 30}, 101)
    assert total == 1 and len(logs) == 1
    assert logs[0].log == "hello from the agent\n" and logs[0].score == 21.0
    assert (logs[0].id, logs[0].outcome, logs[0].status) == (55, "win", "completed")
    # Only an opponent's row: no stdout of mine.
    theirs, _ = run_logs_from_v4({"runs": [run], "total": 1}, 999)
    assert theirs[0].log is None and theirs[0].score is None


def test_challenge_detail_and_leaderboard_envelope() -> None:
    comp = Competition.from_json(
        {
            "id": 2,
            "name": "Parity",
            "kernel_version": "file_v1",
            "entry_filename": "submission.csv",
            "max_upload_size_bytes": 1000,
            "max_upload_files": 1,
            "agent_template": None,
            "machine": {"id": 2, "name": "parity-cpu", "runtime": "k8s"},
            "runtime_options": [{"id": 3, "language": "python", "display_name": "No framework"}],
        }
    )
    assert comp.entry_filename == "submission.csv" and comp.kernel_version == "file_v1"
    assert comp.engine == "parity-cpu" and [r.id for r in comp.runtime_options] == [3]
    rows = LeaderboardRow.list_from_json(
        {
            "challenge": {},
            "total": 1,
            "leaders": [
                {
                    "rank": 1,
                    "username": "bob",
                    "submission_id": 2,
                    "submission_name": "team",
                    "score": 0.9,
                    "is_my_submission": True,
                }
            ],
            "me": None,
            "matches": [],
        }
    )
    assert [(r.agent_id, r.agent_name, r.mean_reward, r.is_mine) for r in rows] == [
        (2, "team", 0.9, True)
    ]
