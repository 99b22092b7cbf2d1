"""A file challenge on v4.6 (challenge 2, ``file_v1``: one scored ``submission.csv``, no
runtime to pin): push uploads the file and deploys it."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli
from helpers.project import Project

from mlarena_sync.arena import FakeArena

from .kit import CREATE, DEPLOY, PIN_RUNTIME, PUT_FILE, stored, writes

SID = 101
CSV = "id,prediction\n1,1\n2,0\n3,1\n4,0\n"


def test_push_uploads_and_deploys_a_file_challenge_submission(
    cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    project = Project(tmp_path / "proj", arena46.url)
    project.root.mkdir(parents=True)
    project.config.write_text(
        f"version: 1\nserver: {arena46.url}\nchallenge: 2\nentry: submission.csv\n"
        "submission:\n  name: parity-guess\nfiles:\n  root: agent\ndeploy:\n  check: null\n",
        encoding="utf-8",
    )
    project.write("submission.csv", CSV)

    res = cli("-C", str(project.dir), "push", "--wait")

    assert res.code == 0, res.text
    assert f"pushed to agent {SID}: 1 uploaded" in res.out, res.out
    assert "deployed: live" in res.out, res.out
    assert writes(arena46.counters) == {CREATE: 1, PUT_FILE: 1, DEPLOY: 1}
    assert PIN_RUNTIME not in arena46.counters  # a file challenge has no runtime
    assert stored(arena46, SID, "submission.csv") == CSV.encode()
    assert arena46.agent_status(SID) == "active"
    assert arena46.deploy_count(SID) == 1

    arena46.reset_counters()
    again = cli("-C", str(project.dir), "push")
    assert again.code == 0, again.text
    assert writes(arena46.counters) == {}
