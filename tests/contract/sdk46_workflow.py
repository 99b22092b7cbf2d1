"""A participant's session with the official ``mlarena-sdk==4.6.0``, unchanged: only the tokens
and the base URL are filled in (``SDK46_TOKEN``, ``SDK46_CREATOR_TOKEN``, ``SDK46_URL``).

Run by ``test_sdk46_workflow.py`` in a child process whose ``PYTHONPATH`` holds SDK 4.6.0 (the
venv has 0.2.0, the same ``mlarena`` package): ``python sdk46_workflow.py <scenario>`` in an
empty working folder. It prints one JSON line, what the test asserts on. A refusal the SDK
raises is recorded as ``{"raised": <class>, "status_code", "message", "body"}``.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlarena
from mlarena import MLArenaError

URL = os.environ["SDK46_URL"]
TOKEN = os.environ["SDK46_TOKEN"]  # alice, user scope
CREATOR_TOKEN = os.environ["SDK46_CREATOR_TOKEN"]  # carol, creator scope
CID = 1  # "CartPole Balance", a code challenge
POLL = 0.1  # the SDK polls every 5 s by default; the fake arena settles a deploy in < 2 s
WAIT = 30.0

AGENT_SOURCE = """import os
import pickle

HERE = os.path.dirname(os.path.abspath(__file__))


class Agent:
    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon
        with open(os.path.join(HERE, "model.pkl"), "rb") as handle:
            self.gain = pickle.load(handle)["gain"]
        print("loaded model, epsilon =", self.epsilon)

    def predict(self, observation):
        return 1 if observation[2] + self.gain * observation[3] > 0 else 0
"""

BROKEN_AGENT = """import missing_dependency_xyz


class Agent:
    def predict(self, observation):
        return 0
"""

MODEL = pickle.dumps({"gain": 0.5})


class MyAgent:
    def predict(self, observation):  # type: ignore[no-untyped-def]
        return 0


def jsonable(value: Any) -> Any:
    """A DataFrame (the SDK returns one when pandas is installed) as its records."""
    if hasattr(value, "to_dict"):
        return json.loads(value.to_json(orient="records"))
    return value


def refusal(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        value = call()
    except MLArenaError as exc:
        return {
            "raised": type(exc).__name__,
            "status_code": exc.status_code,
            "message": str(exc),
            "body": exc.body,
        }
    return {"raised": None, "value": jsonable(value)}


def my_stdout(runs: dict[str, Any], sid: int) -> list[str | None]:
    """``agent_stdout_logs`` of this submission's row of every run, newest run first."""
    out = []
    for run in runs["runs"]:
        (mine,) = [row for row in run["submission_results"] if row["submission_id"] == sid]
        out.append(mine["agent_stdout_logs"])
    return out


