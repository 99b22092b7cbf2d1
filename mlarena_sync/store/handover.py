"""``.mlarena-sync/watch.sock``: a running ``watch`` lends the folder's lock to another command.

``watch`` owns the folder (product.md, "One folder, one owner"), yet ``push`` (with its flags)
and ``pull`` run beside it are served, not refused. The watcher listens on a Unix socket in the
state folder (mode 0600, removed when it stops). A writer that finds the lock held connects
(:func:`borrow`), says who it is (one JSON line), and waits; the watcher finishes its current
step, releases the lock, answers ``ok``, and waits for the connection to close: the borrower's
exit (an error, Ctrl-C or a kill included: the kernel closes the socket) is the signal. The
watcher then takes the lock back and reconciles. Two writers never act at once: the lock is
``flock``-ed by exactly one process at any moment, the borrower takes it only after the answer.

On a platform without ``AF_UNIX`` the watcher says so once and lends nothing (the borrower is
refused as before, with the reason in the message).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

__all__ = ["SOCKET_FILE", "Borrower", "Lender", "borrow", "unix_sockets"]

log = structlog.get_logger("mlarena_sync.store.handover")

SOCKET_FILE = "watch.sock"
_OK = b"ok\n"
#: Longest wait for a borrower's one-line hello (it sends it at once after connecting).
_HELLO_TIMEOUT = 5.0


def unix_sockets() -> bool:
    """Whether this platform has Unix sockets (the control channel needs them)."""
    return hasattr(socket, "AF_UNIX")


def borrow(state_dir: Path, command: str) -> socket.socket | None:
    """Ask the watcher holding ``state_dir``'s lock to lend it; the open connection once it
    has released the lock (close it after releasing the lock: that hands the folder back), or
    None when no watcher answers here (none listening, a stale socket, no Unix sockets).
    Blocks until the watcher has finished its current step."""
    path = state_dir / SOCKET_FILE
    if not unix_sockets() or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        hello = {"pid": os.getpid(), "command": command}
        sock.sendall(json.dumps(hello).encode() + b"\n")
        reply = _read_line(sock)
    except OSError as exc:
        log.debug("borrow_failed", reason=str(exc))
        sock.close()
        return None
    if reply != _OK:
        sock.close()
        return None
    return sock


def _read_line(sock: socket.socket, limit: int = 4096) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = sock.recv(limit)
        if not chunk:
            break
        data += chunk
    return data


@dataclass(frozen=True)
class Borrower:
    pid: int | None
    command: str


class Lender:
    """The watcher's side: accepts borrowers on a thread, serves them on the caller's
    (:meth:`serve`, between two steps of the loop). ``wake`` is called when one waits."""

    def __init__(self, state_dir: Path, wake: Callable[[], None]) -> None:
        self.path = state_dir / SOCKET_FILE
        self._wake = wake
        self._waiting: queue.Queue[socket.socket] = queue.Queue()
        self._closed = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen (False: no Unix sockets here, or the socket cannot be made)."""
        if not unix_sockets():
            return False
        tmp = self.path.with_name(f"{SOCKET_FILE}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(tmp))
            os.chmod(tmp, 0o600)  # before it has its name: only this user ever connects
            sock.listen(8)
            os.replace(tmp, self.path)  # we hold the lock: a socket there is a dead watcher's
        except OSError as exc:
            log.debug("lender_unavailable", reason=str(exc))
            sock.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="mlarena-lender", daemon=True)
        self._thread.start()
        return True

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            self._waiting.put(conn)
            self._wake()

    def pending(self) -> bool:
        return not self._waiting.empty()

    def serve(
        self,
        lend: Callable[[Borrower, Callable[[], None]], None],
        stopping: threading.Event,
    ) -> int:
        """Serve every borrower waiting now, one at a time: ``lend(borrower, until_returned)``
        releases the lock, calls ``until_returned()`` (answers, then waits for the borrower's
        end, or ``stopping``), and takes the lock back. The number served."""
        served = 0
        while not stopping.is_set():
            try:
                conn = self._waiting.get_nowait()
            except queue.Empty:
                return served
            with conn:
                who = self._hello(conn)
                if who is None:
                    continue

                def until_returned(conn: socket.socket = conn) -> None:
                    conn.sendall(_OK)
                    _wait_closed(conn, stopping)

                lend(who, until_returned)
                served += 1
        return served

    @staticmethod
    def _hello(conn: socket.socket) -> Borrower | None:
        try:
            conn.settimeout(_HELLO_TIMEOUT)
            raw = _read_line(conn)
            conn.settimeout(None)
            data = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        pid = data.get("pid")
        return Borrower(pid if isinstance(pid, int) else None, str(data.get("command", "")))

    def close(self) -> None:
        """Stop listening; the socket file is removed; borrowers still queued are refused."""
        self._closed.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            with contextlib.suppress(OSError):
                self.path.unlink()
        if self._thread is not None:
            self._thread.join(5)
        while not self._waiting.empty():
            self._waiting.get_nowait().close()


def _wait_closed(conn: socket.socket, stopping: threading.Event, step: float = 0.5) -> None:
    """Until the peer closes ``conn`` (its process ended, however), or ``stopping`` is set
    (re-checked every ``step`` s: a stop request must not wait for the borrower)."""
    while not stopping.is_set():
        try:
            ready, _, _ = select.select([conn], [], [], step)
            if ready and not conn.recv(4096):
                return
        except OSError:
            return
