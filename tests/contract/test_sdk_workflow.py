"""Contract: the official client ``mlarena-sdk==0.2.0`` drives the fake arena unchanged.

The workflow test is the SDK README's "Full participant workflow", step for step, with only
the token and base URL filled in. 0.2.0 speaks the v0 routes: this module's arena is an explicit
``FakeArena(api="v0")`` (the default generation is today's, v4.6).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import mlarena
import pytest
import requests
from mlarena import AuthenticationError, CompetitionNotFoundError, SubmissionError

from mlarena_sync.arena import FakeArena

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


@pytest.fixture(scope="module")
def arena_v0() -> Iterator[FakeArena]:
    """A fake arena speaking the v0 routes, for this module."""
    server = FakeArena(api="v0")
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def arena(arena_v0: FakeArena) -> Iterator[FakeArena]:
    """The module's v0 arena, reset: fresh seeded store, no faults, counters at zero."""
    arena_v0.reset()
    yield arena_v0
    arena_v0.faults.clear()


class MyAgent:
    def predict(self, observation):  # type: ignore[no-untyped-def]
        return 0


@pytest.fixture
def agent_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "agent.py").write_text(AGENT_SOURCE)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"gain": 0.5}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_full_participant_workflow(
    arena: FakeArena, agent_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    # ---- the SDK README's workflow, unchanged but for the token and URL ----
    c = mlarena.connect(arena.user_token, base_url=arena.url)

    cid = 1  # competition id

    # 1. Pick a runner (language × framework)
    runtimes = c.runtime_options(cid)
    py_gym = c.resolve_runtime(cid, language="python", framework="gymnasium")

    # 2. Create the agent + pin runner + upload files + deploy in one call
    sub = c.submit(cid, files=["agent.py", "model.pkl"], runtime_id=py_gym["id"])
    aid = sub["attache_agent_id"]

    # 3. Inspect / edit a file in place after the initial upload
    src = c.get_agent_file_content(cid, aid, "agent.py")
    c.update_agent_file_content(cid, aid, "agent.py", src.replace("epsilon=0.1", "epsilon=0.05"))
    c.deploy_agent(cid, aid)  # redeploy after edit

    # 4. Watch status / run progress until terminal
    for line in c.tail_logs(cid, aid):
        print(line)

    # 5. Pull stdout from completed games via signed URLs (60d retention)
    for game in c.agent_games(aid)["games"]:
        if game["signed_url"]:
            print(requests.get(game["signed_url"]).text)

    # 6. Read the leaderboard
    print(c.leaderboard(cid).head())
    # ---- end of the README workflow ----

    out = capsys.readouterr().out
    assert time.monotonic() - started < 12
    assert len(runtimes) == 2
    assert sub["deploy"]["status"] == "deploy_queue"
    assert "[active] Deployed: mean reward" in out
    assert "loaded model, epsilon = 0.05" in out  # the edited file ran
    assert "[arena] episode 3/3" in out
    assert "bob-baseline" in out

    assert c.agent_runtime(aid)["id"] == py_gym["id"]
    deploys = c.agent_deploy_status(cid, aid)
    assert deploys["latestDeploy"]["status"] == "succeeded"
    assert deploys["deploymentLimits"]["daily_deploys_used"] == 2  # the cancelled one counts
    assert arena.deploy_count(aid) == 2

    files = c.list_agent_files(cid, aid)["files"]
    assert files["model.pkl"]["is_binary"] is True and files["model.pkl"]["content"] is None
    assert "epsilon=0.05" in files["agent.py"]["content"]
    deleted = c.delete_agent_file(cid, aid, "model.pkl")
    assert deleted["status"] == "upload_validated"
    assert sorted(c.list_agent_files(cid, aid)["files"]) == ["agent.py"]
    board = c.leaderboard(cid)
    assert aid not in list(board["agentAttachId"])  # back in the upload phase after the edit
    assert len(c.competitions()) == 2
    assert c.competition(cid)["max_upload_files"] == 1000


def test_quick_start_submit_agent_class(arena: FakeArena) -> None:
    client = mlarena.connect(arena.user_token, base_url=arena.url)
    result = client.submit(competition_id=1, agent=MyAgent)
    assert result["deploy"]["status"] == "deploy_queue"
    lines = list(client.tail_logs(1, result["attache_agent_id"], poll_sec=0.1, timeout_sec=10))
    assert lines[-1].startswith("[active]")
    assert client.status()["status"] == "active"
    files = client.list_agent_files(1, result["attache_agent_id"])["files"]
    assert "class MyAgent" in files["agent.py"]["content"]


def test_broken_agent_ends_deploy_failed_with_its_traceback(
    arena: FakeArena, tmp_path: Path
) -> None:
    path = tmp_path / "agent.py"
    path.write_text(
        "import missing_dependency_xyz\n\n\n"
        "class Agent:\n    def predict(self, o):\n        return 0\n"
    )
    client = mlarena.connect(arena.user_token, base_url=arena.url)
    sub = client.submit(1, files=[str(path)])
    lines = list(client.tail_logs(1, sub["attache_agent_id"], poll_sec=0.1, timeout_sec=10))
    assert lines[-1].startswith("[deploy_failed]")
    status = client.agent_status(1, sub["attache_agent_id"])
    assert status["status"] == "deploy_failed"
    assert "ModuleNotFoundError" in status["last_status_message"]
    assert "Traceback (most recent call last)" in status["last_status_message"]


def test_refusals_map_to_sdk_errors(arena: FakeArena) -> None:
    bad = mlarena.connect("mlk_user_nobody_not_a_secret", base_url=arena.url)
    with pytest.raises(AuthenticationError):
        bad.agent_status(1, 1)
    creator = mlarena.connect(arena.creator_token, base_url=arena.url)
    with pytest.raises(AuthenticationError, match="'user' scope"):
        creator.create_attached_agent(1, "nope")
    alice = mlarena.connect(arena.user_token, base_url=arena.url)
    with pytest.raises(CompetitionNotFoundError):
        alice.agent_status(1, 1)  # bob's seeded agent: not alice's
    with pytest.raises(CompetitionNotFoundError):
        alice.competition(3)  # hidden

    arena.set_deploy_limit(1)
    agent = alice.create_attached_agent(1, "quota")["attache_agent_id"]
    alice.update_agent_file_content(
        1, agent, "agent.py", "class Agent:\n    def predict(self, o):\n        return 0\n"
    )
    alice.deploy_agent(1, agent)
    list(alice.tail_logs(1, agent, poll_sec=0.1, timeout_sec=10))
    with pytest.raises(SubmissionError, match=r"Daily deployment limit \(1\) reached"):
        alice.deploy_agent(1, agent)
    broken = alice.create_attached_agent(1, "broken")["attache_agent_id"]
    alice.update_agent_file_content(1, broken, "agent.py", "x = 1\n")
    with pytest.raises(SubmissionError, match="Cannot deploy agent in 'upload_failed' state"):
        alice.deploy_agent(1, broken)
