"""Session plumbing for the client: auth handlers, path segments, pool closing, "was it sent?",
the timeouts (:class:`Timeouts`) and the request deadline (:class:`Deadline`).

Kept apart from :mod:`mlarena_sync.api.client` so that the client reads as one method per route.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests
import requests.auth
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from mlarena_sync.errors import ConfigError

#: Connections kept per host: as many as uploads in flight
#: (``mlarena_sync.engine.apply.MAX_IN_FLIGHT``) plus the reads a reconcile sends beside them.
POOL_MAXSIZE = 10
#: Bytes handed to the socket per send of a streamed body (urllib3's default is 16 KiB: a
#: 50 MB upload would take 3,200 reads of the multipart encoder and as many ``sendall`` calls).
BLOCKSIZE = 1024 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``connect`` applies to every call; the others are the read timeout per kind."""

    connect: float = 10.0
    read: float = 30.0
    upload: float = 120.0
    create: float = 60.0
    deploy: float = 60.0
    #: Deleting a file (v4.6 SDK: 60 s) or a submission.
    delete: float = 60.0
    #: A raw file download (v4.6 SDK: 300 s; model weights can be large).
    download: float = 300.0
    #: The whole call, its retries and their waits included: a server trickling a reply a few
    #: bytes at a time (no read ever waits ``read`` seconds) holds a command no longer.
    total: float = 60.0
    #: The same for an upload or a raw download, whose body may be large.
    total_transfer: float = 900.0

    def deadline(self, *, transfer: bool = False) -> float:
        """A call's total deadline (it wins over a longer read timeout)."""
        return self.total_transfer if transfer else self.total


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The call's total deadline passed (a read timeout: the server may have taken it)."""


#: The :class:`Deadline` of the call the current thread is sending, if any.
_running = threading.local()


class Deadline:
    """A total deadline for one call, retries included, distinct from the per-read timeout.

    A per-read timeout never fires against a server that sends a few bytes every few seconds.
    While a :class:`Deadline` is entered, every connection the thread sends on registers with
    it (:meth:`attach`, from :class:`_Connection`); when the deadline passes, a timer thread
    shuts that socket down, so the blocked send or read returns at once and requests raises.
    :meth:`check` then turns whatever requests raised into :class:`DeadlineExceeded`.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._conn: HTTPConnection | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._started: float | None = None

    def __enter__(self) -> Deadline:
        _running.deadline = self
        self._started = time.monotonic()
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        _running.deadline = None
        with self._lock:
            self._conn = None

    def attach(self, conn: HTTPConnection) -> None:
        """``conn`` carries the call now (shut down at once if the deadline has passed)."""
        with self._lock:
            self._conn = conn
            if self.expired:
                _shut(conn)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._conn is not None:
                _shut(self._conn)

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` once the deadline has passed."""
        if self.expired:
            raise DeadlineExceeded(f"{self.seconds:g}s")

    def left(self) -> float:
        """Seconds until the deadline (0 once passed; the whole of it before it is entered)."""
        if self._started is None:
            return self.seconds
        return max(0.0, self.seconds - (time.monotonic() - self._started))


def _shut(conn: HTTPConnection) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _attach(conn: HTTPConnection) -> None:
    deadline = getattr(_running, "deadline", None)
    if deadline is not None:
        deadline.attach(conn)


class _Connection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _TlsConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with a bigger send block size for streamed bodies, and connections
    that a :class:`Deadline` can cut."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("blocksize", BLOCKSIZE)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}


def new_session() -> requests.Session:
    """A keep-alive session whose adapters never retry (retries are ours, per call); its pool
    keeps :data:`POOL_MAXSIZE` connections per host, for the uploads sent in parallel."""
    session = requests.Session()
    adapter = _Adapter(pool_connections=2, pool_maxsize=POOL_MAXSIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Bearer(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, set per request.

    Passing it as ``auth=`` (rather than a plain header) also stops requests from replacing it
    with credentials from ``~/.netrc``.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "Bearer(***)"


class NoAuth(requests.auth.AuthBase):
    """No credentials at all (signed URLs): nothing from ``~/.netrc`` either."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def segment(value: int | str) -> str:
    """One URL path segment, percent-encoded (ids must be real ints)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"invalid id or name in an API path: {value!r}")
    return quote(str(value), safe="")


def maybe_sent(exc: requests.RequestException) -> bool:
    """False when the request surely never reached the server (connect-phase failure)."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, (NewConnectionError, NameResolutionError, ConnectTimeoutError)):
            return False
        nxt = getattr(seen, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = nxt
    return True


def close_session(session: requests.Session) -> None:
    """``session.close()``, and close its pools at once.

    Recent urllib3 closes a dropped pool only when it is garbage-collected; a traceback that
    still references a response would keep the keep-alive socket open until then.
    """
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        pools = getattr(manager, "pools", None)
        if pools is None:
            continue
        for key in list(pools.keys()):  # the container refuses iteration
            pool = pools.get(key)
            if pool is not None:
                pool.close()
    session.close()
