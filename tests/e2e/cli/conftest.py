"""Fixtures of the end-to-end CLI tests: a project folder on disk, ``main([...])`` in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _support
import pytest
from _project import ProjectDir
from _support import Result

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import main

API = _support.API
FILE_ROUTE = f"PUT {API}/competition/{{cid}}/{{aid}}/file"
DEPLOY_ROUTE = f"PUT {API}/competition/{{cid}}/{{aid}}/deploy"
CREATE_ROUTE = f"POST {API}/competition/{{cid}}"
RUNTIME_ROUTE = f"PUT {API}/agent_runtime/{{aid}}"

AGENT_PY = """\
from helper import SIDE


class Agent:
    def predict(self, observation):
        return SIDE if observation[2] > 0 else 1 - SIDE
"""
HELPER_PY = "SIDE = 1\n"


@dataclass
class Project(ProjectDir):
    url: str

    def agent_id(self) -> int:
        data = json.loads((self.dir / ".mlarena-sync" / "state.json").read_text())
        (entry,) = data["targets"].values()
        return int(entry["agent_id"])


def write_config(folder: Path, url: str, extra: str = "", **values: Any) -> None:
    sync = values.get("sync", "  mode: safe\n  delete: true\n  max_delete: 5\n")
    deploy = values.get("deploy", "  settle: 0.5\n  min_interval: 0\n  reserve: 0\n")
    text = (
        "version: 1\n"
        f"server: {url}\n"
        f"competition: {values.get('competition', 1)}\n"
        "agent:\n"
        f"  name: {values.get('name', 'cli-agent')}\n"
        "files:\n"
        "  root: agent\n"
        f"sync:\n{sync}"
        f"deploy:\n{deploy}"
        f"{extra}"
    )
    (folder / "mlarena.yaml").write_text(text, encoding="utf-8")


Cli = Callable[..., Result]


@pytest.fixture
def project(arena: FakeArena, tmp_path: Path) -> Project:
    folder = tmp_path / "proj"
    (folder / "agent").mkdir(parents=True)
    write_config(folder, arena.url)
    proj = Project(folder, arena.url)
    proj.write("agent.py", AGENT_PY)
    proj.write("lib/helper.py", HELPER_PY)
    proj.write("notes.txt", "keep calm\n")
    return proj


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], token: str) -> Cli:
    """``main([...])`` in-process, with the token in the environment; code and output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def push_ok(cli: Cli, project: Project, *flags: str) -> int:
    """A push that must succeed (``--no-deploy`` unless flags are given); the agent id."""
    res = cli(*in_project(project, "push", *(flags or ("--no-deploy",))))
    assert res.code == 0, res.text
    return project.agent_id()


def in_project(project: Project, *args: str) -> list[str]:
    return ["-C", str(project.dir), *args]


def remote_files(arena: FakeArena, token: str, aid: int, cid: int = 1) -> dict[str, Any]:
    return _support.remote_files(arena.url, token, aid, cid)


def remote_text(arena: FakeArena, token: str, aid: int) -> dict[str, str | None]:
    return {name: f["content"] for name, f in remote_files(arena, token, aid).items()}


def hits(counters: Mapping[str, int], route: str) -> int:
    return counters.get(route, 0)


def mutating(counters: Mapping[str, int]) -> dict[str, int]:
    return {k: v for k, v in counters.items() if k.split()[0] in {"PUT", "POST", "DELETE"} and v}


def args_of(*parts: str) -> Sequence[str]:
    return parts
