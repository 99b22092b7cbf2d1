"""detect_generation and open_arena against the fake arena (v4.6, v0) and against servers
that speak neither, on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlarena_sync.api.generation import detect_generation, open_arena
from mlarena_sync.api.http import Timeouts
from mlarena_sync.api.v0 import ArenaClient
from mlarena_sync.api.v4 import V4Arena
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import ConfigError, MaintenanceError, UnsupportedServerError

CODE = 1
FAST = Timeouts(connect=2, read=5)
#: A route answers ``(status, body)``; anything unlisted is a 404.
Routes = Callable[[str], tuple[int, dict[str, object]]]


@pytest.fixture(scope="module")
def v4() -> Iterator[FakeArena]:
    with FakeArena(api="v4.6") as server:
        yield server


@pytest.fixture(scope="module")
def v0() -> Iterator[FakeArena]:
    with FakeArena(api="v0") as server:
        yield server


@pytest.fixture
def fresh(v4: FakeArena, v0: FakeArena) -> Iterator[None]:
    v4.reset()
    v0.reset()
    yield
    v4.faults.clear()


def requests_made(arena: FakeArena) -> int:
    return sum(arena.counters.values())


@contextmanager
def tiny_server(routes: Routes) -> Iterator[str]:
    """A stdlib HTTP server on 127.0.0.1 answering JSON from ``routes(path)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def nothing(path: str) -> tuple[int, dict[str, object]]:
    return 404, {"error": "Not Found"}


@pytest.mark.usefixtures("fresh")
def test_a_v4_server_is_v4_with_or_without_ids(v4: FakeArena) -> None:
    token = v4.user_token
    assert detect_generation(v4.url, token, cid=CODE, timeouts=FAST) == "v4.6"
    assert requests_made(v4) == 1  # GET /api/challenges/{cid}
    sid = 1  # bob's seeded submission: not alice's, so 404 there, then the challenge decides
    assert detect_generation(v4.url, token, cid=CODE, sid=sid, timeouts=FAST) == "v4.6"
    assert detect_generation(v4.url, token, timeouts=FAST) == "v4.6"
    assert detect_generation(v4.url, None, cid=CODE, timeouts=FAST) == "v4.6"


@pytest.mark.usefixtures("fresh")
def test_a_v4_submission_of_mine_is_one_read(v4: FakeArena) -> None:
    with V4Arena(v4.url, v4.user_token) as c:
        sid = c.create_agent(CODE, "probe")
    v4.reset_counters()
    assert detect_generation(v4.url, v4.user_token, cid=CODE, sid=sid, timeouts=FAST) == "v4.6"
    assert requests_made(v4) == 1  # GET /api/submissions/submission/{sid}


@pytest.mark.usefixtures("fresh")
def test_a_v0_server_is_v0_with_or_without_ids(v0: FakeArena) -> None:
    token = v0.user_token
    assert detect_generation(v0.url, token, cid=CODE, timeouts=FAST) == "v0"
    assert detect_generation(v0.url, token, cid=CODE, sid=101, timeouts=FAST) == "v0"
    assert detect_generation(v0.url, token, timeouts=FAST) == "v0"


def test_a_server_that_speaks_neither_is_one_clear_sentence() -> None:
    with tiny_server(nothing) as url, pytest.raises(UnsupportedServerError) as info:
        detect_generation(url, "mlk_user_ab12_secret", cid=CODE, sid=5, timeouts=FAST)
    message = info.value.message
    assert "neither" in message and url in message and message.count(". ") == 0
    assert "server:" in (info.value.hint or "")


def test_an_older_submissions_server_is_refused_by_name() -> None:
    def older(path: str) -> tuple[int, dict[str, object]]:
        if path == "/api/submissions/challenge/1/5/deploy":
            return 200, {"deploymentLimits": {}}
        return nothing(path)

    with tiny_server(older) as url, pytest.raises(UnsupportedServerError, match="older"):
        detect_generation(url, "mlk_user_ab12_secret", cid=CODE, sid=5, timeouts=FAST)


def test_detection_during_maintenance_is_a_maintenance_error(v4: FakeArena) -> None:
    v4.faults.maintenance = "Back soon"
    try:
        with pytest.raises(MaintenanceError, match="Back soon"):
            detect_generation(v4.url, v4.user_token, cid=CODE, timeouts=Timeouts(read=2))
    finally:
        v4.faults.clear()


@pytest.mark.usefixtures("fresh")
def test_open_arena_explicit_and_remembered_send_nothing(v4: FakeArena, v0: FakeArena) -> None:
    with open_arena(v4.url, v4.user_token, "v4.6", cid=CODE) as arena:
        assert isinstance(arena, V4Arena) and arena.capabilities.generation == "v4.6"
    with open_arena(v0.url, v0.user_token, "auto", "v0", cid=CODE) as arena:
        assert isinstance(arena, ArenaClient) and arena.capabilities.generation == "v0"
    assert requests_made(v4) == 0 and requests_made(v0) == 0


@pytest.mark.usefixtures("fresh")
def test_open_arena_auto_detects_without_a_usable_memory(v4: FakeArena, v0: FakeArena) -> None:
    with open_arena(v0.url, v0.user_token, "auto", None, cid=CODE) as arena:
        assert arena.capabilities.generation == "v0"
        assert arena.competition(CODE).id == CODE
    with open_arena(v4.url, v4.user_token, "auto", "v2", cid=CODE) as arena:
        assert arena.capabilities.generation == "v4.6"
        assert arena.competition(CODE).entry_filename == "agent.py"


def test_open_arena_refuses_an_unknown_generation() -> None:
    with pytest.raises(ConfigError, match="unknown API generation"):
        open_arena("http://127.0.0.1:9", None, "v3")
