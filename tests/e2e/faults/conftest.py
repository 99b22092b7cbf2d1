"""Fixtures of the fault, bad-input and secrets matrices."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import structlog

from ._kit import Cli, Result


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``mlarena_sync.cli.main.main`` run in-process; its exit code and captured output."""
    from mlarena_sync.cli.main import main

    def run(args: Sequence[str]) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        finally:
            # main() bound structlog to this capture; later code in the same test (the client)
            # must not log into it. Between tests, tests/conftest.py resets it.
            structlog.reset_defaults()
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
