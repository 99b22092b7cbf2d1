"""Fixtures for the fake arena's route-level tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from arena_helpers import Api

from mlarena_sync.arena import FakeArena


@pytest.fixture
def alice(arena: FakeArena) -> Iterator[Api]:
    with Api(arena.url, arena.user_token) as api:
        yield api


@pytest.fixture
def bob(arena: FakeArena) -> Iterator[Api]:
    with Api(arena.url, arena.other_token) as api:
        yield api


@pytest.fixture
def anon(arena: FakeArena) -> Iterator[Api]:
    with Api(arena.url, None) as api:
        yield api
