"""Fixtures for the fake arena's route-level tests.

``arena_server`` is overridden here: the v0 tests of this folder speak v0 whatever the
session-wide default is; the v4.6 tests use ``arena_v4`` (its own server, reset per test).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from arena_helpers import Api
from arena_v4_helpers import Api4

from mlarena_sync.arena import FakeArena


@pytest.fixture(scope="session")
def arena_server() -> Iterator[FakeArena]:
    """One v0 fake arena for this folder's v0 tests."""
    server = FakeArena(api="v0")
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def arena_v4_server() -> Iterator[FakeArena]:
    """One v4.6 fake arena for the v4.6 tests."""
    server = FakeArena(api="v4.6", queue_seconds=0.05)
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def arena_v4(arena_v4_server: FakeArena) -> Iterator[FakeArena]:
    """The v4.6 arena, reset: fresh seeded store, no faults, counters at zero."""
    arena_v4_server.reset()
    yield arena_v4_server
    arena_v4_server.faults.clear()


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


@pytest.fixture
def alice4(arena_v4: FakeArena) -> Iterator[Api4]:
    with Api4(arena_v4.url, arena_v4.user_token) as api:
        yield api


@pytest.fixture
def bob4(arena_v4: FakeArena) -> Iterator[Api4]:
    with Api4(arena_v4.url, arena_v4.other_token) as api:
        yield api


@pytest.fixture
def anon4(arena_v4: FakeArena) -> Iterator[Api4]:
    with Api4(arena_v4.url, None) as api:
        yield api
