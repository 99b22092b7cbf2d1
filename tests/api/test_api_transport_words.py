"""Transport failures in plain words: where it could not connect and why, a hint that says what
to check, and the library's chain kept for ``-v`` (the ``api_transport_error`` debug event)."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
from structlog.testing import capture_logs
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.responses import transport_error
from mlarena_sync.api.transport import DeadlineExceeded
from mlarena_sync.errors import TransportError

TOKEN = "mlk_user_abc123_s3cr3t_with_underscores"
SERVER = "https://arena.example"


def _wrapped(inner: Exception, url: str = SERVER + "/api/x") -> requests.ConnectionError:
    """``inner`` as requests raises it: ConnectionError(MaxRetryError(..., inner))."""
    exc = requests.ConnectionError(MaxRetryError(None, "/api/x", inner))  # type: ignore[arg-type]
    exc.request = requests.Request("GET", url).prepare()
    return exc


def _plain(exc: requests.RequestException, server: str | None = SERVER) -> TransportError:
    err = transport_error(exc, what="competition 3", token=TOKEN, server=server)
    assert isinstance(err, TransportError)
    assert "(" not in err.message, err.message  # no library chain, no parentheses
    return err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_says_where_and_asks_whether_the_server_runs() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    client = ArenaClient(url, TOKEN, retry_total=0)
    with client, capture_logs() as logs, pytest.raises(TransportError) as info:
        client.status(3, 7)
    assert info.value.message == f"could not connect to {url}: connection refused"
    assert info.value.hint == (
        "is the server running? check --server / MLARENA_SERVER / server: in mlarena.yaml"
    )
    debug = [e for e in logs if e["event"] == "api_transport_error"]
    assert debug and "Connection refused" in debug[0]["reason"]  # the details, for -v


def test_a_name_not_found_names_the_host() -> None:
    gai = socket.gaierror(-2, "Name or service not known")
    err = _plain(_wrapped(NameResolutionError("arena.example", None, gai)))  # type: ignore[arg-type]
    assert err.message == f"could not connect to {SERVER}: the name arena.example was not found"
    assert err.hint is not None and "--server / MLARENA_SERVER" in err.hint


def test_another_connect_failure_says_the_systems_words() -> None:
    inner = NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    inner.__cause__ = OSError(101, "Network is unreachable")
    err = _plain(_wrapped(inner))
    assert err.message == f"could not connect to {SERVER}: network is unreachable"


def test_the_server_is_taken_from_the_request_when_not_given() -> None:
    inner = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    inner.__cause__ = ConnectionRefusedError(111, "Connection refused")
    err = _plain(_wrapped(inner, "http://127.0.0.1:9/api/x"), server=None)
    assert err.message == "could not connect to http://127.0.0.1:9: connection refused"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed", "verified"),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number", "http:// address"),
    ],
)
def test_tls_failures_in_words(text: str, reason: str) -> None:
    exc = requests.exceptions.SSLError(MaxRetryError(None, "/x", ssl.SSLError(1, text)))  # type: ignore[arg-type]
    err = _plain(exc)
    assert err.message.startswith(f"could not connect securely to {SERVER}: ")
    assert reason in err.message
    assert err.hint is not None and "REQUESTS_CA_BUNDLE" in err.hint


def test_timeouts_and_lost_connections_in_words() -> None:
    connect = _plain(requests.exceptions.ConnectTimeout("pool: connect timeout=10"))
    assert connect.message == f"could not connect to {SERVER}: no answer within 10 s"
    read = _plain(requests.exceptions.ReadTimeout("no time given"))
    assert read.message == f"{SERVER} did not answer the request for competition 3 in time"
    deadline = _plain(DeadlineExceeded("60s"))
    assert deadline.message == (
        f"no complete reply from {SERVER} for competition 3 within the 60 s request deadline"
    )
    assert deadline.hint is not None and "sync.request_deadline" in deadline.hint
    lost = _plain(requests.ConnectionError("Connection aborted: RemoteDisconnected"))
    assert (
        lost.message == f"the connection to {SERVER} broke off during the request for competition 3"
    )


def test_timeouts_say_how_long_when_the_library_says_it() -> None:
    from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError

    inner = ConnectTimeoutError(None, "Connection to h timed out. (connect timeout=10)")
    connect = requests.exceptions.ConnectTimeout(MaxRetryError(None, "/x", inner))  # type: ignore[arg-type]
    assert _plain(connect).message == f"could not connect to {SERVER}: no answer within 10 s"
    read = requests.exceptions.ReadTimeout(
        ReadTimeoutError(None, "/x", "Read timed out. (read timeout=30.0)")  # type: ignore[arg-type]
    )
    assert _plain(read).message == (
        f"{SERVER} did not answer the request for competition 3 within 30 s"
    )
