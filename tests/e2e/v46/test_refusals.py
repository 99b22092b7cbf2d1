"""What v4.6 refuses, said in one sentence, nothing written: a teammate's submission (readable,
not ours to write: exit 4) and maintenance (exit 1, the admin's message, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import Cli
from helpers.project import Project

from mlarena_sync.arena import FakeArena

from .kit import AGENT_PY, code_project, stored, writes

TEAM_SID = 2  # bob's "bob-team-parity" on challenge 2; alice is his teammate
BOB_CSV_ROWS = 3


@pytest.mark.parametrize(
    ("name", "remedy"),
    [
        (None, "or replace it with agent.name to create a new agent"),
        ("my-parity", "or remove it to create a new agent named 'my-parity'"),
    ],
)
def test_a_teammates_submission_is_refused_as_not_yours(
    name: str | None, remedy: str, cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    before = stored(arena46, TEAM_SID, "submission.csv")
    assert before is not None and before.count(b"\n") >= BOB_CSV_ROWS
    project = Project(tmp_path / "proj", arena46.url)
    project.root.mkdir(parents=True)
    project.config.write_text(
        f"version: 1\nserver: {arena46.url}\ncompetition: 2\nentry: submission.csv\n"
        f"agent:\n  id: {TEAM_SID}\n"
        + (f"  name: {name}\n" if name else "")
        + "files:\n  root: agent\ndeploy:\n  check: null\n",
        encoding="utf-8",
    )
    project.write("submission.csv", "id,prediction\n1,1\n2,0\n")

    res = cli("-C", str(project.dir), "push")

    assert res.code == 4, res.text
    assert f"agent {TEAM_SID}" in res.err and "is not yours to change" in res.err, res.err
    assert "teammate" in res.err, res.err
    # the way out: a submission of one's own (push --force would not get past this)
    own = "set `id:` under `submission:` in mlarena.yaml to a submission of your own"
    assert own in res.err, res.err
    assert remedy in res.err and "push --force" not in res.err, res.err
    assert "Traceback" not in res.text
    assert writes(arena46.counters) == {}
    assert stored(arena46, TEAM_SID, "submission.csv") == before
    assert arena46.deploy_count(TEAM_SID) == 0
    assert arena46.agent_status(TEAM_SID) == "upload_validated"


@pytest.mark.parametrize("when", ["first-run", "bound"])
def test_maintenance_is_one_line_naming_it_and_the_admins_text(
    when: str, cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    """``first-run``: maintenance answers the generation probe; ``bound``: a later push."""
    project = code_project(tmp_path, arena46.url, extra="deploy:\n  check: null\n")
    if when == "bound":
        assert cli("-C", str(project.dir), "push", "--wait").code == 0
        project.write("agent.py", AGENT_PY + "# v2\n")
    arena46.reset_counters()
    arena46.faults.maintenance = "Back at 15:00 after the upgrade"

    res = cli("-C", str(project.dir), "push")

    assert res.code == 1, res.text
    error, hint = [ln for ln in res.err.splitlines() if ln.strip()]  # the error, what to do
    assert "maintenance" in error and "Back at 15:00 after the upgrade" in error, error
    assert hint.startswith("  hint: ") and "nothing was changed" in hint, hint
    assert "Traceback" not in res.text
    assert writes(arena46.counters) == {}
    generations = project.state_dir / "api.json"
    assert generations.exists() == (when == "bound")  # nothing learnt from a 503
