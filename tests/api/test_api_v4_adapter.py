"""V4Arena against the fake arena's v4.6 routes over HTTP: every method, and the refusals
that shape a sync client (uploads held, maintenance, a teammate's submission, 404s)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest

from mlarena_sync.api.http import Timeouts
from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus
from mlarena_sync.api.v4 import V4Arena
from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.seed import TEAM_AGENT_ID
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    GenerationChangedError,
    MaintenanceError,
    NotFoundError,
    QuotaError,
    RefusedFileError,
    UploadsHeldError,
)

CODE = 1  # CartPole: a code challenge (agent.py with class Agent)
FILE = 2  # Parity: a file challenge (submission.csv)
CHATTY = (
    b"class Agent:\n"
    b"    def __init__(self):\n"
    b"        print('hello from the agent')\n\n"
    b"    def predict(self, observation):\n"
    b"        return 0\n"
)
WEIGHTS = bytes(range(256)) * 4  # not UTF-8: listed with language null
FAST = Timeouts(connect=2, read=5, upload=10, create=5, deploy=5, delete=5, download=10)


@pytest.fixture(scope="module")
def v4_server() -> Iterator[FakeArena]:
    """A v4.6 arena whose deploys queue long enough (0.4 s) to be seen in flight."""
    server = FakeArena(api="v4.6", queue_seconds=0.4)
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def arena4(v4_server: FakeArena) -> Iterator[FakeArena]:
    v4_server.reset()
    yield v4_server
    v4_server.faults.clear()
    v4_server.wait_deploys_idle(15)


@pytest.fixture
def client(arena4: FakeArena) -> Iterator[V4Arena]:
    with V4Arena(arena4.url, arena4.user_token, timeouts=FAST, backoff_factor=0.01) as c:
        yield c


@pytest.fixture
def sid(client: V4Arena) -> int:
    """A new submission of alice with a valid agent.py (upload_validated)."""
    new = client.create_agent(CODE, "bot")
    client.upload_file(CODE, new, "agent.py", CHATTY)
    return new


def wait_for(read: Callable[[], AgentStatus], done: Callable[[AgentStatus], bool]) -> AgentStatus:
    deadline = time.monotonic() + 15
    while True:
        snap = read()
        if done(snap) or time.monotonic() > deadline:
            return snap
        time.sleep(0.05)


def test_it_is_an_arena_with_the_v4_capabilities(client: V4Arena) -> None:
    arena: Arena = client
    caps = arena.capabilities
    assert caps.generation == "v4.6" and caps.download_bytes and not caps.remote_hashes
    assert caps.uploads_refused_while_deploying and caps.lists_undeployed_submissions
    assert caps.server_status_flags and caps.viewer_roles and caps.status_has_latest_deploy


def test_challenge_runtimes_and_leaderboard(client: V4Arena) -> None:
    comp = client.competition(CODE)
    assert comp.id == CODE and comp.entry_filename == "agent.py" and comp.agent_template
    assert comp.kernel_version == "flex_v1" and comp.max_upload_files
    runtimes = client.runtime_options(CODE)
    assert runtimes and runtimes == list(comp.runtime_options)
    assert client.competition(FILE).entry_filename == "submission.csv"
    rows = client.leaderboard(CODE)
    assert rows and all(r.agent_id is not None for r in rows)


def test_a_new_submission_files_and_runtime(client: V4Arena) -> None:
    new = client.create_agent(CODE, "round-trip")
    fresh = client.status(CODE, new)
    assert fresh.status == "created" and fresh.owned and fresh.settled
    assert fresh.latest_deploy is None and not fresh.in_flight
    assert new in [s.id for s in client.my_submissions(CODE)]

    client.upload_file(CODE, new, "helper.py", b"VALUE = 1\n")
    client.upload_file(CODE, new, "weights.bin", WEIGHTS)
    result = client.upload_file(CODE, new, "agent.py", CHATTY)
    assert result.status == "upload_validated" and result.agent_status is not None
    assert result.agent_status.deployable
    files = client.list_files(CODE, new)
    assert next(iter(files)) == "agent.py" and files["agent.py"].role == "entry"
    assert files["weights.bin"].is_binary and files["weights.bin"].size == len(WEIGHTS)
    assert all(f.sha256 is None for f in files.values())  # no hash in the v4.6 listing
    assert client.file_content(CODE, new, "helper.py") == "VALUE = 1\n"
    raw = client.download_file(CODE, new, "weights.bin")
    assert hashlib.sha256(raw).digest() == hashlib.sha256(WEIGHTS).digest()
    assert client.download_file(CODE, new, "agent.py") == CHATTY

    deleted = client.delete_file(CODE, new, "helper.py")
    assert deleted.status == "upload_validated"
    assert "helper.py" not in client.list_files(CODE, new)

    torch = next(r for r in client.runtime_options(CODE) if r.framework == "torch")
    assert client.set_agent_runtime(new, torch.id or 0).id == torch.id
    pinned = client.agent_runtime(new)
    assert pinned is not None and pinned.id == torch.id
    assert client.status(CODE, new).runtime == pinned


def test_deploy_runs_and_logs(arena4: FakeArena, client: V4Arena, sid: int) -> None:
    limits = client.deploy_limits(CODE, sid)
    assert limits.can_deploy and limits.remaining == arena4.deploy_limit
    outcome = client.deploy(CODE, sid)
    assert outcome.accepted and outcome.deployment_id is not None and not outcome.timed_out
    assert outcome.agent_status is not None and not outcome.agent_status.settled
    queued = client.status(CODE, sid)
    assert queued.in_flight and not queued.uploadable
    assert queued.latest_deploy is not None and queued.latest_deploy.id == outcome.deployment_id

    done = wait_for(lambda: client.status(CODE, sid), lambda s: s.settled)
    assert done.status == "active" and done.latest_deploy is not None
    assert done.latest_deploy.status == "succeeded" and done.queue is None
    assert [d.id for d in client.deploys(CODE, sid)] == [outcome.deployment_id]
    status = client.deploy_status(CODE, sid)
    assert status.latest == done.latest_deploy and status.limits.used == 1
    assert status.active is not None and status.active.active_count == 1

    logs = client.run_logs(CODE, sid, limit=3)
    assert 1 <= len(logs) <= 3
    assert all(log.log is not None and log.status == "completed" for log in logs)
    assert any("hello from the agent" in (log.log or "") for log in client.run_logs(CODE, sid))
    assert client.run_logs(CODE, sid, limit=0) == []


def test_run_logs_page_past_the_first_page(
    arena4: FakeArena, client: V4Arena, sid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.deploy(CODE, sid)
    wait_for(lambda: client.status(CODE, sid), lambda s: s.settled)
    every = client.run_logs(CODE, sid, limit=100)
    monkeypatch.setattr("mlarena_sync.api.v4.RUNS_PAGE", 1)
    arena4.reset_counters()
    paged = client.run_logs(CODE, sid, limit=len(every) + 5)
    assert [r.id for r in paged] == [r.id for r in every]
    runs_reads = sum(n for key, n in arena4.counters.items() if key.endswith("/runs"))
    assert runs_reads == len(every)


def test_uploads_are_held_while_a_deploy_is_in_flight(client: V4Arena, sid: int) -> None:
    client.deploy(CODE, sid)
    with pytest.raises(UploadsHeldError) as info:
        client.upload_file(CODE, sid, "agent.py", CHATTY + b"# edit\n")
    assert info.value.status_code == 409 and "agent.py" in info.value.message
    with pytest.raises(UploadsHeldError):
        client.delete_file(CODE, sid, "agent.py")
    settled = wait_for(lambda: client.status(CODE, sid), lambda s: s.settled)
    assert settled.uploadable
    client.upload_file(CODE, sid, "agent.py", CHATTY + b"# edit\n")


def test_a_refused_file_is_a_refused_file_error(client: V4Arena) -> None:
    new = client.create_agent(FILE, "csv")
    limit = client.competition(FILE).max_upload_files or 0
    for n in range(limit):
        client.upload_file(FILE, new, f"part{n}.csv", b"id,prediction\n")
    with pytest.raises(RefusedFileError) as info:
        client.upload_file(FILE, new, "one-too-many.csv", b"id,prediction\n")
    assert info.value.file_name == "one-too-many.csv"


def test_deploy_refused_is_a_quota_error(arena4: FakeArena, client: V4Arena, sid: int) -> None:
    arena4.set_deploy_limit(0)
    with pytest.raises(QuotaError):
        client.deploy(CODE, sid)


def test_a_lost_deploy_reply_is_answered_from_the_attempts(arena4: FakeArena, sid: int) -> None:
    arena4.faults.hang_deploy = 1.5
    short = Timeouts(connect=2, read=5, deploy=0.3)
    with V4Arena(arena4.url, arena4.user_token, timeouts=short, backoff_factor=0.01) as c:
        outcome = c.deploy(CODE, sid)
    assert outcome.timed_out and outcome.accepted and outcome.deployment_id is not None
    assert arena4.deploy_count(sid) == 1


def test_a_dropped_deploy_is_not_retried_and_not_seen(
    arena4: FakeArena, client: V4Arena, sid: int
) -> None:
    arena4.faults.drop_next(1, route="deploy")
    outcome = client.deploy(CODE, sid)
    assert outcome.timed_out and not outcome.accepted and outcome.deployment_id is None
    assert arena4.deploy_count(sid) == 0


def test_maintenance_carries_the_admins_message(arena4: FakeArena, client: V4Arena) -> None:
    arena4.faults.maintenance = "Upgrading the runners, back at 14:00 UTC"
    arena4.reset_counters()
    with pytest.raises(MaintenanceError) as info:
        client.my_submissions(CODE)
    assert info.value.admin_message == "Upgrading the runners, back at 14:00 UTC"
    assert "back at 14:00" in str(info.value)
    assert sum(arena4.counters.values()) == 1  # not retried: it lasts minutes


def test_a_teammates_submission_is_readable_and_not_mine(client: V4Arena) -> None:
    team = client.status(FILE, TEAM_AGENT_ID)
    assert team.viewer_role == "teammate" and not team.owned
    assert "submission.csv" in client.list_files(FILE, TEAM_AGENT_ID)
    assert TEAM_AGENT_ID not in [s.id for s in client.my_submissions(FILE)]
    with pytest.raises(NotFoundError) as info:
        client.upload_file(FILE, TEAM_AGENT_ID, "submission.csv", b"id,prediction\n")
    assert not isinstance(info.value, GenerationChangedError)


def test_a_deleted_or_unknown_submission_is_not_found(client: V4Arena, sid: int) -> None:
    client.delete_agent(CODE, sid)
    assert sid not in [s.id for s in client.my_submissions(CODE)]
    gone = client.status(CODE, sid)
    assert gone.status == "deleted" and gone.settled and not gone.uploadable
    unknown = 987654
    for read in (lambda: client.status(CODE, unknown), lambda: client.list_files(CODE, unknown)):
        with pytest.raises(NotFoundError) as info:
            read()
        assert not isinstance(info.value, GenerationChangedError)


def test_a_submission_of_another_challenge_says_so(client: V4Arena, sid: int) -> None:
    with pytest.raises(NotFoundError, match=f"belongs to challenge {CODE}"):
        client.status(FILE, sid)
    with pytest.raises(NotFoundError, match=f"belongs to challenge {CODE}"):
        client.list_files(FILE, sid)


def test_a_404_on_a_route_of_my_submission_is_a_generation_change(
    arena4: FakeArena, client: V4Arena, sid: int
) -> None:
    arena4.faults.fail_next(1, status=404, route="list_files")
    with pytest.raises(GenerationChangedError, match=r"no longer speaks the v4\.6"):
        client.list_files(CODE, sid)


def test_v4_routes_on_a_v0_server_are_a_generation_change() -> None:
    with FakeArena(api="v0") as v0, V4Arena(v0.url, v0.user_token, timeouts=FAST) as c:
        with pytest.raises(GenerationChangedError):
            c.my_submissions(CODE)
        with pytest.raises(GenerationChangedError):
            c.status(CODE, 101)


def test_writes_need_a_token(arena4: FakeArena) -> None:
    with V4Arena(arena4.url, None, timeouts=FAST) as anon:
        assert anon.competition(CODE).id == CODE
        with pytest.raises(AuthError):
            anon.create_agent(CODE, "x")


def test_a_missing_file_or_runtime_is_not_a_generation_change(client: V4Arena, sid: int) -> None:
    for read in (
        lambda: client.file_content(CODE, sid, "gone.py"),
        lambda: client.download_file(CODE, sid, "gone.py"),
    ):
        with pytest.raises(NotFoundError) as info:
            read()
        assert not isinstance(info.value, GenerationChangedError)
    with pytest.raises(ApiError) as refused:
        client.set_agent_runtime(sid, 987654)
    assert not isinstance(refused.value, GenerationChangedError)
