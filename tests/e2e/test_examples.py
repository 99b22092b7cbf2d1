"""examples/: the CartPole agent deploys and plays; the CI workflow's command line works.

Both run against the fake arena with a copy of the example in tmp_path (the state folder and
the agent binding land there, never in the checkout).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO
from helpers.arena import open_client

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import main
from mlarena_sync.config.model import load_config

EXAMPLE = REPO / "examples" / "cartpole-agent"
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
COMPETITION = 1
MAX_STEPS_REWARD = 200.0  # the fake arena's episodes last at most 200 steps, 1 point each


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".mlarena-sync"))
    return dest


def my_row_reward(arena: FakeArena) -> float | None:
    with open_client(arena) as client:
        rows = [row for row in client.leaderboard(COMPETITION) if row.is_mine]
    assert len(rows) == 1, rows
    return rows[0].mean_reward


def my_agent_status(arena: FakeArena) -> str:
    with open_client(arena) as client:
        (row,) = [row for row in client.leaderboard(COMPETITION) if row.is_mine]
        assert row.agent_id is not None
        return client.status(COMPETITION, row.agent_id).status


def test_example_files_are_what_the_readme_says() -> None:
    target = load_config(EXAMPLE / "mlarena.yaml").target(None)  # the real, strict loader
    assert target.competition == COMPETITION
    assert target.runtime is not None
    assert (target.runtime.language, target.runtime.framework) == ("python", "gymnasium")
    assert target.deploy.check == "python -m py_compile agent.py policy.py"
    agent = (EXAMPLE / "agent.py").read_text(encoding="utf-8")
    assert "class Agent" in agent and "def predict(self, observation" in agent
    assert "from policy import" in agent  # a helper imported by name: flat remote storage
    assert "os.path.dirname(" in agent and "weights.json" in agent
    assert (EXAMPLE / "weights.json").is_file()


def test_example_agent_deploys_and_balances_the_pole(
    arena: FakeArena, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_example(tmp_path / "cartpole-agent")
    monkeypatch.setenv("MLARENA_API_KEY", arena.user_token)

    rc = main(["-C", str(folder), "--server", arena.url, "push", "--wait"])

    assert rc == 0
    assert my_agent_status(arena) == "active"
    # A linear policy that keeps the pole up for every step of every episode.
    assert my_row_reward(arena) == MAX_STEPS_REWARD
    assert (folder / ".mlarena-sync").is_dir()
    assert not (EXAMPLE / ".mlarena-sync").exists()


def workflow_push_step() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "mlarena-sync" in step.get("run", "") and " push" in step["run"]
    ]
    assert len(steps) == 1, "the workflow should have exactly one `mlarena-sync ... push` step"
    step: dict[str, Any] = steps[0]
    return step


def test_ci_workflow_deploys_on_merge_to_main_with_the_secret() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["push"]["branches"] == ["main"]
    step = workflow_push_step()
    assert step["env"] == {"MLARENA_API_KEY": "${{ secrets.MLARENA_API_KEY }}"}
    assert "--wait" in shlex.split(step["run"])


def test_ci_workflow_command_line_pushes_against_the_fake_arena(
    arena: FakeArena, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    copy_example(checkout / "examples" / "cartpole-agent")
    argv = shlex.split(workflow_push_step()["run"])
    assert argv[0] == "mlarena-sync"
    env = dict(os.environ)
    env["MLARENA_API_KEY"] = arena.user_token  # what the secret holds
    env["MLARENA_SERVER"] = arena.url  # the only change from a real CI run
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))

    done = subprocess.run(
        [sys.executable, "-m", "mlarena_sync", *argv[1:]],
        cwd=checkout,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert arena.user_token not in done.stdout + done.stderr
    assert my_agent_status(arena) == "active"


def test_every_package_ships_in_the_wheel() -> None:
    """pyproject lists packages by hand (to map examples/ in): a new subpackage must be added."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    on_disk = {
        ".".join(module.parent.relative_to(REPO).parts)
        for module in (REPO / "mlarena_sync").rglob("*.py")
        if "__pycache__" not in module.parts
    }
    assert set(setuptools["packages"]) == on_disk | {"mlarena_sync.examples"}
    assert setuptools["package-dir"] == {"mlarena_sync.examples": "examples"}
    assert setuptools["package-data"]["mlarena_sync.examples"] == ["cartpole-agent/*"]
