"""Transport behaviours of ArenaClient against a tiny scripted HTTP server on 127.0.0.1.

The fake arena covers the API's semantics; this server lets each test script exact replies
(bursts of 503, Retry-After, redirects, hangs, dropped connections) and see every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from mlarena_sync.api.client import ArenaClient, Timeouts
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    ConfigError,
    NotFoundError,
    QuotaError,
    ServerError,
    TransportError,
)

TOKEN = "mlk_user_abc123_s3cr3t_with_underscores"
SECRET = "s3cr3t_with_underscores"
AGENTS = "/api/direct_attache_agents/competition/3/7"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    hang: threading.Event | None = None  # wait for this (bounded) before answering
    drop: bool = False  # close the connection without answering


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: int = 0


class Script:
    """Replies per (method, path): a queue whose last entry repeats; every request recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []
        self.keep_bodies = True

    def on(self, method: str, path: str, *replies: Reply) -> None:
        with self.lock:
            self.routes[(method, path)] = list(replies)

    def next(self, method: str, path: str) -> Reply:
        with self.lock:
            queue = self.routes.get((method, path))
            if not queue:
                return Reply(404, {"error": "Not Found"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.method == method and s.path == path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end on their own
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        script = self.server.script
        length = int(self.headers.get("Content-Length") or 0)
        chunks: list[bytes] = []
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
            if script.keep_bodies:
                chunks.append(chunk)
        with script.lock:
            script.seen.append(
                Seen(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    b"".join(chunks),
                    self.client_address[1],
                )
            )
        reply = script.next(self.command, self.path)
        if reply.hang is not None:
            reply.hang.wait(10)
        if reply.drop:
            self.close_connection = True
            return
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script


@dataclass
class Local:
    script: Script
    url: str
    released: list[threading.Event]

    def hang(self) -> threading.Event:
        event = threading.Event()
        self.released.append(event)
        return event


def _serve() -> Iterator[Local]:
    script = Script()
    server = _Server(script)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="local-api", daemon=True
    )
    thread.start()
    local = Local(script, f"http://127.0.0.1:{server.server_address[1]}", [])
    try:
        yield local
    finally:
        for event in local.released:
            event.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def local() -> Iterator[Local]:
    yield from _serve()


@pytest.fixture
def other() -> Iterator[Local]:
    """A second server: the target of redirects (must never be contacted)."""
    yield from _serve()


@pytest.fixture
def make_client(local: Local) -> Iterator[Callable[..., ArenaClient]]:
    clients: list[ArenaClient] = []

    def make(**kw: Any) -> ArenaClient:
        kw.setdefault("timeouts", Timeouts(connect=2, read=2, upload=5, create=2, deploy=0.5))
        kw.setdefault("backoff_factor", 0.01)
        client = ArenaClient(kw.pop("url", local.url), kw.pop("token", TOKEN), **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


STATUS_OK = {"status": "upload_validated", "last_status_message": "ok", "name": "a"}


# ---- retries ------------------------------------------------------------------------------


def test_retries_cure_a_503_burst(local: Local, make_client: Callable[..., ArenaClient]) -> None:
    path = AGENTS + "/status"
    local.script.on(
        "GET", path, Reply(503, {"error": "busy"}), Reply(503, b"oops"), Reply(200, STATUS_OK)
    )
    status = make_client().status(3, 7)
    assert status.status == "upload_validated"
    assert local.script.count("GET", path) == 3


def test_429_retry_after_is_honoured(local: Local, make_client: Callable[..., ArenaClient]) -> None:
    path = AGENTS + "/status"
    local.script.on(
        "GET", path, Reply(429, {"error": "slow down"}, {"Retry-After": "1"}), Reply(200, STATUS_OK)
    )
    started = time.monotonic()
    with capture_logs() as logs:
        make_client().status(3, 7)
    assert time.monotonic() - started >= 0.9
    retries = [e for e in logs if e["event"] == "api_retry"]
    assert [e["retry_after_s"] for e in retries] == [1.0]
    assert local.script.count("GET", path) == 2


def test_retry_after_as_http_date_in_the_past_retries_at_once(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    path = AGENTS + "/status"
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    local.script.on("GET", path, Reply(503, {}, {"Retry-After": date}), Reply(200, STATUS_OK))
    with capture_logs() as logs:
        make_client().status(3, 7)
    assert [e["retry_after_s"] for e in logs if e["event"] == "api_retry"] == [0.0]


def test_retries_exhausted_raise_server_error_with_message(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    path = AGENTS + "/status"
    local.script.on("GET", path, Reply(503, {"error": "runners unhealthy"}))
    with pytest.raises(ServerError) as info:
        make_client(retry_total=2).status(3, 7)
    assert info.value.status_code == 503
    assert "runners unhealthy" in str(info.value)
    assert local.script.count("GET", path) == 3


def test_dropped_connection_on_a_read_is_retried(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    path = AGENTS + "/status"
    local.script.on("GET", path, Reply(drop=True), Reply(200, STATUS_OK))
    assert make_client().status(3, 7).status == "upload_validated"
    assert local.script.count("GET", path) == 2


def test_refused_connection_is_a_transport_error_without_token() -> None:
    import socket

    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ArenaClient(f"http://127.0.0.1:{port}", TOKEN, retry_total=1, backoff_factor=0)
    with client, pytest.raises(TransportError) as info:
        client.status(3, 7)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("status", [503, 429])
def test_create_agent_is_never_retried(
    local: Local, make_client: Callable[..., ArenaClient], status: int
) -> None:
    path = "/api/direct_attache_agents/competition/3"
    local.script.on("POST", path, Reply(status, {"error": "busy"}, {"Retry-After": "0"}))
    with pytest.raises(ServerError):
        make_client().create_agent(3, "bot")
    assert local.script.count("POST", path) == 1


def test_create_agent_dropped_connection_is_not_retried(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    path = "/api/direct_attache_agents/competition/3"
    local.script.on("POST", path, Reply(drop=True), Reply(201, {"attache_agent_id": 9}))
    with pytest.raises(TransportError):
        make_client().create_agent(3, "bot")
    assert local.script.count("POST", path) == 1


def test_deploy_503_is_never_retried(local: Local, make_client: Callable[..., ArenaClient]) -> None:
    local.script.on("PUT", AGENTS + "/deploy", Reply(503, {"error": "busy"}))
    with pytest.raises(ServerError):
        make_client().deploy(3, 7)
    assert local.script.count("PUT", AGENTS + "/deploy") == 1


# ---- deploy that hangs / drops --------------------------------------------------------------

DEPLOY_STATUS_QUEUED = {
    "deploymentLimits": {"daily_deploy_limit": 5, "daily_deploys_used": 1},
    "latestDeploy": {"id": 41, "status": "queued", "created_at": "2030-01-01T00:00:00Z"},
}


def test_deploy_hanging_past_the_timeout_is_read_back_not_resent(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("PUT", AGENTS + "/deploy", Reply(202, {"deployment_id": 41}, hang=local.hang()))
    local.script.on("GET", AGENTS + "/status", Reply(200, {"status": "deploy_queue"}))
    local.script.on("GET", AGENTS + "/deploy", Reply(200, DEPLOY_STATUS_QUEUED))
    started = time.monotonic()
    outcome = make_client().deploy(3, 7)
    assert time.monotonic() - started < 5
    assert outcome.timed_out and outcome.accepted
    assert outcome.deployment_id == 41
    assert outcome.agent_status is not None and outcome.agent_status.status == "deploy_queue"
    assert local.script.count("PUT", AGENTS + "/deploy") == 1
    assert local.script.count("GET", AGENTS + "/status") == 1
    assert local.script.count("GET", AGENTS + "/deploy") == 1


def test_deploy_dropped_after_sending_infers_not_accepted(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("PUT", AGENTS + "/deploy", Reply(drop=True))
    local.script.on("GET", AGENTS + "/status", Reply(200, {"status": "upload_validated"}))
    local.script.on(
        "GET",
        AGENTS + "/deploy",
        Reply(200, {"deployment_limits": {}, "latest_deploy": {"id": None, "status": None}}),
    )
    outcome = make_client().deploy(3, 7)
    assert outcome.timed_out and not outcome.accepted
    assert outcome.deployment_id is None
    assert local.script.count("PUT", AGENTS + "/deploy") == 1


def test_deploy_lost_and_status_unreadable_is_a_transport_error(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("PUT", AGENTS + "/deploy", Reply(drop=True))
    local.script.on("GET", AGENTS + "/status", Reply(drop=True))
    with pytest.raises(TransportError, match="may or may not"):
        make_client(retry_total=1).deploy(3, 7)
    assert local.script.count("PUT", AGENTS + "/deploy") == 1


def test_deploy_409_is_a_quota_error_with_next_slot(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    body = {
        "error": "Daily deployment limit (5) reached",
        "deployment_limits": {
            "can_deploy": False,
            "next_deploy_available_at": "2030-01-02T00:00:00",
        },
    }
    local.script.on("PUT", AGENTS + "/deploy", Reply(409, body))
    with pytest.raises(QuotaError) as info:
        make_client().deploy(3, 7)
    assert "Daily deployment limit (5) reached" in str(info.value)
    assert info.value.status_code == 409
    assert info.value.next_available_at is not None
    assert info.value.next_available_at.isoformat() == "2030-01-02T00:00:00+00:00"


# ---- redirects and plain http ---------------------------------------------------------------


@pytest.mark.parametrize("call", ["status", "deploy", "upload"])
def test_redirects_are_not_followed(
    local: Local, other: Local, make_client: Callable[..., ArenaClient], call: str
) -> None:
    target = other.url + "/steal"
    for method, path in [
        ("GET", AGENTS + "/status"),
        ("PUT", AGENTS + "/deploy"),
        ("PUT", AGENTS + "/file"),
    ]:
        local.script.on(method, path, Reply(302, {}, {"Location": target}))
    client = make_client()
    with pytest.raises(ServerError) as info:
        if call == "status":
            client.status(3, 7)
        elif call == "deploy":
            client.deploy(3, 7)
        else:
            client.upload_file(3, 7, "a.py", b"x = 1\n")
    assert target in str(info.value) and "server:" in str(info.value)
    assert info.value.status_code == 302
    assert SECRET not in str(info.value)
    assert other.script.seen == []


@pytest.mark.parametrize(
    "url", ["http://example.com", "http://10.0.0.1:8080", "ftp://example.com", "example.com"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        ArenaClient(url, TOKEN)
    assert "https" in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://localhost:1", "http://127.0.0.1:1/", "http://127.8.9.10", "http://[::1]:1"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    with ArenaClient(url, TOKEN) as client:
        assert client.base_url == url.rstrip("/")


def test_game_log_has_no_authorization_and_refuses_plain_remote_http(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("GET", "/logs/g1.txt?sig=abc", Reply(200, b"step 1\nstep 2\n"))
    client = make_client()
    assert client.game_log(local.url + "/logs/g1.txt?sig=abc") == "step 1\nstep 2\n"
    (seen,) = local.script.seen
    assert "Authorization" not in seen.headers
    with pytest.raises(ConfigError):
        client.game_log("http://storage.example.com/log?sig=1")
    local.script.on("GET", "/logs/old", Reply(403, b"<Error>Expired</Error>"))
    with pytest.raises(ApiError, match="expire"):
        client.game_log(local.url + "/logs/old")


# ---- error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"error": f"bad token {TOKEN}"}, AuthError, ["MLARENA_API_KEY", "user"]),
        (403, {"error": "Insufficient scope"}, AuthError, ["scope", "Insufficient scope"]),
        (404, {"error": "Not Found"}, NotFoundError, ["not found or not yours"]),
        (500, b"<html>Internal</html>", ServerError, ["500"]),
        (500, {"error": "Failed to fetch agent"}, ServerError, ["Failed to fetch agent"]),
        (422, {"message": "bad input"}, ApiError, ["bad input", "422"]),
    ],
)
def test_error_replies_map_to_our_exceptions(
    local: Local,
    make_client: Callable[..., ArenaClient],
    status: int,
    body: Any,
    error: type[Exception],
    words: list[str],
) -> None:
    local.script.on("GET", AGENTS + "/status", Reply(status, body))
    with pytest.raises(error) as info:
        make_client().status(3, 7)
    text = str(info.value)
    for word in words:
        assert word in text
    assert SECRET not in text
    assert getattr(info.value, "status_code", None) == status


def test_upload_400_is_an_input_problem_naming_the_file(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("PUT", AGENTS + "/file", Reply(400, {"error": "Invalid filename"}))
    with pytest.raises(ConfigError, match=r"'bad name\.py'.*Invalid filename"):
        make_client().upload_file(3, 7, "bad name.py", b"x")


def test_non_json_success_is_a_server_error(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("GET", AGENTS + "/status", Reply(200, b"<html>login</html>"))
    with pytest.raises(ServerError, match="not JSON"):
        make_client().status(3, 7)


def test_missing_token_for_a_private_route_is_an_auth_error_without_request(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    client = make_client(token=None)
    with pytest.raises(AuthError, match="MLARENA_API_KEY"):
        client.status(3, 7)
    assert local.script.seen == []


# ---- request shapes -----------------------------------------------------------------------


def test_file_names_are_percent_encoded(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on(
        "GET", AGENTS + "/file/a%20b%23%2F..%3F.py/content", Reply(200, {"content": "x"})
    )
    assert make_client().file_content(3, 7, "a b#/..?.py") == "x"


def test_upload_is_multipart_part_file_named_remotely_and_progress_reaches_total(
    local: Local, make_client: Callable[..., ArenaClient], tmp_path: Path
) -> None:
    source = tmp_path / "local-name.bin"
    source.write_bytes(b"\x00\x01" * 300_000)
    local.script.on(
        "PUT",
        AGENTS + "/file",
        Reply(503, {"error": "busy"}),
        Reply(200, {"message": "ok", "status": "upload_validated", "validation_message": None}),
    )
    calls: list[tuple[int, int]] = []
    result = make_client().upload_file(
        3, 7, "weights.bin", source, lambda s, t: calls.append((s, t))
    )
    assert result.status == "upload_validated"
    first, second = local.script.seen
    for seen in (first, second):  # the retry rebuilt the full body from the file
        assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        assert b'name="file"; filename="weights.bin"' in seen.body
        assert source.read_bytes() in seen.body
        assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    total = len(second.body)
    assert calls[-1] == (total, total)
    assert all(t == total for _, t in calls)


def test_upload_from_bytes_and_delete_is_form_encoded(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("PUT", AGENTS + "/file", Reply(200, {"message": "ok", "status": "created"}))
    client = make_client()
    client.upload_file(3, 7, "a.py", b"print(1)\n")
    client.delete_file(3, 7, "old helper.py")
    upload, delete = local.script.seen
    assert b"print(1)\n" in upload.body
    assert delete.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert delete.body == b"delete_file=old+helper.py"


def test_one_pooled_connection_is_reused(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("GET", AGENTS + "/status", Reply(200, STATUS_OK))
    client = make_client()
    for _ in range(3):
        client.status(3, 7)
    assert len({seen.peer for seen in local.script.seen}) == 1


def test_request_events_are_logged_without_the_token(
    local: Local, make_client: Callable[..., ArenaClient]
) -> None:
    local.script.on("GET", AGENTS + "/status", Reply(503, {}), Reply(200, STATUS_OK))
    with capture_logs() as logs:
        make_client().status(3, 7)
    requests_logged = [e for e in logs if e["event"] == "api_request"]
    assert [e["status"] for e in requests_logged] == [503, 200]
    for event in requests_logged:
        assert event["method"] == "GET"
        assert event["route"] == "/api/direct_attache_agents/competition/{cid}/{aid}/status"
        assert isinstance(event["elapsed_ms"], float)
    assert SECRET not in repr(logs)


def test_repr_hides_the_token(make_client: Callable[..., ArenaClient]) -> None:
    text = repr(make_client())
    assert SECRET not in text
    assert "mlk_user_abc123_***" in text


def test_deploy_that_never_left_is_a_plain_transport_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ArenaClient(f"http://127.0.0.1:{port}", TOKEN, retry_total=0)
    with client, pytest.raises(TransportError) as info:
        client.deploy(3, 7)
    assert "may or may not" not in str(info.value)  # nothing was sent: no status read either


def test_netrc_credentials_never_replace_the_token_nor_reach_game_logs(
    local: Local,
    make_client: Callable[..., ArenaClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    local.script.on("GET", AGENTS + "/status", Reply(200, STATUS_OK))
    local.script.on("GET", "/log", Reply(200, b"log"))
    client = make_client()
    client.status(3, 7)
    client.game_log(local.url + "/log")
    api, log = local.script.seen
    assert api.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in log.headers
