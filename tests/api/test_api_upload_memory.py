"""A 100 MB upload is streamed: the uploading process's peak RSS grows by less than 30 MB."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = 100 * 1024 * 1024

CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from mlarena_sync.api.client import ArenaClient

    url, path = sys.argv[1], Path(sys.argv[2])
    seen = []
    with ArenaClient(url, "mlk_user_mem_secret") as client:
        client.upload_file(3, 7, "tiny.bin", b"warm up the code paths")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = client.upload_file(3, 7, "big.bin", path, lambda s, t: seen.append((s, t)))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert result.status == "upload_validated", result
    assert seen[-1][0] == seen[-1][1], seen[-1]
    print(before, after, seen[-1][1], file=sys.stderr)
    """
)


class _Sink:
    """A one-connection-at-a-time HTTP/1.1 server that counts and discards request bodies."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.received: list[int] = []
        self.thread = threading.Thread(target=self._run, name="sink", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(10)
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        while not self.stop.is_set():
            line = reader.readline()
            if not line:
                return
            length = 0
            while True:
                header = reader.readline()
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            remaining = length
            while remaining:
                chunk = reader.read(min(remaining, 1 << 20))
                if not chunk:
                    return
                remaining -= len(chunk)
            self.received.append(length)
            body = b'{"message": "ok", "status": "upload_validated", "validation_message": null}'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def sink() -> Iterator[_Sink]:
    server = _Sink()
    try:
        yield server
    finally:
        server.close()


def test_100mb_upload_is_streamed(sink: _Sink, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:  # sparse: instant to create, reads back as zeros
        fh.truncate(SIZE)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, f"http://127.0.0.1:{sink.port}", str(big)],
        capture_output=True,
        text=True,
        timeout=90,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    before_kb, after_kb, total = (int(x) for x in proc.stderr.splitlines()[-1].split())
    assert total > SIZE
    assert sink.received[-1] == total
    assert (after_kb - before_kb) < 30 * 1024, f"peak RSS grew by {after_kb - before_kb} kB"
