"""The CLI in-process: one ``run_cli`` (behind the ``cli`` fixture), one call shape:
``cli("-C", str(project.dir), "push")``, returning a :class:`Result`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import structlog


@dataclass
class Result:
    """A CLI run: exit code and captured output."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def __iter__(self) -> Iterator[Any]:
        """``code, out, err = result``."""
        return iter((self.code, self.out, self.err))


class HasDir(Protocol):
    @property
    def dir(self) -> Any: ...


#: The ``cli`` fixture: ``cli(*argv) -> Result``.
Cli = Callable[..., Result]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """``mlarena_sync.cli.main.main(args)`` in-process; its exit code and captured output."""
    from mlarena_sync.cli.main import main

    capsys.readouterr()
    try:
        code = main(list(args))
    finally:
        # main() bound structlog to this capture; later code in the same test (a client) must not
        # log into it. Between tests, the root conftest resets it too.
        structlog.reset_defaults()
    out, err = capsys.readouterr()
    return Result(code, out, err)


def in_project(project: HasDir, *args: str) -> list[str]:
    """``-C <project> *args``."""
    return ["-C", str(project.dir), *args]


def push_args(project: HasDir, *extra: str) -> list[str]:
    """``-C <project> push --no-deploy *extra``."""
    return in_project(project, "push", "--no-deploy", *extra)


def push(cli: Cli, project: HasDir, *extra: str) -> Result:
    """``push --no-deploy`` in ``project``."""
    return cli(*push_args(project, *extra))


class HasAgent(HasDir, Protocol):
    def agent_id(self) -> int | None: ...


def push_ok(cli: Cli, project: HasAgent, *flags: str) -> int:
    """A push that must succeed (``--no-deploy`` unless flags are given); the bound agent id."""
    res = cli(*in_project(project, "push", *(flags or ("--no-deploy",))))
    assert res.code == 0, res.text
    aid = project.agent_id()
    assert aid is not None, "the push bound no agent"
    return aid