def workflow() -> dict[str, Any]:
    Path("agent.py").write_text(AGENT_SOURCE)
    Path("model.pkl").write_bytes(MODEL)
    r: dict[str, Any] = {}

    # ---- the participant workflow of the SDK README, token and URL filled in ----
    c = mlarena.connect(TOKEN, base_url=URL)
    challenge = c.challenge(CID)
    r["challenge"] = {k: challenge.get(k) for k in ("entry_filename", "kernel_version")}
    r["runtimes"] = jsonable(c.runtime_options(CID))
    runtime = c.resolve_runtime(CID, language="python", framework="gymnasium")

    # create → pin the runtime → upload each file → is_deployable → deploy → wait
    sub = c.submit(
        CID,
        files=["agent.py", "model.pkl"],
        runtime_id=runtime["id"],
        wait=True,
        timeout_sec=WAIT,
        poll_sec=POLL,
    )
    sid = sub["submission_id"]
    r["sid"] = sid
    r["submit"] = {"deploy": sub["deploy"], "status": sub["status"]}
    r["status_last"] = c.status()["status"]  # submit() remembers the submission

    r["submission"] = c.submission(sid)
    r["agent_runtime"] = c.agent_runtime(sid)

    # files: list, read, download, upload, edit, delete
    r["files_1"] = c.list_submission_files(CID, sid)["files"]
    r["agent_py"] = c.get_submission_file_content(CID, sid, "agent.py")
    r["binary_as_text"] = refusal(lambda: c.get_submission_file_content(CID, sid, "model.pkl"))
    saved = c.download_submission_file(CID, sid, "model.pkl", dest_dir="downloads")
    r["download"] = {"path": os.path.relpath(saved), "same": Path(saved).read_bytes() == MODEL}
    Path("README.md").write_text("# my agent\n")
    r["upload_readme"] = c.upload_submission_file(CID, sid, "README.md")
    r["edit"] = c.update_submission_file_content(
        CID, sid, "agent.py", AGENT_SOURCE.replace("epsilon=0.1", "epsilon=0.05")
    )
    r["files_2"] = c.list_submission_files(CID, sid)["files"]
    r["delete_readme"] = c.delete_submission_file(CID, sid, "README.md")
    r["files_3"] = [f["name"] for f in c.list_submission_files(CID, sid)["files"]]

    # redeploy the edited agent and follow it to the end
    r["redeploy"] = c.deploy_submission(CID, sid)
    r["tail"] = list(c.tail_logs(CID, sid, poll_sec=POLL, timeout_sec=WAIT))
    r["after_redeploy"] = c.submission(sid)

    # runs (stdout on our own row), attempts, quota
    runs = c.submission_runs(sid)
    r["runs"] = {k: runs[k] for k in ("total", "retention_days", "challenge_context")}
    r["runs_deploy_ids"] = [run["submission_deploy_id"] for run in runs["runs"]]
    r["runs_stdout"] = my_stdout(runs, sid)
    latest = r["after_redeploy"]["latest_deploy"]["id"]
    r["runs_latest_total"] = c.submission_runs(sid, deploy_id=latest)["total"]
    r["runs_page"] = len(c.submission_runs(sid, limit=2)["runs"])
    r["deploys"] = c.submission_deploys(sid)["deploys"]
    r["deploy_status"] = c.submission_deploy_status(CID, sid)

    # the board and my submissions
    board = c.leaderboard(CID)
    r["leaders"] = jsonable(board)
    r["board_attrs"] = {k: v for k, v in getattr(board, "attrs", board).items() if k != "leaders"}
    r["mine"] = c.my_submissions()

    # the quick start: an agent class, no wait
    quick = c.submit(challenge_id=CID, agent=MyAgent)
    r["quick"] = quick
    r["quick_tail"] = list(
        c.tail_logs(CID, quick["submission_id"], poll_sec=POLL, timeout_sec=WAIT)
    )
    r["quick_agent_py"] = c.get_submission_file_content(CID, quick["submission_id"], "agent.py")

    # delete the first submission: gone from my list, still readable as deleted
    r["delete"] = c.delete_submission(CID, sid)
    r["mine_after_delete"] = [row["id"] for row in c.my_submissions()["submissions"]]
    r["deleted"] = refusal(lambda: c.submission(sid)["status"])
    return r


def refusals() -> dict[str, Any]:
    r: dict[str, Any] = {}
    c = mlarena.connect(TOKEN, base_url=URL)
    bad = mlarena.connect("mlk_user_nobody_not_a_secret", base_url=URL)
    r["bad_token_mine"] = refusal(bad.my_submissions)
    r["bad_token_submission"] = refusal(lambda: bad.submission(1))
    creator = mlarena.connect(CREATOR_TOKEN, base_url=URL)
    r["creator_scope"] = refusal(lambda: creator.create_submission(CID, "nope"))
    r["unknown_challenge"] = refusal(lambda: c.challenge(999))
    r["unknown_challenge_create"] = refusal(lambda: c.create_submission(999, "nope"))
    r["unknown_challenge_board"] = refusal(lambda: c.leaderboard(999))
    r["hidden_challenge"] = refusal(lambda: c.challenge(3))

    # someone else's submission: bob's, found on the board
    board = jsonable(c.leaderboard(CID))
    rows = board if isinstance(board, list) else board["leaders"]
    theirs = next(row for row in rows if not row["is_my_submission"])
    other = theirs["submission_id"]
    r["other"] = {"id": other, "username": theirs["username"]}
    r["other_submission"] = refusal(lambda: c.submission(other))
    r["other_files"] = refusal(lambda: c.list_submission_files(CID, other))
    r["other_deploy"] = refusal(lambda: c.deploy_submission(CID, other))
    r["other_delete"] = refusal(lambda: c.delete_submission(CID, other))
    r["unknown_submission"] = refusal(lambda: c.submission(99999))

    # a teammate's submission (bob's, challenge 2, team "parity-pals"): readable, not writable
    mate = c.submission(2)
    r["teammate"] = {k: mate[k] for k in ("viewer_role", "challenge_id", "submission_name")}
    r["teammate"]["owner"] = mate["owner"]["username"]
    r["teammate"]["team"] = mate["team"]["name"]
    r["teammate_files"] = [f["name"] for f in c.list_submission_files(2, 2)["files"]]
    r["teammate_csv"] = c.get_submission_file_content(2, 2, "submission.csv")
    r["teammate_deploys"] = c.submission_deploys(2)["deploys"]
    r["teammate_write"] = refusal(
        lambda: c.update_submission_file_content(2, 2, "submission.csv", "id,prediction\n")
    )
    r["teammate_deploy"] = refusal(lambda: c.deploy_submission(2, 2))
    return r


