"""The real CLI at a pseudo-terminal (``os.openpty``): what a person sees, escape codes and all."""

from __future__ import annotations

import contextlib
import io
import os
import select
import subprocess
import time
from collections.abc import Mapping

from helpers.processes import cli_cmd

__all__ = ["TerminalStream", "run_in_terminal"]


def run_in_terminal(
    args: list[str], env: Mapping[str, str], timeout: float = 60
) -> tuple[int, str]:
    """``python -m mlarena_sync *args`` with a pseudo-terminal as stdin, stdout and stderr;
    its exit code and everything it wrote there."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        cli_cmd(*args), stdin=slave, stdout=slave, stderr=slave, env=dict(env), close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break  # ended, and nothing more to read
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal (it ended)
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


class TerminalStream(io.StringIO):
    """An in-memory stream that says it is a terminal (``isatty()``): the renderer's colour and
    redraws, in-process."""

    def isatty(self) -> bool:
        return True
