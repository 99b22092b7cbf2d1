"""Fixtures of the watch tests (the helpers are in ``helpers.watch``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.watch import StartWatch, watch_starter


@pytest.fixture
def start_watch() -> Iterator[StartWatch]:
    """``start_watch(project, arena, token=, clock=, source=, **watch_options)``: a watch in a
    thread; stopped at the end of the test."""
    with watch_starter() as start:
        yield start
