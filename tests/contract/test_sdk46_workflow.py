"""Contract: the official client ``mlarena-sdk==4.6.0`` drives the fake arena's v4.6 routes,
unchanged.

SDK 4.6.0 is the same ``mlarena`` package as the venv's 0.2.0: ``conftest.py`` installs it into a
cached folder and ``sdk46_workflow.py`` runs it in a child process against this module's
``FakeArena(api="v4.6")``, one scenario per run; each prints one JSON line asserted on here.
The participant workflow runs once per module; the tests below each check one part of it.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlarena
import pytest

from mlarena_sync.arena import FakeArena

# The first test of a session may install the SDK from PyPI (seconds; pip is given at most 240).
pytestmark = pytest.mark.timeout(300)

Result = dict[str, Any]
SdkRun = Callable[[FakeArena, str, Path], Result]  # the sdk46 fixture: (arena, scenario, cwd)
MODEL = pickle.dumps({"gain": 0.5})  # the workflow's model.pkl


@pytest.fixture(scope="module")
def workflow(
    sdk46: SdkRun, arena46_server: FakeArena, tmp_path_factory: pytest.TempPathFactory
) -> Result:
    """The participant workflow, run once on a fresh arena."""
    arena46_server.reset()
    return sdk46(arena46_server, "workflow", tmp_path_factory.mktemp("workflow"))


@pytest.fixture
def scenario(sdk46: SdkRun, arena46: FakeArena, tmp_path: Path) -> Callable[[str], Result]:
    """Run one scenario against the (reset) v4.6 arena, in this test's tmp folder."""
    return lambda name: sdk46(arena46, name, tmp_path)


