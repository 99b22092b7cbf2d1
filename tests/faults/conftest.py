"""Fixtures of the fault, bad-input and secrets matrices."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import structlog

from ._kit import Cli, Result


@pytest.fixture(autouse=True)
def _fresh_structlog() -> None:
    """An in-process CLI run binds structlog to that test's captured stdout; later code that
    logs (the client, here) must not write to that closed stream."""
    structlog.reset_defaults()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``mlarena_sync.cli.main`` run in-process; its exit code and captured output."""
    from mlarena_sync.cli import main

    def run(args: Sequence[str]) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        finally:
            structlog.reset_defaults()
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
