"""Fixtures of the end-to-end CLI tests: Alice's token in the environment, a project on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.project import Project, make_project

from mlarena_sync.arena import FakeArena


@pytest.fixture(autouse=True)
def _logged_in(request: pytest.FixtureRequest) -> None:
    """A test here that runs the CLI through ``cli`` does so as Alice: her token is
    MLARENA_API_KEY (the ``token`` fixture). Tests calling ``main`` themselves choose."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("token")


@pytest.fixture
def project(arena: FakeArena, tmp_path: Path) -> Project:
    """``agent.py`` importing ``lib/helper.py``, and ``notes.txt``; not pushed yet."""
    return make_project(tmp_path, arena.url, "cli")
