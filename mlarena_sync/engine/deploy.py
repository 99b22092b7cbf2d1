"""The deploy sequence: the local ``check`` gate, one deploy request, following it to the end.

* :func:`run_check` runs ``deploy.check`` in the mirrored folder with a timeout, without the API
  token in its environment; its output is captured so the caller can show it (a failing check
  means no deploy).
* :func:`request_deploy` sends exactly one deploy. The client never retries it: the latest deploy
  id is read and journaled before sending; a lost reply (timeout, 5xx, unreadable 2xx) is
  answered by reading the deploys again: a newer id means the server took it
  (``DeployOutcome(timed_out=True, accepted=True)``). :func:`settle_request` does the same for a
  request a killed run left in the journal.
* :func:`follow` polls the agent status until it settles, emitting each status line once
  (:class:`~mlarena_sync.engine.status_lines.StatusTracker`), bounded by a timeout.
* :func:`record_deploy` remembers when we last deployed (``last_deploy_at`` in the state).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, DeployOutcome
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config.targets import DEFAULT_API_KEY_ENV
from mlarena_sync.engine.status_lines import StatusEvent, StatusTracker
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    ClientError,
    MaintenanceError,
    MlarenaSyncError,
    NotFoundError,
    QuotaError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from mlarena_sync.store.journal import DeployRequest, Journal
from mlarena_sync.store.ledger import NOT_TAKEN, Ledger
from mlarena_sync.store.state import StateStore
from mlarena_sync.tokens import looks_like_token

__all__ = [
    "CheckResult",
    "DeployHook",
    "check_env",
    "follow",
    "latest_deploy_id",
    "record_deploy",
    "request_deploy",
    "run_check",
    "settle_request",
]

log = structlog.get_logger("mlarena_sync.engine.deploy")

#: Keep at most this much of a check's output (the end matters most: the error).
MAX_CHECK_OUTPUT = 20_000


class DeployHook(Protocol):
    """Told about one deploy request (the deploy ledger): ``sending`` before it leaves (with
    the server's newest deployment id then), ``not_taken`` when the server surely did not take
    it. A request whose fate is unknown (its reply lost) hears nothing more here."""

    def sending(self, before: int | None) -> None: ...

    def not_taken(self, message: str) -> None: ...


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


def check_env(hide: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment without the API token: ``MLARENA_API_KEY``, the variables
    named in ``hide`` (``api_key_env``), and any value shaped like a token. The check is a
    command from ``mlarena.yaml``, which may come from someone else's repository."""
    hidden = {DEFAULT_API_KEY_ENV, *hide}
    return {k: v for k, v in os.environ.items() if k not in hidden and not looks_like_token(v)}


def run_check(
    cmd: str | None, cwd: Path, timeout: float, *, hide_env: Iterable[str] = ()
) -> CheckResult:
    """Run the check command (a shell command) in ``cwd``, without the API token in its
    environment (:func:`check_env`); ``ok`` when it exits 0."""
    if not cmd or not cmd.strip():
        return CheckResult(True, 0, "")
    try:
        proc = subprocess.run(
            _command(cmd),
            shell=True,
            cwd=cwd,
            env=check_env(hide_env),
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


def latest_deploy_id(client: Arena, cid: int, aid: int) -> int | None:
    """The newest deploy id the server shows for the agent (None: it has none yet)."""
    ids = [d.id for d in client.deploys(cid, aid) if d.id is not None]
    return max(ids) if ids else None


def request_deploy(
    client: Arena,
    cid: int,
    aid: int,
    journal: Journal | None = None,
    *,
    now: datetime | None = None,
    hook: DeployHook | None = None,
) -> DeployOutcome:
    """Ask for one deploy (never a second one: a lost reply becomes a read of the deploys).

    The server's latest deploy id is read first and, with ``journal``, recorded (fsynced)
    *before* the request leaves, so a run killed while waiting for the reply (it can take a
    minute) leaves what the next run needs to tell whether the server took it
    (:func:`settle_request`). A lost reply (timeout, dropped connection, a 5xx such as a
    gateway's 502/504, a 2xx that cannot be read) is answered the same way: a deploy id newer
    than the one read before means the server took it. No clock is compared. ``hook`` hears
    of the request before it leaves, and when it was surely not taken.

    Raises :class:`~mlarena_sync.errors.QuotaError` when the server refuses (409), and
    :class:`MlarenaSyncError` when the reply was lost and no new deploy can be seen.
    """
    before = latest_deploy_id(client, cid, aid)
    if journal is not None:
        journal.set_deploy_request(DeployRequest(aid, before, now))
    if hook is not None:
        hook.sending(before)
    try:
        try:
            outcome = client.deploy(cid, aid)
        except (QuotaError, ClientError, NotFoundError, AuthError, MaintenanceError):
            _forget(journal)  # refused as sent: nothing was taken
            raise
        except ServerError as exc:  # a 5xx or an unreadable 2xx: the reply is lost, maybe not more
            return _after_lost_reply(client, cid, aid, before, journal, exc.message)
        if outcome.timed_out:
            why = outcome.message or "no reply"
            return _after_lost_reply(client, cid, aid, before, journal, why)
    except TransportError:
        raise  # maybe taken: the journal keeps the request for the next run to settle
    except MlarenaSyncError as exc:
        if hook is not None:
            hook.not_taken(exc.message)
        raise
    _forget(journal)
    return outcome


def _forget(journal: Journal | None) -> None:
    if journal is not None:
        journal.set_deploy_request(None)


def _after_lost_reply(
    client: Arena, cid: int, aid: int, before: int | None, journal: Journal | None, why: str
) -> DeployOutcome:
    """Whether the server took a deploy whose reply was lost: a deploy newer than ``before``."""
    log.warning("deploy_reply_lost", agent_id=aid, reason=why, before=before)
    try:
        after = latest_deploy_id(client, cid, aid)
    except ApiError as exc:  # the record stays in the journal: the next run settles it
        raise TransportError(
            f"the deploy request of agent {aid} got no usable reply ({why}), and its deploys "
            f"could not be read ({exc.message}): the deploy may or may not have been taken",
            hint="it was not retried; the next push or watch checks whether the server took it "
            "and deploys only if it did not",
        ) from None
    _forget(journal)
    if after is None or after == before:
        raise MlarenaSyncError(
            f"the deploy request of agent {aid} got no usable reply ({why}) and the server "
            "shows no new deploy",
            hint="run `mlarena-sync status`, then push again: the synced files stay pending; "
            "it was not retried so as not to spend the quota twice",
        )
    try:
        agent = client.status(cid, aid)
    except ApiError:
        agent = None
    return DeployOutcome(
        accepted=True,
        deployment_id=after,
        status=agent.status if agent is not None else None,
        message=f"the deploy request got no usable reply, but the server took it "
        f"(deployment {after})",
        timed_out=True,
        agent_status=agent,
    )


def settle_request(
    client: Arena, cid: int, journal: Journal, *, keep_pending: bool = False
) -> bool | None:
    """Settle a deploy request an earlier run sent without seeing its answer (killed, or the
    reply lost and the deploys unreadable): True when the server took it (then the pending
    deploy it was for is cleared, unless ``keep_pending``: newer edits wait), False when it did
    not (the pending deploy stays), None when no request was recorded. An :class:`ApiError`
    other than a 404 propagates and keeps the record."""
    request = journal.deploy_request()
    if request is None:
        return None
    try:
        latest = latest_deploy_id(client, cid, request.agent_id)
    except NotFoundError:  # the agent is gone: nothing to settle
        latest = request.before
    taken = latest is not None and latest != request.before
    if taken and not keep_pending:
        journal.set_deploy_pending(False)
    _settle_record(journal, request, latest if taken else None)
    journal.set_deploy_request(None)
    # the caller (push, watch) says it in words: deploy_request_settled; this is a diagnostic
    log.debug("deploy_request_checked", agent_id=request.agent_id, taken=taken, latest=latest)
    return taken


def _settle_record(journal: Journal, request: DeployRequest, taken: int | None) -> None:
    """The deploy ledger's record of a request settled by :func:`settle_request`: its
    deployment id when the server took it (the first after ``before``), else not taken."""
    ledger = Ledger(journal.path.parent)
    try:
        for rec in reversed(ledger.records(journal.key)):
            if (
                rec.deployment_id is None
                and rec.status is None
                and rec.agent_id == request.agent_id
            ):
                if rec.after_deployment != request.before:
                    continue
                if taken is not None:
                    ledger.complete(journal.key, rec.id, deployment_id=taken)
                else:
                    ledger.complete(
                        journal.key,
                        rec.id,
                        status=NOT_TAKEN,
                        message="the request never reached the server",
                    )
                return
    except OSError as exc:
        log.warning("ledger_unsettled", error=str(exc))


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
                hint="the deploy continues on the server: `mlarena-sync logs --follow` follows it",
            )
        clock.sleep(min(poll, max(0.0, timeout - elapsed)) or poll)


def record_deploy(store: StateStore, target_key: str, at: datetime) -> None:
    """Remember the time of our last deploy request in the state."""
    state = store.load(target_key)
    state.last_deploy_at = at
    store.save(target_key, state)