def failures() -> dict[str, Any]:
    r: dict[str, Any] = {}
    c = mlarena.connect(TOKEN, base_url=URL)
    # a rejected upload stops submit() before the deploy
    Path("notes.txt").write_text("no agent here\n")
    r["rejected_upload"] = refusal(lambda: c.submit(CID, files=["notes.txt"]))

    # an agent that fails at deploy: submit(wait=True) raises with the attempt's verdict
    Path("agent.py").write_text(BROKEN_AGENT)
    r["broken"] = refusal(
        lambda: c.submit(CID, files=["agent.py"], wait=True, timeout_sec=WAIT, poll_sec=POLL)
    )
    broken = c.status()
    r["broken_status"] = {k: broken[k] for k in ("status", "phase", "is_settled")}
    r["broken_latest_deploy"] = broken["latest_deploy"]
    runs = c.submission_runs(broken["id"])
    r["broken_runs"] = [
        {
            "job_status": run["job_status"],
            "agent_error_type": [
                row["agent_error_type"]
                for row in run["submission_results"]
                if row["submission_id"] == broken["id"]
            ],
        }
        for run in runs["runs"]
    ]
    return r


def quota() -> dict[str, Any]:
    """Run with a daily deploy limit of 1: the second deploy is a 409 carrying the limits."""
    r: dict[str, Any] = {}
    c = mlarena.connect(TOKEN, base_url=URL)
    first = c.submit(CID, agent=MyAgent, wait=True, timeout_sec=WAIT, poll_sec=POLL)
    sid = first["submission_id"]
    r["first"] = first["status"]["status"]
    r["limits"] = c.submission_deploy_status(CID, sid)
    r["again"] = refusal(lambda: c.deploy_submission(CID, sid))
    second = c.create_submission(CID, "second")
    r["second_create"] = {k: second.get(k) for k in ("status", "is_deployable")}
    r["second_upload"] = c.update_submission_file_content(
        CID, second["submission_id"], "agent.py", inspect.getsource(MyAgent)
    )
    r["second_deploy"] = refusal(lambda: c.deploy_submission(CID, second["submission_id"]))
    r["mine_limits"] = c.my_submissions()["deployment_limits"]
    return r


def busy() -> dict[str, Any]:
    """Run on an arena whose deploys stay queued: a file PUT during a deploy is a 409."""
    r: dict[str, Any] = {}
    c = mlarena.connect(TOKEN, base_url=URL)
    sub = c.submit(CID, agent=MyAgent)  # wait=False: the deploy is queued
    sid = sub["submission_id"]
    during = c.submission(sid)
    r["during"] = {k: during[k] for k in ("status", "is_uploadable", "is_settled", "queue_info")}
    r["put"] = refusal(lambda: c.update_submission_file_content(CID, sid, "agent.py", "x = 1\n"))
    r["delete_file"] = refusal(lambda: c.delete_submission_file(CID, sid, "agent.py"))
    r["files"] = [f["name"] for f in c.list_submission_files(CID, sid)["files"]]
    r["tail"] = refusal(lambda: list(c.tail_logs(CID, sid, poll_sec=POLL, timeout_sec=0.5)))
    r["delete"] = c.delete_submission(CID, sid)  # cancels the queued deploy
    r["deploys"] = [d["status"] for d in c.submission_deploys(sid)["deploys"]]
    return r


def maintenance() -> dict[str, Any]:
    """Run while the arena is in maintenance: every call is a ``MaintenanceError``."""
    c = mlarena.connect(TOKEN, base_url=URL)
    return {
        "challenge": refusal(lambda: c.challenge(CID)),
        "mine": refusal(c.my_submissions),
        "board": refusal(lambda: c.leaderboard(CID)),
        "create": refusal(lambda: c.create_submission(CID, "during maintenance")),
    }


SCENARIOS = {
    "workflow": workflow,
    "refusals": refusals,
    "failures": failures,
    "quota": quota,
    "busy": busy,
    "maintenance": maintenance,
}

if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]]()
    result["sdk_version"] = mlarena.__version__
    result["sdk_file"] = mlarena.__file__
    print(json.dumps(result, default=str))