def test_sdk46_is_installed_beside_the_venv_sdk(sdk46_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(sdk46_path)
    # mlarena.local reads TOML: tomllib, or tomli (a Requires-Dist below Python 3.11)
    probe = (
        "import json, mlarena, mlarena.local;"
        "print(json.dumps([mlarena.__version__, mlarena.__file__, mlarena.local.tomllib.__name__]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    version, where, toml = json.loads(proc.stdout)
    assert version == "4.6.0"
    assert Path(where) == sdk46_path / "mlarena" / "__init__.py"
    assert toml == ("tomllib" if sys.version_info >= (3, 11) else "tomli")
    assert mlarena.__version__ == "0.2.0"  # this process keeps the venv's SDK
    complete = json.loads((sdk46_path / ".complete").read_text())
    assert complete["sdk"] == "mlarena-sdk==4.6.0"
    if sys.version_info >= (3, 11):
        assert complete["extra"] == []  # requests (and pandas) come from the venv


def test_submit_wait_pins_the_runtime_and_ends_active(workflow: Result) -> None:
    r = workflow
    assert r["challenge"] == {"entry_filename": "agent.py", "kernel_version": "flex_v1"}
    assert [(rt["id"], rt["framework"]) for rt in r["runtimes"]] == [(1, "gymnasium"), (2, "torch")]
    deploy = r["submit"]["deploy"]
    assert (deploy["status"], deploy["is_settled"]) == ("deploy_queue", False)
    final = r["submit"]["status"]
    assert (final["status"], final["phase"], final["is_settled"]) == ("active", "active", True)
    assert final["last_status_message"] == "Deployed: mean reward 200.0"
    assert r["status_last"] == "active"  # submit() remembered the submission for status()

    sub = r["submission"]
    assert (sub["id"], sub["challenge_id"]) == (r["sid"], 1)
    assert sub["submission_name"] == "agent"  # the first file's base name
    assert (sub["viewer_role"], sub["owner"]["username"]) == ("owner", "alice")
    assert sub["agent_runtime"]["id"] == 1 and r["agent_runtime"] == sub["agent_runtime"]
    assert sub["latest_deploy"]["id"] == deploy["deployment_id"]
    assert sub["latest_deploy"]["status"] == "succeeded"
    assert sub["queue_info"]["queue_position"] is None
    assert (sub["score"], sub["number_of_runs"]) == (200.0, 3)


def test_files_list_read_download_upload_delete(workflow: Result) -> None:
    r = workflow
    assert [(f["name"], f["size"], f["role"], f["language"]) for f in r["files_1"]] == [
        ("agent.py", 445, "entry", "python"),
        ("model.pkl", len(MODEL), "other", None),
    ]
    assert 'print("loaded model, epsilon =", self.epsilon)' in r["agent_py"]
    text = r["binary_as_text"]
    assert (text["raised"], text["status_code"]) == ("SubmissionError", 400)
    assert r["download"] == {"path": "downloads/model.pkl", "same": True}

    assert r["upload_readme"]["message"] == "File 'README.md' uploaded"
    assert r["upload_readme"]["status"] == "upload_validated"  # active → back to upload
    assert r["upload_readme"]["phase"] == "upload"
    assert r["edit"]["validation_message"] == "Agent validated: agent.py defines Agent.predict"
    assert [(f["name"], f["role"], f["language"]) for f in r["files_2"]] == [
        ("agent.py", "entry", "python"),
        ("README.md", "report", "markdown"),
        ("model.pkl", "other", None),
    ]
    assert r["files_2"][0]["size"] == 446  # "epsilon=0.05"
    assert r["delete_readme"]["message"] == "File 'README.md' deleted"
    assert r["files_3"] == ["agent.py", "model.pkl"]


def test_redeploy_tail_logs_and_runs_carry_the_agents_stdout(workflow: Result) -> None:
    r = workflow
    first, latest = r["submit"]["deploy"]["deployment_id"], r["redeploy"]["deployment_id"]
    assert latest == first + 1
    assert r["redeploy"]["status"] == "deploy_queue"
    tail = r["tail"]
    lifecycle = [
        "[deploy_queue] Deploy queued",
        "[deploy_run] Deploy running",
        "[active] Deployed: mean reward 200.0",
    ]
    statuses = [line for line in tail if line.startswith("[")]
    # one line per status change, in lifecycle order (a slow poll may miss a short phase)
    assert statuses == [line for line in lifecycle if line in statuses]
    assert statuses[-1] == lifecycle[-1]
    runs = [line for line in tail if line.startswith("  run: ")]
    assert runs == ["  run: job_status=completed steps=200 score=200.0 outcome=None"] * 3
    assert r["after_redeploy"]["latest_deploy"]["id"] == latest
    assert r["after_redeploy"]["number_of_runs"] == 6

    assert r["runs"]["total"] == 6 and r["runs"]["retention_days"] == 364
    assert r["runs_deploy_ids"] == [latest] * 3 + [first] * 3  # newest first
    assert r["runs_latest_total"] == 3
    assert r["runs_page"] == 2
    stdout = r["runs_stdout"]
    assert stdout[0] == "[arena] episode 3/3: 200 steps, reward 200.0, truncated\n"
    assert stdout[2].startswith("loaded model, epsilon = 0.05\n")  # the edited agent ran
    assert stdout[5].startswith("loaded model, epsilon = 0.1\n")
    assert r["runs"]["challenge_context"]["number_of_agents"] == 1


def test_deploy_attempts_and_quota(workflow: Result) -> None:
    r = workflow
    first, latest = r["submit"]["deploy"]["deployment_id"], r["redeploy"]["deployment_id"]
    assert [(d["id"], d["status"]) for d in r["deploys"]] == [
        (latest, "succeeded"),
        (first, "succeeded"),
    ]
    assert r["deploy_status"] == {
        "deployment_limits": {
            "daily_deploy_limit": 5,
            "daily_deploys_used": 2,
            "daily_deploys_remaining": 3,
            "next_deploy_available_at": r["deploy_status"]["deployment_limits"][
                "next_deploy_available_at"
            ],
            "can_deploy": True,
        },
        "active_submission_limits": {
            "max_active_submissions": 5,
            "active_submissions_count": 1,
            "active_submissions_remaining": 4,
        },
    }
    assert r["deploy_status"]["deployment_limits"]["next_deploy_available_at"].endswith(
        "T00:00:00+00:00"
    )


def test_leaderboard_envelope(workflow: Result) -> None:
    r = workflow
    rows = [
        (row["rank"], row["username"], row["submission_id"], row["score"], row["is_my_submission"])
        for row in r["leaders"]
    ]
    assert rows == [(1, "alice", r["sid"], 200.0, True), (2, "bob", 1, 21.0, False)]
    assert [row["reward"] for row in r["leaders"]] == [200.0, 21.0]  # one column per metric key
    assert [row["can_open"] for row in r["leaders"]] == [True, False]
    attrs = r["board_attrs"]
    assert (attrs["total"], attrs["me"], attrs["matches"]) == (2, None, [])
    assert attrs["challenge"]["challenge_id"] == 1
    assert attrs["challenge"]["kernel_version"] == "flex_v1"
    assert attrs["metrics"] == attrs["challenge"]["metrics"]
    assert [spec["key"] for spec in attrs["metrics"] if spec["is_ranking"]] == ["reward"]


def test_metric_declaration_is_an_sdk_metricspec(workflow: Result) -> None:
    """The board's and the runs' declaration follow the SDK README's MetricSpec table."""
    board = workflow["board_attrs"]["metrics"]
    assert workflow["runs"]["challenge_context"]["metrics"] == board
    (spec,) = board
    assert spec["key"] == "reward" and spec["is_ranking"] is True and spec["order"] == "desc"
    assert spec["agg"] in {"mean", "sum", "max", "min", "last", "rating"}
    assert spec["format"] in {"number", "integer", "percent", "seconds", "bytes", "currency"}
    assert spec["source"] == "score"  # the env's main score; the SDK knows score | env | platform


def test_my_submissions_quick_start_and_delete(workflow: Result) -> None:
    r = workflow
    (row,) = r["mine"]["submissions"]
    assert (row["id"], row["challenge_name"], row["status"], row["rank"]) == (
        r["sid"],
        "CartPole Balance",
        "active",
        1,
    )
    assert r["mine"]["deployment_limits"]["daily_deploys_used"] == 2

    quick = r["quick"]
    assert quick["submission_id"] == r["sid"] + 1
    assert quick["deploy"]["status"] == "deploy_queue"
    statuses = [line for line in r["quick_tail"] if line.startswith("[")]
    assert statuses[-1].startswith("[active] Deployed: mean reward ")
    assert r["quick_agent_py"].startswith("class MyAgent:\n")

    assert r["delete"] == {"message": "Submission deleted", "submission_id": r["sid"]}
    assert r["mine_after_delete"] == [quick["submission_id"]]  # deleted rows are not listed
    assert r["deleted"] == {"raised": None, "value": "deleted"}


def test_refusals_map_to_sdk_errors(scenario: Callable[[str], Result]) -> None:
    r = scenario("refusals")
    for key in ("bad_token_mine", "bad_token_submission"):
        assert r[key]["raised"] == "AuthenticationError", key
        assert (r[key]["status_code"], r[key]["message"]) == (401, "Invalid API key"), key
    assert r["creator_scope"]["raised"] == "PermissionDeniedError"
    assert r["creator_scope"]["status_code"] == 403
    for key in (
        "unknown_challenge",
        "unknown_challenge_create",
        "unknown_challenge_board",
        "hidden_challenge",
    ):
        assert r[key]["raised"] == "ChallengeNotFoundError", key
        assert (r[key]["status_code"], r[key]["message"]) == (404, "Challenge not found"), key

    assert r["other"] == {"id": 1, "username": "bob"}
    for key in ("other_submission", "other_files", "other_deploy", "other_delete"):
        assert r[key]["raised"] == "SubmissionNotFoundError", key
        assert (r[key]["status_code"], r[key]["message"]) == (404, "Submission not found"), key
    assert r["unknown_submission"] == r["other_submission"]  # "not yours" reads as "missing"
    assert r["creator_scope"]["message"] == "Key scope 'creator' cannot access 'user' route"

    # a teammate's submission is readable, and only its owner writes
    assert r["teammate"] == {
        "viewer_role": "teammate",
        "challenge_id": 2,
        "submission_name": "bob-team-parity",
        "owner": "bob",
        "team": "parity-pals",
    }
    assert r["teammate_files"] == ["submission.csv"]
    assert r["teammate_csv"] == "id,prediction\n1,1\n2,0\n3,1\n"
    assert r["teammate_deploys"] == []
    for key in ("teammate_write", "teammate_deploy"):
        assert r[key]["raised"] == "SubmissionNotFoundError", key
        assert (r[key]["status_code"], r[key]["message"]) == (404, "Submission not found"), key


def test_rejected_upload_and_failed_deploy(scenario: Callable[[str], Result]) -> None:
    r = scenario("failures")
    rejected = r["rejected_upload"]
    assert (rejected["raised"], rejected["status_code"]) == ("SubmissionError", None)
    assert "did not pass upload validation: agent.py is missing" in rejected["message"]
    assert (rejected["body"]["status"], rejected["body"]["latest_deploy"]) == (
        "upload_failed",
        None,
    )

    broken = r["broken"]
    assert (broken["raised"], broken["status_code"]) == ("SubmissionError", None)
    assert broken["message"].startswith(
        "Deploy failed: the agent raised ModuleNotFoundError: "
        "No module named 'missing_dependency_xyz'\nTraceback (most recent call last):"
    )
    assert broken["message"].endswith("\n (failure_owner: participant)")
    assert broken["body"]["status"] == "deploy_failed"
    assert r["broken_status"] == {"status": "deploy_failed", "phase": "upload", "is_settled": True}
    assert r["broken_latest_deploy"]["status"] == "failed"
    assert r["broken_latest_deploy"]["failure_owner"] == "participant"
    assert r["broken_runs"] == [{"job_status": "completed", "agent_error_type": ["code_error"]}]


def test_deploy_over_quota_is_a_409_with_the_limits(
    scenario: Callable[[str], Result], arena46: FakeArena
) -> None:
    arena46.set_deploy_limit(1)
    r = scenario("quota")
    assert r["first"] == "active"
    limits = r["limits"]["deployment_limits"]
    assert (limits["daily_deploy_limit"], limits["daily_deploys_used"]) == (1, 1)
    assert (limits["daily_deploys_remaining"], limits["can_deploy"]) == (0, False)
    for key in ("again", "second_deploy"):
        refused = r[key]
        assert (refused["raised"], refused["status_code"]) == ("SubmissionError", 409), key
        assert refused["message"] == "deploy_submission failed: Daily deployment limit (1) reached"
        assert refused["body"]["deployment_limits"] == limits, key
        assert (
            refused["body"]["active_submission_limits"] == r["limits"]["active_submission_limits"]
        )
    assert r["second_create"] == {"status": "created", "is_deployable": False}
    assert r["second_upload"]["status"] == "upload_validated"
    assert r["mine_limits"] == limits


def test_file_changes_during_a_deploy_are_a_409(sdk46: SdkRun, tmp_path: Path) -> None:
    with FakeArena(api="v4.6", queue_seconds=60) as busy:  # its deploys stay queued
        r = sdk46(busy, "busy", tmp_path)
    queue = {"queue_position": 1, "queue_total": 1, "in_queue_for_second": 0}
    assert r["during"]["queue_info"].items() >= queue.items()
    assert {k: r["during"][k] for k in ("status", "is_uploadable", "is_settled")} == {
        "status": "deploy_queue",
        "is_uploadable": False,
        "is_settled": False,
    }
    reason = (
        "Cannot change files of a submission in 'deploy_queue' state: wait until the deploy settles"
    )
    for key, method in (
        ("put", "update_submission_file_content"),
        ("delete_file", "delete_submission_file"),
    ):
        assert (r[key]["raised"], r[key]["status_code"]) == ("SubmissionError", 409), key
        assert r[key]["message"] == f"{method} failed: {reason}"
        assert r[key]["body"]["is_uploadable"] is False, key
    assert r["files"] == ["agent.py"]  # nothing was taken
    assert r["tail"]["raised"] == "SubmissionError"
    assert r["tail"]["message"].startswith("tail_logs timed out after 0.5s: submission ")
    assert r["deploys"] == ["cancelled"]  # deleting the submission cancelled its deploy


def test_maintenance_is_a_maintenance_error(
    scenario: Callable[[str], Result], arena46: FakeArena
) -> None:
    arena46.faults.maintenance = "Upgrading the runners, back at 15:00"
    r = scenario("maintenance")
    for key in ("challenge", "mine", "board", "create"):
        assert r[key] == {
            "raised": "MaintenanceError",
            "status_code": 503,
            "message": "Upgrading the runners, back at 15:00",
            "body": {"error": "Upgrading the runners, back at 15:00", "maintenance_mode": True},
        }, key
