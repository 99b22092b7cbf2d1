"""Shared fixtures: a hermetic environment, the fake arena (one server per session, reset per
test) and the one in-process CLI runner. Helpers live in ``tests/helpers`` (``import helpers``:
this rootdir conftest puts ``tests/`` on ``sys.path``).

Sockets (pytest-socket): loopback only (127.0.0.1, ::1) for every test, through ``addopts`` in
pyproject.toml; none at all in ``tests/unit`` (its conftest).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
import structlog
from helpers.arena import fresh, running_arena
from helpers.cli import Cli, Result, run_cli

from mlarena_sync.arena import FakeArena


@pytest.fixture(autouse=True)
def _strip_mlarena_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's MLARENA_* variables (token, server, ...)."""
    for key in list(os.environ):
        if key.startswith("MLARENA_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _private_tempdir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temp folder is the test's own (``tempfile.tempdir`` in-process, ``TMPDIR`` for child
    processes): crash logs and temp files never land in the shared /tmp."""
    folder = tmp_path_factory.mktemp("tmp")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """A CLI run configures structlog with the test's captured stdout; undo it afterwards, so a
    later test's log events never go to a stream pytest has closed."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def arena_server() -> Iterator[FakeArena]:
    """One fake arena for the whole session, on 127.0.0.1 and a free port."""
    with running_arena("127.0.0.1") as server:
        yield server


@pytest.fixture
def arena(arena_server: FakeArena) -> Iterator[FakeArena]:
    """The session's fake arena, reset: fresh seeded store, no faults, counters at zero."""
    with fresh(arena_server) as server:
        yield server


@pytest.fixture
def token(arena: FakeArena, monkeypatch: pytest.MonkeyPatch) -> str:
    """Alice's token, exported as MLARENA_API_KEY for in-process CLI runs."""
    monkeypatch.setenv("MLARENA_API_KEY", arena.user_token)
    return arena.user_token


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI in-process: ``cli("-C", str(project.dir), "push")`` → :class:`Result` (exit
    code, captured stdout and stderr). The token is whatever the environment holds."""

    def run(*args: str) -> Result:
        return run_cli(capsys, *args)

    return run
