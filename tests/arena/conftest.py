"""Fixtures for the fake arena's route-level tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from arena_helpers import Api

from mlarena_sync.arena import FakeArena


@pytest.fixture
def alice(arena: FakeArena) -> Iterator[Api]:
    api = Api(arena.url, arena.user_token)
    yield api
    api.close()


@pytest.fixture
def bob(arena: FakeArena) -> Iterator[Api]:
    api = Api(arena.url, arena.other_token)
    yield api
    api.close()


@pytest.fixture
def anon(arena: FakeArena) -> Iterator[Api]:
    api = Api(arena.url, None)
    yield api
    api.close()
