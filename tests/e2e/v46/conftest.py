"""Fixtures of the v4.6 end-to-end tests: a fake arena speaking today's API (``api="v4.6"``)
for the whole session, reset per test, Alice's token in the environment, and a v0 twin for the
"both generations" tests. The CLI runs in-process through the root conftest's ``cli``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.watch import StartWatch, watch_starter

from mlarena_sync.arena import FakeArena

from .kit import SLOW_QUEUE_SECONDS, RequestLog


@pytest.fixture(scope="session")
def arena46_server() -> Iterator[tuple[FakeArena, RequestLog]]:
    """One v4.6 fake arena for the session on 127.0.0.1, with its request log (in order)."""
    log = RequestLog()
    server = FakeArena(api="v4.6", request_log=log.append)
    server.start("127.0.0.1", 0)
    try:
        yield server, log
    finally:
        server.stop()


@pytest.fixture
def requests_seen(arena46: FakeArena, arena46_server: tuple[FakeArena, RequestLog]) -> RequestLog:
    """The request lines the v4.6 arena served in this test, in order (``"GET /api/..."``)."""
    return arena46_server[1]


@pytest.fixture
def arena46(arena46_server: tuple[FakeArena, RequestLog]) -> Iterator[FakeArena]:
    """The session's v4.6 arena, reset (fresh seeded store, no faults, counters at zero); after
    the test, its deploys are left to settle and the queue time is restored."""
    server, log = arena46_server
    queue_seconds = server.simulator.queue_seconds
    server.reset()
    log.clear()
    try:
        yield server
    finally:
        server.faults.clear()
        server.wait_deploys_idle(SLOW_QUEUE_SECONDS * 3)
        server.simulator.queue_seconds = queue_seconds


@pytest.fixture
def alice(arena46: FakeArena, monkeypatch: pytest.MonkeyPatch) -> str:
    """Alice's token as MLARENA_API_KEY (the CLI reads it from there, as a user's shell)."""
    monkeypatch.setenv("MLARENA_API_KEY", arena46.user_token)
    return arena46.user_token


@pytest.fixture
def slow_queue(arena46: FakeArena) -> FakeArena:
    """The v4.6 arena with deploys waiting :data:`SLOW_QUEUE_SECONDS` in the queue."""
    arena46.simulator.queue_seconds = SLOW_QUEUE_SECONDS
    return arena46


@pytest.fixture(scope="session")
def arena0_server() -> Iterator[tuple[FakeArena, RequestLog]]:
    """A v0 fake arena (the seed's generation) for the tests run on both generations."""
    log = RequestLog()
    server = FakeArena(api="v0", request_log=log.append)
    server.start("127.0.0.1", 0)
    try:
        yield server, log
    finally:
        server.stop()


@pytest.fixture
def arena0(arena0_server: tuple[FakeArena, RequestLog]) -> Iterator[FakeArena]:
    """The session's v0 arena, reset."""
    server, log = arena0_server
    server.reset()
    log.clear()
    try:
        yield server
    finally:
        server.faults.clear()
        server.wait_deploys_idle(10)


@pytest.fixture
def requests_seen_v0(arena0: FakeArena, arena0_server: tuple[FakeArena, RequestLog]) -> RequestLog:
    """The request lines the v0 arena served in this test, in order."""
    return arena0_server[1]


@pytest.fixture
def start_watch() -> Iterator[StartWatch]:
    """``start_watch(project, arena, **watch_options)``: an in-process watch in a thread,
    reporting to an EventRecorder; stopped at the end of the test."""
    with watch_starter() as start:
        yield start
