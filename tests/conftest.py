"""Shared fixtures: a hermetic environment, the fake arena (one server per API generation and
session, reset per test) and the one in-process CLI runner. Helpers live in ``tests/helpers``
(``import helpers``: this rootdir conftest puts ``tests/`` on ``sys.path``).

Sockets (pytest-socket): loopback only (127.0.0.1, ::1) for every test, through ``addopts`` in
pyproject.toml; none at all in ``tests/unit`` (its conftest).

Generations: every test under ``tests/e2e`` that uses the arena (``api_generation`` in its
fixture closure: ``arena``, ``token``, ``project``...) is generated once per API generation, ids
``[v0]`` and ``[v4.6]``. ``@pytest.mark.api("v0")`` restricts a test to the generations it names:
it is not generated for the others (not skipped). Elsewhere (``tests/api``, ``tests/contract``:
v0 adapters and SDK 0.2.0 against ``arena``) the arena stays v0 unless a test is so marked.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from helpers.arena import fresh, running_arena
from helpers.cli import Cli, Result, run_cli

from mlarena_sync.api.interface import GENERATIONS, Generation
from mlarena_sync.arena import FakeArena

E2E = Path(__file__).resolve().parent / "e2e"

#: Every event the code emits during the session is checked against docs/events.md at its end.
pytest_plugins = ["helpers.event_catalog"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per API generation (see the module docstring)."""
    if "api_generation" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("api")
    if marker is not None:
        generations = list(marker.args)
        unknown = [g for g in generations if g not in GENERATIONS]
        assert generations and not unknown, f"@pytest.mark.api{marker.args}: use {GENERATIONS}"
    elif metafunc.definition.path.is_relative_to(E2E):
        generations = list(GENERATIONS)
    else:
        return
    metafunc.parametrize(
        "api_generation", generations, ids=generations, indirect=True, scope="session"
    )


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
def api_generation(request: pytest.FixtureRequest) -> Generation:
    """The API generation the test's arena speaks (``"v0"`` where the test is not generated
    per generation). A test starting its own FakeArena gives it this one."""
    generation: Generation = getattr(request, "param", "v0")
    return generation


@pytest.fixture(scope="session")
def arena_server(api_generation: Generation) -> Iterator[FakeArena]:
    """One fake arena per generation for the whole session, on 127.0.0.1 and a free port."""
    with running_arena(api_generation, "127.0.0.1") as server:
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
