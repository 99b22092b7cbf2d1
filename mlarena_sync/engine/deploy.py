"""The deploy sequence: the local ``check`` gate, one deploy request, following it to the end.

* :func:`run_check` runs ``deploy.check`` in the mirrored folder with a timeout; its output is
  captured so the caller can show it (a failing check means no deploy).
* :func:`request_deploy` sends exactly one deploy. The client never retries it: a lost reply is
  followed by a status read and comes back as ``DeployOutcome(timed_out=True, accepted=...)``.
* :func:`follow` polls the agent status until it settles, emitting each status line once
  (:class:`~mlarena_sync.engine.status_lines.StatusTracker`), bounded by a timeout.
* :func:`record_deploy` remembers when we last deployed (``last_deploy_at`` in the state).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, DeployOutcome
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.engine.status_lines import StatusEvent, StatusTracker
from mlarena_sync.errors import MlarenaSyncError, WaitTimeoutError
from mlarena_sync.store.state import StateStore

__all__ = [
    "CheckResult",
    "follow",
    "record_deploy",
    "request_deploy",
    "run_check",
]

log = structlog.get_logger("mlarena_sync.engine.deploy")

#: Keep at most this much of a check's output (the end matters most: the error).
MAX_CHECK_OUTPUT = 20_000


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    returncode: int | None  # None: it did not finish (timeout) or could not start
    output: str


def _command(cmd: str) -> str:
    """``cmd``, with a leading ``python``/``python3`` replaced by this interpreter when the
    PATH has none (a venv-less CI image, or a Windows-style PATH)."""
    head, _, rest = cmd.strip().partition(" ")
    if head in {"python", "python3"} and shutil.which(head) is None:
        return f"{shlex.quote(sys.executable)} {rest}".rstrip()
    return cmd


def run_check(cmd: str | None, cwd: Path, timeout: float) -> CheckResult:
    """Run the check command (a shell command) in ``cwd``; ``ok`` when it exits 0."""
    if not cmd or not cmd.strip():
        return CheckResult(True, 0, "")
    try:
        proc = subprocess.run(
            _command(cmd),
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raw = exc.output if isinstance(exc.output, bytes) else b""
        text = raw.decode("utf-8", "replace")[-MAX_CHECK_OUTPUT:]
        return CheckResult(False, None, text + f"\n(the check did not finish in {timeout:g}s)")
    except OSError as exc:
        return CheckResult(False, None, f"the check could not start: {exc.strerror}")
    output = proc.stdout.decode("utf-8", "replace")[-MAX_CHECK_OUTPUT:]
    return CheckResult(proc.returncode == 0, proc.returncode, output)


def request_deploy(client: Arena, cid: int, aid: int) -> DeployOutcome:
    """Ask for one deploy (never a second one: a timeout becomes a status read).

    Raises :class:`~mlarena_sync.errors.QuotaError` when the server refuses (409), and
    :class:`MlarenaSyncError` when the reply was lost and no deploy can be seen.
    """
    outcome = client.deploy(cid, aid)
    if outcome.timed_out:
        log.warning(
            "deploy_reply_lost", agent_id=aid, accepted=outcome.accepted, status=outcome.status
        )
        if not outcome.accepted:
            raise MlarenaSyncError(
                f"the deploy request of agent {aid} got no reply and the server shows no deploy "
                f"(agent {outcome.agent_status.status if outcome.agent_status else 'unknown'})",
                hint="run `mlarena-sync status` and push --deploy again if needed; it was not "
                "retried so as not to spend the quota twice",
            )
    return outcome


def follow(
    client: Arena,
    cid: int,
    aid: int,
    on_event: Callable[[StatusEvent], None],
    *,
    clock: Clock = SYSTEM_CLOCK,
    poll: float = 1.0,
    timeout: float = 900.0,
    tracker: StatusTracker | None = None,
    wait_for_start: float = 0.0,
) -> AgentStatus:
    """Poll until the agent settles; each new status line goes to ``on_event`` once.

    ``wait_for_start``: for that many seconds a settled status seen before any in-flight one is
    not trusted (right after a deploy request, the previous verdict may still be showing).
    Raises :class:`WaitTimeoutError` (exit 7) after ``timeout`` seconds without settling.
    """
    tracker = tracker or StatusTracker()
    start = clock.monotonic()
    seen_flight = False
    while True:
        snap = client.status(cid, aid)
        for event in tracker.update(snap):
            on_event(event)
        seen_flight = seen_flight or snap.in_flight
        elapsed = clock.monotonic() - start
        if snap.settled and (seen_flight or elapsed >= wait_for_start):
            return snap
        if elapsed >= timeout:
            raise WaitTimeoutError(
                f"agent {aid} is still {snap.status!r} after {timeout:g}s",
                hint="the deploy goes on on the server; `mlarena-sync logs --follow` shows it",
            )
        clock.sleep(min(poll, max(0.0, timeout - elapsed)) or poll)


def record_deploy(store: StateStore, target_key: str, at: datetime) -> None:
    """Remember the time of our last deploy request in the state."""
    state = store.load(target_key)
    state.last_deploy_at = at
    store.save(target_key, state)
