"""ArenaClient against the fake arena: every route, error mapping, faults, keep-alive."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from mlarena_sync.api.client import ArenaClient, Timeouts
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    ConfigError,
    NotFoundError,
    QuotaError,
    ServerError,
)

CODE = 1  # CartPole: needs agent.py with an agent class
HIDDEN = 3
PREFIX = "/api/direct_attache_agents/competition/{cid}/{aid}"
AGENT_PY = b"class Agent:\n    def predict(self, observation):\n        return 0\n"


def key(method: str, suffix: str) -> str:
    return f"{method} {PREFIX}{suffix}"


@pytest.fixture
def client(arena: FakeArena) -> Iterator[ArenaClient]:
    timeouts = Timeouts(connect=2, read=5, upload=10, create=5, deploy=5)
    with ArenaClient(arena.url, arena.user_token, timeouts=timeouts, backoff_factor=0.01) as c:
        yield c


@pytest.fixture
def aid(arena: FakeArena, client: ArenaClient) -> Iterator[int]:
    """A new agent of alice with a valid agent.py (status upload_validated)."""
    agent_id = client.create_agent(CODE, "bot")
    client.upload_file(CODE, agent_id, "agent.py", AGENT_PY)
    arena.reset_counters()
    yield agent_id
    arena.faults.clear()
    arena.wait_deploys_idle(15)


def test_every_route_round_trip(arena: FakeArena, client: ArenaClient, tmp_path: Path) -> None:
    comp = client.competition(CODE)
    assert comp.id == CODE and comp.max_upload_files == 1000 and comp.agent_template
    new = client.create_agent(CODE, "round-trip")
    files = client.list_files(CODE, new)
    assert "agent.py" in files and files["agent.py"].content == comp.agent_template
    assert client.status(CODE, new).status == "created"

    helper = tmp_path / "helper.py"
    helper.write_text("VALUE = 1\n")
    seen: list[tuple[int, int]] = []
    client.upload_file(CODE, new, "helper.py", helper, lambda s, t: seen.append((s, t)))
    assert seen[-1][0] == seen[-1][1]
    result = client.upload_file(CODE, new, "agent.py", AGENT_PY)
    assert result.status == "upload_validated", result
    assert client.file_content(CODE, new, "helper.py") == "VALUE = 1\n"
    listed = client.list_files(CODE, new)
    assert listed["agent.py"].sha256 == hashlib.sha256(AGENT_PY).hexdigest()
    assert client.delete_file(CODE, new, "helper.py").status == "upload_validated"
    assert "helper.py" not in client.list_files(CODE, new)

    options = client.runtime_options(CODE)
    assert {r.framework for r in options} >= {"gymnasium", "torch"}
    torch = next(r for r in options if r.framework == "torch")
    assert client.set_agent_runtime(new, torch.id or 0).id == torch.id
    pinned = client.agent_runtime(new)
    assert pinned is not None and pinned.id == torch.id
    client.set_agent_runtime(new, next(r.id or 0 for r in options if r.framework == "gymnasium"))

    before = client.deploy_status(CODE, new)
    assert before.latest is None and before.limits.daily_limit == arena.deploy_limit
    outcome = client.deploy(CODE, new)
    assert outcome.accepted and not outcome.timed_out and outcome.deployment_id is not None
    assert arena.wait_deploys_idle(15)
    status = client.status(CODE, new)
    assert status.status == "active" and status.settled, status
    after = client.deploy_status(CODE, new)
    assert after.latest is not None and after.latest.id == outcome.deployment_id
    assert after.limits.used == 1 and after.limits.next_available_at is not None

    games = client.games(new)
    assert games and games[0].signed_url
    assert "[arena]" in client.game_log(games[0].signed_url)
    rows = client.leaderboard(CODE)
    mine = [r for r in rows if r.is_mine]
    assert mine and mine[0].agent_id == new

    client.delete_agent(CODE, new)
    assert client.status(CODE, new).status == "deleted"


def test_public_routes_work_without_a_token(arena: FakeArena) -> None:
    with ArenaClient(arena.url, None) as anonymous:
        assert anonymous.competition(CODE).name
        assert all(not row.is_mine for row in anonymous.leaderboard(CODE))
        with pytest.raises(AuthError, match="MLARENA_API_KEY"):
            anonymous.create_agent(CODE, "x")


def test_auth_and_ownership_errors(arena: FakeArena, client: ArenaClient, aid: int) -> None:
    wrong = "mlk_user_alice01_not_the_secret"
    with ArenaClient(arena.url, wrong) as bad, pytest.raises(AuthError) as info:
        bad.status(CODE, aid)
    assert info.value.status_code == 401 and "not_the_secret" not in str(info.value)
    with ArenaClient(arena.url, arena.creator_token) as carol, pytest.raises(AuthError) as info:
        carol.status(CODE, aid)
    assert info.value.status_code == 403 and "scope `user`" in str(info.value)
    with ArenaClient(arena.url, arena.other_token) as bob, pytest.raises(NotFoundError) as nf:
        bob.status(CODE, aid)
    assert "not found or not yours" in str(nf.value)
    with pytest.raises(NotFoundError):
        client.list_files(CODE, 1)  # bob's agent


def test_server_errors_and_input_errors(arena: FakeArena, client: ArenaClient, aid: int) -> None:
    with pytest.raises(ServerError, match="Failed to fetch leaderboard") as info:
        client.leaderboard(HIDDEN)
    assert info.value.status_code == 500
    with pytest.raises(ConfigError, match=r"'bad name\.py'"):
        client.upload_file(CODE, aid, "bad name.py", b"x = 1\n")
    client.upload_file(CODE, aid, "blob.bin", b"\x00\x01\x02")
    with pytest.raises(ApiError) as binary:
        client.file_content(CODE, aid, "blob.bin")
    assert binary.value.status_code == 400
    with pytest.raises(NotFoundError):
        client.delete_file(CODE, aid, "never-there.py")


def test_quota_refusal_is_a_quota_error_with_next_slot(
    arena: FakeArena, client: ArenaClient, aid: int
) -> None:
    arena.set_deploy_limit(0)
    with pytest.raises(QuotaError) as info:
        client.deploy(CODE, aid)
    assert "Daily deployment limit (0) reached" in str(info.value)
    assert info.value.next_available_at is not None
    assert info.value.next_available_at > arena.now()


def test_retries_cure_injected_503s_and_honour_retry_after(
    arena: FakeArena, client: ArenaClient, aid: int
) -> None:
    arena.faults.fail_next(2, 503, route="status")
    assert client.status(CODE, aid).status == "upload_validated"
    assert arena.counters[key("GET", "/status")] == 3

    arena.faults.fail_next(1, 429, retry_after=1, route="put_file")
    started = time.monotonic()
    assert client.upload_file(CODE, aid, "extra.py", b"X = 2\n").status == "upload_validated"
    assert time.monotonic() - started >= 0.9
    assert arena.counters[key("PUT", "/file")] == 2
    assert client.file_content(CODE, aid, "extra.py") == "X = 2\n"


def test_dropped_read_is_retried(arena: FakeArena, client: ArenaClient, aid: int) -> None:
    arena.faults.drop_next(1, route="list_files")
    assert "agent.py" in client.list_files(CODE, aid)
    assert arena.counters[key("GET", "/file")] == 2


@pytest.mark.parametrize("route", ["create_agent", "deploy"])
def test_create_and_deploy_are_never_retried(
    arena: FakeArena, client: ArenaClient, aid: int, route: str
) -> None:
    arena.faults.fail_next(3, 503, route=route)
    with pytest.raises(ServerError):
        if route == "deploy":
            client.deploy(CODE, aid)
        else:
            client.create_agent(CODE, "again")
    counted = {k: v for k, v in arena.counters.items() if k.startswith(("POST", "PUT"))}
    assert list(counted.values()) == [1]
    assert arena.deploy_count(aid) == 0


def test_hanging_deploy_is_read_back_not_resent(arena: FakeArena, aid: int) -> None:
    arena.faults.hang_deploy = 1.5
    timeouts = Timeouts(connect=2, read=5, upload=5, create=5, deploy=0.3)
    with ArenaClient(arena.url, arena.user_token, timeouts=timeouts) as c:
        outcome = c.deploy(CODE, aid)
    assert outcome.timed_out and outcome.accepted, outcome
    assert outcome.agent_status is not None
    assert outcome.deployment_id is not None
    assert arena.deploy_count(aid) == 1
    assert arena.counters[key("PUT", "/deploy")] == 1
    assert arena.counters[key("GET", "/status")] == 1
    assert arena.counters[key("GET", "/deploy")] == 1


def test_deploy_dropped_before_taking_effect_is_not_accepted(
    arena: FakeArena, client: ArenaClient, aid: int
) -> None:
    arena.faults.drop_next(1, route="deploy")
    outcome = client.deploy(CODE, aid)
    assert outcome.timed_out and not outcome.accepted, outcome
    assert outcome.agent_status is not None and outcome.agent_status.status == "upload_validated"
    assert arena.deploy_count(aid) == 0
    assert arena.counters[key("PUT", "/deploy")] == 1


def test_one_kept_alive_connection_and_no_token_in_logs(
    arena: FakeArena, client: ArenaClient, aid: int
) -> None:
    arena.reset_counters()
    with capture_logs() as logs:
        client.status(CODE, aid)
        client.list_files(CODE, aid)
        client.upload_file(CODE, aid, "h.py", b"A = 1\n")
        client.deploy_status(CODE, aid)
    assert arena.connections == 0  # the connection opened while creating the agent is reused
    events = [e for e in logs if e["event"] == "api_request"]
    assert len(events) == 4 and all(e["status"] == 200 for e in events)
    secret = arena.user_token.split("_", 3)[3]
    assert secret not in repr(logs) and secret not in repr(client)
