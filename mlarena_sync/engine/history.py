"""The deploy ledger's engine side: record a deploy request, complete records as facts arrive.

* :class:`DeployEntry` records each deploy request of ``push`` and ``watch`` before it is
  sent (a deployment whose reply never came is still matched to it later): the manifest (what
  the server holds after the sync: the base entries, remote name → local path, sha256, size;
  for a file changed on the server and left in place, the server's version), the trigger (``ci``
  when ``CI=true``), the git commit and whether the tree is dirty; it keeps the deployed bytes
  in the object store and keeps that store within ``history.keep_bytes``. It never fails a
  deploy: a ledger that cannot be written is a warning.
* :func:`complete` reads what the server knows (the deploy attempts, the status, the runs) and
  appends the facts the open records lack: the outcome once settled, the score. It runs after
  ``push --wait`` (:func:`learn_outcomes`), when ``watch`` sees a deploy settle
  (:func:`learn_settled`), and in ``history``.
* :func:`read_history` is what ``history``, ``diff`` and ``restore`` read: the records, the
  server-side attempts the ledger does not know (made from the browser or another machine),
  and which record is live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, LatestDeploy
from mlarena_sync.engine.deploy_record import DeployEntry, git_info, trigger_for
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.engine.status_lines import FAILED_STATUSES
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import MlarenaSyncError
from mlarena_sync.events import EventSink
from mlarena_sync.store.ledger import SUCCEEDED, DeployRecord, Ledger

__all__ = [
    "DeployEntry",
    "History",
    "complete",
    "failed",
    "git_info",
    "learn_outcomes",
    "learn_settled",
    "read_history",
    "succeeded",
    "trigger_for",
]

#: Runs read to score a deploy (the newest ones; the deploy's own are those after it).
SCORE_RUNS = 10


@dataclass(frozen=True, kw_only=True)
class History:
    records: list[DeployRecord]  # oldest first
    unknown: list[LatestDeploy]  # server-side attempts the ledger does not know, newest first
    live: int | None  # the number of the record deployed now, when known


def failed(status: str | None) -> bool:
    """A settled outcome that is a failure (agent status or deploy attempt status)."""
    return status is not None and (status in FAILED_STATUSES or "fail" in status)


def _attempt_facts(attempt: LatestDeploy) -> dict[str, Any]:
    return {
        "status": attempt.status,
        "message": attempt.failure_message,
        "failure_owner": attempt.failure_owner,
        "finished_at": attempt.finished_at,
    }


def _status_facts(status: AgentStatus, now: datetime) -> dict[str, Any]:
    latest = status.latest_deploy
    return {
        "status": status.status,
        "message": status.message,
        "failure_owner": latest.failure_owner if latest is not None else None,
        "settled_at": now,
    }


def _outcomes(
    records: Sequence[DeployRecord],
    attempts: Sequence[LatestDeploy],
    status: AgentStatus,
    now: datetime,
) -> dict[int, dict[str, Any]]:
    """The outcome facts of the open records: from their own attempt when the server lists
    it settled, else (the newest record only, while its deployment is the server's newest)
    from the agent's settled status."""
    by_id = {a.id: a for a in attempts if a.id is not None}
    newest = max(by_id, default=None)
    facts: dict[int, dict[str, Any]] = {}
    for rec in records:
        if rec.settled:
            continue
        attempt = by_id.get(rec.deployment_id) if rec.deployment_id is not None else None
        if attempt is not None and not attempt.open and attempt.status:
            facts[rec.id] = {**_attempt_facts(attempt), "settled_at": now}
        elif (
            rec is records[-1]
            and rec.deployment_id is not None
            and newest in (None, rec.deployment_id)
            and status.settled
            and not status.in_flight
        ):
            facts[rec.id] = _status_facts(status, now)
    return facts


def _matches(
    records: Sequence[DeployRecord], attempts: Sequence[LatestDeploy], aid: int
) -> dict[int, int]:
    """Open records whose reply never came (interrupted, killed) matched to the deployment
    the server lists for them: the first one newer than the record's ``after_deployment``
    that no record holds."""
    known = {r.deployment_id for r in records if r.deployment_id is not None}
    free = sorted(a.id for a in attempts if a.id is not None and a.id not in known)
    found: dict[int, int] = {}
    for rec in records:
        if rec.deployment_id is not None or rec.settled or rec.agent_id != aid:
            continue
        after = rec.after_deployment
        ids = [i for i in free if after is None or i > after]
        if ids:
            found[rec.id] = ids[0]
            free.remove(ids[0])
    return found


def _score(
    client: Arena, cid: int, rec: DeployRecord, status: AgentStatus
) -> tuple[float | None, int]:
    """The live deploy's score: the server's, else the mean score of the runs after it."""
    if status.score is not None:
        return status.score, status.number_of_runs or 0
    runs = client.run_logs(cid, rec.agent_id or 0, limit=SCORE_RUNS)
    scores = [
        r.score
        for r in runs
        if r.score is not None and (r.created_at is None or r.created_at >= rec.at)
    ]
    return (round(sum(scores) / len(scores), 4) if scores else None), len(scores)


def complete(
    ledger: Ledger,
    key: str,
    client: Arena,
    cid: int,
    aid: int,
    *,
    now: datetime,
    status: AgentStatus | None = None,
) -> list[LatestDeploy]:
    """Append the facts the open records of ``key`` lack (outcome, score); the server's deploy
    attempts (newest first) are returned for the caller to show the ones the ledger does not
    know. ``status``: the agent's status when the caller has just read it."""
    attempts = client.deploys(cid, aid)
    records = ledger.records(key)
    if not records:
        return attempts
    for rid, dep in _matches(records, attempts, aid).items():
        ledger.complete(key, rid, deployment_id=dep)
    records = ledger.records(key)
    status = status if status is not None else client.status(cid, aid)
    for rid, found in _outcomes(records, attempts, status, now).items():
        ledger.complete(key, rid, **found)
    last = ledger.records(key)[-1]
    if last.settled and not failed(last.status) and last.score is None and not status.in_flight:
        score, runs = _score(client, cid, last, status)
        if score is not None:
            ledger.complete(key, last.id, score=score, runs=runs)
    return attempts


def learn_settled(
    rec: Reconciler, aid: int, status: AgentStatus, *, now: datetime, sink: EventSink
) -> None:
    """``watch`` saw a deploy settle: the ledger learns its outcome and score (a warning,
    never an error, when that fails)."""
    ledger = Ledger(rec.store.state_dir)
    try:
        if _open(ledger.records(rec.key)):
            complete(ledger, rec.key, rec.client, rec.cid, aid, now=now, status=status)
    except (OSError, MlarenaSyncError) as exc:
        sink.emit("ledger_incomplete", level="warning", message=str(exc))


def succeeded(status: str | None) -> bool:
    """A settled outcome that went live."""
    return status in SUCCEEDED


def _live(records: Sequence[DeployRecord], unknown: Sequence[LatestDeploy]) -> int | None:
    """The newest record that succeeded (never one in flight); None when a deploy the ledger
    does not know succeeded after it (the browser, another machine)."""
    for rec in reversed(records):
        if succeeded(rec.status):
            later = [
                a
                for a in unknown
                if a.id is not None and rec.deployment_id is not None and a.id > rec.deployment_id
            ]
            return None if any(succeeded(a.status) for a in later) else rec.id
    return None


def _open(records: Sequence[DeployRecord]) -> bool:
    """Facts are still to come: a record not settled, or the live one's score."""
    if any(not r.settled for r in records):
        return True
    return bool(records) and not failed(records[-1].status) and records[-1].score is None


def read_history(ws: Workspace, *, online: bool = True, everything: bool = True) -> History:
    """The target's records (completed first when ``online``), the server-side attempts the
    ledger does not know (``everything``; else the server is asked only while a record is
    open), and the live record."""
    ledger = Ledger(ws.store.state_dir)
    attempts: list[LatestDeploy] = []
    records = ledger.records(ws.key)
    aid = ws.store.load(ws.key).agent_id or (records[-1].agent_id if records else None)
    if online and aid is not None and (everything or _open(records)):
        try:
            with ws.client(read_only=True) as client:
                attempts = complete(
                    ledger, ws.key, client, ws.target.competition, aid, now=ws.clock.now()
                )
        except MlarenaSyncError as exc:  # the ledger is still worth showing
            ws.out.emit("history_offline", level="warning", message=str(exc))
    records = ledger.records(ws.key)
    known = {r.deployment_id for r in records if r.deployment_id is not None}
    first = records[0].at if records else None
    unknown = [
        a
        for a in attempts
        if a.id is not None
        and a.id not in known
        and (first is None or a.created_at is None or a.created_at >= first)
    ]
    return History(records=records, unknown=unknown, live=_live(records, unknown))


def learn_outcomes(ws: Workspace) -> None:
    """After ``push --wait``: the ledger learns the outcome and score of what push waited
    for (a warning, never an error, when the server cannot tell now)."""
    try:
        read_history(ws, everything=False)
    except OSError as exc:
        ws.out.emit("ledger_incomplete", level="warning", message=str(exc))
