"""Tolerant reply parsers (api/models.py) and the token helpers (tokens.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from mlarena_sync.api.models import (
    AgentStatus,
    Competition,
    DeployLimits,
    DeployStatus,
    FileOpResult,
    Game,
    LeaderboardRow,
    RemoteFile,
    Runtime,
    parse_datetime,
)
from mlarena_sync.errors import AuthError, ServerError
from mlarena_sync.tokens import TokenParts, parse_token, redact

LIMITS = {
    "daily_deploy_limit": 5,
    "daily_deploys_used": 2,
    "daily_deploys_remaining": 3,
    "next_deploy_available_at": "2030-01-02T00:00:00Z",
    "can_deploy": True,
}
LATEST = {
    "id": 17,
    "status": "running",
    "created_at": "2030-01-01T10:00:00",
    "finished_at": None,
    "failure_message": None,
}


@pytest.mark.parametrize(
    "reply",
    [
        {"deploymentLimits": LIMITS, "latestDeploy": LATEST},
        {"deployment_limits": LIMITS, "latest_deploy": LATEST},
    ],
)
def test_deploy_status_reads_both_spellings(reply: dict[str, object]) -> None:
    status = DeployStatus.from_json(reply)
    assert status.limits == DeployLimits(
        daily_limit=5,
        used=2,
        remaining=3,
        next_available_at=datetime(2030, 1, 2, tzinfo=timezone.utc),
        can_deploy=True,
    )
    assert status.latest is not None
    assert status.latest.id == 17 and status.latest.open
    assert status.latest.created_at == datetime(2030, 1, 1, 10, tzinfo=timezone.utc)


def test_deploy_status_before_any_deploy_and_with_missing_keys() -> None:
    nulls = {k: None for k in LATEST}
    assert DeployStatus.from_json({"deploymentLimits": {}, "latestDeploy": nulls}).latest is None
    empty = DeployStatus.from_json({})
    assert empty.latest is None
    assert empty.limits == DeployLimits(None, None, None, None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2030-01-02T03:04:05", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2030-01-02T03:04:05.250000+00:00", datetime(2030, 1, 2, 3, 4, 5, 250000, timezone.utc)),
        ("2030-01-02T05:04:05+02:00", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("not a date", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_datetimes_with_or_without_z(text: object, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("status", "settled", "in_flight"),
    [
        ("created", True, False),
        ("upload_validated", True, False),
        ("upload_failed", True, False),
        ("deploy_failed", True, False),
        ("active", True, False),
        ("deleted", True, False),
        ("deploy_queue", False, True),
        ("deploy_run", False, True),
        ("deploying", False, True),
        ("uploading", False, False),
        ("some_future_state", False, False),
        (None, False, False),
    ],
)
def test_agent_status_settled_and_in_flight(
    status: str | None, settled: bool, in_flight: bool
) -> None:
    parsed = AgentStatus.from_json({"status": status})
    assert parsed.status == status
    assert (parsed.settled, parsed.in_flight) == (settled, in_flight)


def test_agent_status_queue_and_runs() -> None:
    parsed = AgentStatus.from_json(
        {
            "status": "deploy_run",
            "last_status_message": "running 2 games",
            "name": "bot",
            "queue_info": {"position_in_queue": "3/12", "in_queue_for_second": 42},
            "run_info": {
                "results": [
                    {"status": "running", "steps_completed": 10, "current_reward": 1.5},
                    {"status": "error", "error_type": "ImportError", "error_message": "no torch"},
                ]
            },
        }
    )
    assert parsed.message == "running 2 games"
    assert parsed.queue is not None and parsed.queue.position == "3/12"
    assert parsed.queue.waiting_seconds == 42.0
    assert [r.status for r in parsed.runs] == ["running", "error"]
    assert parsed.runs[0].steps == 10 and parsed.runs[0].reward == 1.5
    assert parsed.runs[1].error_type == "ImportError"
    bare = AgentStatus.from_json({"status": "active", "queue_info": {}, "run_info": None})
    assert bare.queue is None and bare.runs == ()


def test_wrong_reply_type_is_a_server_error() -> None:
    with pytest.raises(ServerError):
        AgentStatus.from_json(["not", "an", "object"])
    with pytest.raises(ServerError):
        LeaderboardRow.list_from_json({"oops": 1})


def test_remote_files_text_binary_and_sha() -> None:
    files = RemoteFile.map_from_json(
        {
            "files": {
                "agent.py": {"content": "x = 1\n", "language": "python", "is_binary": False},
                "w.bin": {"content": None, "is_binary": True, "size": 2048},
                "odd": {},
            }
        }
    )
    assert files["agent.py"].sha256 == hashlib.sha256(b"x = 1\n").hexdigest()
    assert files["agent.py"].size is None and not files["agent.py"].is_binary
    binary = files["w.bin"]
    assert binary.sha256 is None and binary.is_binary and binary.size == 2048
    assert files["odd"].is_binary and files["odd"].content is None
    assert RemoteFile.map_from_json({}) == {}
    listed = RemoteFile.map_from_json({"files": [{"name": "a.py", "size": 3}]})
    assert listed["a.py"].size == 3


def test_small_models() -> None:
    comp = Competition.from_json(
        {"id": 3, "name": "CartPole", "engine": {"name": "gym"}, "max_upload_files": "20"}
    )
    assert (comp.id, comp.engine, comp.max_upload_files, comp.max_upload_size_bytes) == (
        3,
        "gym",
        20,
        None,
    )
    assert FileOpResult.from_json({"status": "upload_failed"}).validation_message is None
    games = Game.list_from_json({"games": [{"id": 1, "reward": "2.5", "signed_url": None}]})
    assert games[0].reward == 2.5 and games[0].signed_url is None
    assert Game.list_from_json({"competition_context": {}}) == []
    assert Runtime.optional_from_json(None) is None
    assert Runtime.optional_from_json({}) is None
    runtime = Runtime.optional_from_json({"id": 4, "language": "python", "framework": "torch"})
    assert runtime is not None and runtime.framework == "torch"
    rows = LeaderboardRow.list_from_json(
        [{"Rank": 1, "AgentName": "bot", "Username": "alice", "MeanReward": 9.5, "IsMyAgent": True}]
    )
    assert rows[0].is_mine and rows[0].mean_reward == 9.5 and rows[0].agent_id is None


# ---- tokens -----------------------------------------------------------------------------


def test_parse_token_splits_on_the_first_three_underscores() -> None:
    assert parse_token("mlk_user_ab12_se_cr_et") == TokenParts("user", "ab12")
    assert parse_token("mlk_creator_x_y").masked == "mlk_creator_x_***"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "mlk_user_lookup",
        "mlk_user_lookup_",
        "abc_user_lookup_secret",
        "mlk__lookup_secret",
        "mlk_user__secret",
        " mlk_user_lookup_secret",
        "mlk_user_lookup_sec ret",
        "mlk_user_lookup_sec\nret",
        "mlk_user_lookup_sécret",
    ],
)
def test_malformed_tokens_are_auth_errors_that_do_not_quote_them(token: str) -> None:
    with pytest.raises(AuthError) as info:
        parse_token(token)
    if token.strip():
        assert token.strip() not in str(info.value)
    assert "MLARENA_API_KEY" in str(info.value)


def test_redact_masks_token_and_secret() -> None:
    token = "mlk_user_ab12_topsecret_value"
    text = f"sent {token}; echoed topsecret_value; Bearer {token}"
    out = redact(text, token)
    assert "topsecret_value" not in out
    assert out.count("mlk_user_ab12_***") == 2
    assert redact("nothing here", None) == "nothing here"
    assert redact("x garbage y", "garbage") == "x *** y"
