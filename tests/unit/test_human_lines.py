"""Each common event as the line a person reads (no log record: no ``key=value``, no
snake_case name, no ISO time), and the generic line of any other event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mlarena_sync.cli.human.console import plain_text
from mlarena_sync.cli.human.lines import format_event

NOW = datetime(2026, 12, 1, 12, 8, 0, tzinfo=timezone.utc)


def shown(event: str, level: str = "info", **fields: object) -> list[str]:
    line = format_event(event, level, fields, NOW)
    assert line is not None, event
    return plain_text(line)


def test_an_upload_is_one_line_with_the_file_its_size_and_why() -> None:
    lines = shown("upload", file="weights.bin", name="weights.bin", bytes=2_900_000, reason="new")
    assert lines == ["↑ weights.bin  2.9 MB  new"]


def test_a_delete_says_deleted_and_only_an_unusual_reason() -> None:
    assert shown("delete", name="removed.py", reason="deleted locally") == ["✗ removed.py  deleted"]
    assert shown("delete", name="x.py", reason="not in the local folder (replica)") == [
        "✗ x.py  deleted: not in the local folder (replica)"
    ]


def test_synced_counts_files_and_names_the_agent() -> None:
    assert shown("synced", agent_id=101, uploaded=2, deleted=0, unchanged=3) == [
        "✓ synced 2 files to agent 101"
    ]
    assert shown("synced", agent_id=101, uploaded=1, deleted=1, created=True) == [
        "✓ synced 2 files to agent 101 (new agent)  1 uploaded, 1 deleted"
    ]
    assert format_event("synced", "info", {"agent_id": 1, "uploaded": 0, "deleted": 0}, NOW) is None


def test_the_check_lines() -> None:
    assert shown("check_started", command="python -m py_compile agent.py") == [
        "· running the check  python -m py_compile agent.py"
    ]
    assert shown("check_passed", command="x") == ["✓ check passed"]
    assert shown("check_output", output="line 1\nline 2", returncode=1) == [
        "· check output:",
        "    line 1",
        "    line 2",
    ]
    failed = shown("check_failed", "warning", command="lint", returncode=3)
    assert failed == ["! `lint` failed with exit code 3"]


def test_deploy_requested_and_recorded() -> None:
    assert shown("deploy_requested", agent_id=1, deployment_id=7, status="deploy_queue") == [
        "· deploy requested  deployment 7"
    ]
    assert shown("deploy_recorded", id=3, deployment_id=7, files=2, text="ledger #3: x") == [
        "· kept as deploy #3 in history  2 files"
    ]


def test_agent_status_queue_and_run_lines() -> None:
    status = shown(
        "agent_status",
        "result",
        status="active",
        previous="deploy_queue",
        message="Deployed: mean reward 42.3333",
        text="status: deploy_queue → active (Deployed: mean reward 42.3333)",
    )
    assert status == ["· status: queued → live · mean reward 42.3"]
    first = shown("agent_status", status="upload_validated", message="Agent validated: ok")
    assert first == ["· status: synced, not deployed · Agent validated: ok"]
    v46 = shown("agent_status", status="active", previous="deploy_run", score=9.0, message="Done")
    assert v46 == ["· status: running → live · Done · score 9"]
    failed = shown("agent_status", status="deploy_failed", previous="deploy_run", message="Boom")
    assert failed == ["· status: running → deploy failed"], "the agent_error line says why"
    assert shown("queue", position="2/5") == ["· queued: position 2 of 5"]
    assert shown("queue", position="2/5", queue_position=2, queue_total=5) == [
        "· queued: position 2 of 5"
    ]
    run = shown("run", run=1, status="running", text="run 1: running, steps 200")
    assert run == ["· run 1: running, steps 200"]


def test_an_agent_error_shows_its_message_as_lines() -> None:
    lines = shown("agent_error", "result", status="deploy_failed", message="Boom\nTraceback\n  x")
    assert lines == ["✗ deploy failed: Boom", "    Traceback", "      x"]


def test_push_done_uses_its_sentence_tidied() -> None:
    text = "pushed to agent 5: 1 uploaded; no deploy (deploys are off (--no-deploy))"
    assert shown("push_done", "result", text=text, deployed=False) == [
        "✓ pushed to agent 5: 1 uploaded; no deploy (deploys are off: --no-deploy)"
    ]


def test_push_done_says_the_deploy_in_words() -> None:
    text = "pushed to agent 5: 1 uploaded; deployed: active (Deployed: mean reward 42.3333)"
    fields = {"deployed": True, "status": "active", "message": "Deployed: mean reward 42.3333"}
    assert shown("push_done", "result", text=text, **fields) == [
        "✓ pushed to agent 5: 1 uploaded; deployed: live · mean reward 42.3"
    ]


def test_push_done_after_a_deploy_in_flight_says_how_it_ended_in_words() -> None:
    text = "pushed to agent 5: 0 uploaded; no new deploy, the one in flight ended active (Done)"
    fields = {"deployed": False, "status": "active", "message": "Done"}
    assert shown("push_done", "result", text=text, **fields) == [
        "✓ pushed to agent 5: 0 uploaded; no new deploy, the one in flight ended live · Done"
    ]


def test_push_done_without_wait_says_where_to_follow_the_deploy() -> None:
    text = "pushed to agent 5: 1 uploaded; deploy requested (deployment 3)"
    assert shown("push_done", "result", text=text, deployed=True, deployment_id=3) == [
        "✓ pushed to agent 5: 1 uploaded; deploy requested (deployment 3)"
        "  follow it: `mlarena-sync logs --follow`"
    ]


def test_watch_stopped_says_ctrl_c_not_the_signal() -> None:
    text = "watch stopped (SIGINT); synced edits not deployed yet: `mlarena-sync push` deploys them"
    assert shown("watch_stopped", reason="SIGINT", text=text) == [
        "· watch stopped (Ctrl-C); synced edits not deployed yet: `mlarena-sync push` deploys them"
    ]
    assert shown("watch_stopped", reason="SIGTERM", text="watch stopped (SIGTERM)") == [
        "· watch stopped (terminated)"
    ]


def test_deploy_waiting_says_how_long_not_when() -> None:
    until = NOW + timedelta(hours=11, minutes=52)
    slot = until.isoformat(timespec="seconds")
    lines = shown("deploy_waiting", "warning", blocker="quota", until=until, text=f"next at {slot}")
    assert lines == ["! next in 11 h 52 min"]
    local = (NOW + timedelta(seconds=48)).astimezone().strftime("%H:%M:%S")
    lines = shown(
        "deploy_waiting",
        blocker="interval",
        until=NOW + timedelta(seconds=48),
        text=f"deploy waits until {local} (deploy.min_interval 60 s)",
    )
    assert lines == ["! deploy waits for 48 s (deploy.min_interval 60 s)"]
    local = NOW.astimezone().strftime("%H:%M:%S")  # due as the line is written
    lines = shown(
        "deploy_waiting",
        blocker="interval",
        until=NOW,
        text=f"deploy waits until {local} (deploy.min_interval 60 s)",
    )
    assert lines == ["! deploy waits a moment (deploy.min_interval 60 s)"], "not 'waits just now'"


def test_validation_failed_and_http_diagnostics() -> None:
    assert shown("validation_failed", "warning", status="upload_failed", message="no Agent") == [
        "! the server's validation failed: no Agent"
    ]
    request = shown("api_request", "debug", method="GET", route="/api/x", status=200, elapsed_ms=12)
    assert request == ["· GET /api/x → 200  12 ms"]
    retry = shown(
        "api_retry", "debug", method="PUT", route="/f", attempt=2, delay_s=0.4, status=503
    )
    assert retry == ["· retrying PUT /f in 0.4 s  attempt 2: 503"]


def test_a_progress_tick_is_never_a_line() -> None:
    fields = {"file": "big.pt", "bytes": 10, "total": 100, "percent": 10}
    assert format_event("upload_progress", "info", fields, NOW) is None


def test_an_event_with_text_is_its_sentence_at_its_level() -> None:
    assert shown(
        "held", agent_id=1, held=2, text="2 change(s) held while a deploy is in flight"
    ) == ["· 2 changes held while a deploy is in flight"]
    assert shown("connection_lost", "warning", server="s", reason="r", text="lost it") == [
        "! lost it"
    ]


@pytest.mark.parametrize(
    ("name", "level", "fields", "expected"),
    [
        (
            "deploy_reply_lost",
            "warning",
            {"agent_id": 1, "reason": "timeout"},
            "! deploy reply lost: timeout",
        ),
        ("rescan_unchanged", "debug", {}, "· rescan unchanged"),
        ("ledger_failed", "warning", {"message": "disk full"}, "! ledger failed: disk full"),
        ("demo_folder_kept", "info", {"folder": "/tmp/d"}, "· demo folder kept: /tmp/d"),
    ],
)
def test_any_other_event_is_its_readable_name_and_the_facts_that_matter(
    name: str, level: str, fields: dict[str, object], expected: str
) -> None:
    lines = shown(name, level, **fields)
    assert lines == [expected]
    assert "=" not in lines[0] and "_" not in lines[0].split(":")[0]


def test_the_watch_banner_names_agent_challenge_server_quota_and_rules() -> None:
    lines = shown(
        "watching",
        root="/home/me/agent",
        agent_id=101,
        agent_name="cartpole-ppo",
        competition=1,
        challenge="CartPole Balance",
        server="https://ml-arena.com",
        api="v4.6",
        deploys_left=4,
        deploys_limit=5,
        deploy_auto=True,
        settle=10.0,
        min_interval=60.0,
        reserve=1,
        check="python -m py_compile agent.py",
        live="follow",
        quiet=0.3,
        max_wait=5.0,
        text="watching /home/me/agent (Ctrl-C stops)",
    )
    assert lines == [
        "▶ watching /home/me/agent  Ctrl-C stops",
        "    agent      101 cartpole-ppo",
        "    challenge  1 CartPole Balance",
        "    server     https://ml-arena.com (API v4.6)",
        "    deploys    4 of 5 left today, 1 kept in reserve (deploy.reserve)",
        "    deploy     10 s after the last save, at most one per 1 min",
        "    check      `python -m py_compile agent.py` must pass before a deploy",
        "    saves      synced after 0.3 s of quiet (at most 5 s)",
    ]


def test_the_banner_of_a_first_watch_and_of_deploys_off() -> None:
    lines = shown(
        "watching", root="/w", agent_id=None, agent_name="new-one", deploy_auto=False, live="keep"
    )
    assert "    agent      a new agent on first save (new-one)" in lines
    assert "    deploy     never: every save is synced, not deployed (deploy.auto: false)" in lines
    assert shown("watching", root="/w") == ["▶ watching /w  Ctrl-C stops"]  # only what is known
