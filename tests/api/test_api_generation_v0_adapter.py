"""The v0 adapter (ArenaClient) as an Arena: the operations v0 can offer, what it cannot, and
a v0 route that went away (today's server) told apart from a missing agent."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mlarena_sync.api.http import Timeouts
from mlarena_sync.api.interface import Arena
from mlarena_sync.api.v0 import ArenaClient
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import GenerationChangedError, NotFoundError, UnsupportedOperationError

CODE = 1
CHATTY = (
    b"class Agent:\n"
    b"    def __init__(self):\n"
    b"        print('hello from the agent')\n\n"
    b"    def predict(self, observation):\n"
    b"        return 0\n"
)
FAST = Timeouts(connect=2, read=5, upload=10, create=5, deploy=5)


@pytest.fixture(scope="module")
def v0_server() -> Iterator[FakeArena]:
    with FakeArena(api="v0", queue_seconds=0.05) as server:
        yield server


@pytest.fixture
def arena0(v0_server: FakeArena) -> Iterator[FakeArena]:
    v0_server.reset()
    yield v0_server
    v0_server.faults.clear()
    v0_server.wait_deploys_idle(15)


@pytest.fixture
def client(arena0: FakeArena) -> Iterator[ArenaClient]:
    with ArenaClient(arena0.url, arena0.user_token, timeouts=FAST, backoff_factor=0.01) as c:
        yield c


def deployed(client: ArenaClient, name: str) -> int:
    aid = client.create_agent(CODE, name)
    client.upload_file(CODE, aid, "agent.py", CHATTY)
    client.deploy(CODE, aid)
    deadline = time.monotonic() + 15
    while not client.status(CODE, aid).settled and time.monotonic() < deadline:
        time.sleep(0.05)
    return aid


def test_capabilities_and_derived_flags(client: ArenaClient) -> None:
    arena: Arena = client
    caps = arena.capabilities
    assert caps.generation == "v0" and caps.remote_hashes and not caps.download_bytes
    assert not caps.lists_undeployed_submissions and not caps.server_status_flags
    aid = client.create_agent(CODE, "flags")
    created = client.status(CODE, aid)
    assert created.settled and created.uploadable and not created.deployable and created.owned
    client.upload_file(CODE, aid, "agent.py", CHATTY)
    assert client.status(CODE, aid).deployable


def test_my_submissions_are_the_deployed_ones_on_the_leaderboard(client: ArenaClient) -> None:
    live = deployed(client, "live")
    draft = client.create_agent(CODE, "draft")
    mine = {s.id: s for s in client.my_submissions(CODE)}
    assert live in mine and mine[live].name == "live" and mine[live].competition_id == CODE
    assert draft not in mine  # v0 cannot list an undeployed agent


def test_deploys_limits_and_run_logs(arena0: FakeArena, client: ArenaClient) -> None:
    fresh = client.create_agent(CODE, "fresh")
    assert client.deploys(CODE, fresh) == []
    assert client.deploy_limits(CODE, fresh).remaining == arena0.deploy_limit
    aid = deployed(client, "logged")
    attempts = client.deploys(CODE, aid)
    assert len(attempts) == 1 and attempts[0].status == "succeeded"
    logs = client.run_logs(CODE, aid, limit=5)
    assert logs and all(log.log_error is None for log in logs)
    assert any("hello from the agent" in (log.log or "") for log in logs)
    assert client.run_logs(CODE, aid, limit=0) == []


def test_no_raw_download_on_v0(client: ArenaClient) -> None:
    aid = client.create_agent(CODE, "nodl")
    with pytest.raises(UnsupportedOperationError, match="v0"):
        client.download_file(CODE, aid, "agent.py")


def test_a_missing_agent_is_not_found_after_one_probe(
    arena0: FakeArena, client: ArenaClient
) -> None:
    arena0.reset_counters()
    with pytest.raises(NotFoundError) as info:
        client.status(CODE, 98765)
    assert not isinstance(info.value, GenerationChangedError)
    assert arena0.counters.get("GET /api/competitions/{cid}") == 1
    assert sum(arena0.counters.values()) == 2


def test_v0_routes_on_todays_server_are_a_generation_change() -> None:
    with FakeArena(api="v4.6") as today, ArenaClient(today.url, today.user_token) as c:
        with pytest.raises(GenerationChangedError, match="no longer speaks the v0 API"):
            c.status(CODE, 101)
        with pytest.raises(GenerationChangedError):
            c.competition(CODE)
        with pytest.raises(NotFoundError) as info:
            c.status(99, 101)  # no such challenge either: just missing
        assert not isinstance(info.value, GenerationChangedError)
