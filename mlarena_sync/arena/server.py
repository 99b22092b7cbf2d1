"""cheroot's threaded HTTP/1.1 keep-alive server, with connection counting and drops."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from typing import Any, Literal

from cheroot import server as cheroot_server
from cheroot import wsgi

from mlarena_sync.arena.errors import ArenaSetupError

#: What to do with a request: None (answer it), "before" (close the connection without handling
#: it) or "after" (handle it, then close the connection without a reply: a lost reply).
Drop = Literal["before", "after"] | None
# (method, path) -> the request's Drop.
DropHook = Callable[[str, str], Drop]


class _Discard:
    """A write side that swallows the reply (``drop after``)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


class _Request(cheroot_server.HTTPRequest):
    def respond(self) -> None:
        hook: DropHook | None = getattr(self.server, "drop_hook", None)
        method = (self.method or b"").decode("latin-1")
        path = (self.path or b"").decode("latin-1").split("?", 1)[0]
        drop = hook(method, path) if hook is not None else None
        if drop is None:
            super().respond()
            return
        self.close_connection = True  # nothing written: the client sees a closed socket
        if drop == "after":
            wfile, self.conn.wfile = self.conn.wfile, _Discard()
            try:
                super().respond()
            finally:
                self.conn.wfile = wfile


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request

    def __init__(self, server: Any, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, sock, *args, **kwargs)
        on_connection: Callable[[], None] | None = getattr(server, "on_connection", None)
        if on_connection is not None:
            on_connection()


class _Server(wsgi.Server):
    drop_hook: DropHook | None = None
    on_connection: Callable[[], None] | None = None

    @staticmethod
    def bind_socket(socket_: Any, bind_addr: Any) -> Any:
        """cheroot's, but a socket that cannot be bound is closed (cheroot leaves it open)."""
        try:
            socket_.bind(bind_addr)
        except OSError:
            socket_.close()
            raise
        return socket_


def _bind_error(addr: Any, exc: OSError) -> ArenaSetupError:
    host, port = addr[:2]
    # cheroot folds the errors of every address it tried into one message, without an errno
    if exc.errno == errno.EADDRINUSE or os.strerror(errno.EADDRINUSE) in str(exc):
        return ArenaSetupError(f"port {port} is in use on {host}; pass --port 0 for a free one")
    if exc.errno == errno.EACCES or os.strerror(errno.EACCES) in str(exc):
        return ArenaSetupError(
            f"no permission to listen on port {port} of {host}; pass --port 0 for a free one"
        )
    return ArenaSetupError(f"cannot listen on {host} port {port}: {exc}")


class ArenaServer:
    """Serve ``app`` on ``(host, port)``; ``port=0`` picks a free port."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str,
        port: int,
        *,
        drop_hook: DropHook,
        on_connection: Callable[[], None],
        threads: int = 16,
    ) -> None:
        self._server = _Server((host, port), app, numthreads=threads, max=64, timeout=30)
        self._server.ConnectionClass = _Connection
        self._server.drop_hook = drop_hook
        self._server.on_connection = on_connection
        self._server.shutdown_timeout = 2
        self._thread: threading.Thread | None = None

    def start(self) -> tuple[str, int]:
        """Bind and serve; :class:`ArenaSetupError` when the address cannot be bound."""
        try:
            self._server.prepare()
        except OSError as exc:
            raise _bind_error(self._server.bind_addr, exc) from None
        host, port = self._server.bind_addr[:2]
        self._thread = threading.Thread(
            target=self._server.serve, name="fake-arena-http", daemon=True
        )
        self._thread.start()
        return str(host), int(port)

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
