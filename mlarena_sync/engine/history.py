"""The deploy ledger's engine side: record a deploy request, complete records as facts arrive.

* :func:`record_deploy_request` is called once per deploy request the server accepted (by
  ``push`` and ``watch``, where the request is sent). It appends the record: the manifest (what
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

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, DeployOutcome, LatestDeploy
from mlarena_sync.config.model import Target
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.engine.status_lines import FAILED_STATUSES
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import MlarenaSyncError
from mlarena_sync.events import EventSink
from mlarena_sync.store.ledger import DeployRecord, FileRecord, Ledger
from mlarena_sync.store.objects import ObjectStore
from mlarena_sync.store.state import StateStore

__all__ = [
    "History",
    "complete",
    "failed",
    "git_info",
    "learn_outcomes",
    "learn_settled",
    "read_history",
    "record_deploy_request",
    "trigger_for",
]

GIT_TIMEOUT = 5.0
#: Runs read to score a deploy (the newest ones; the deploy's own are those after it).
SCORE_RUNS = 10


@dataclass(frozen=True, kw_only=True)
class History:
    records: list[DeployRecord]  # oldest first
    unknown: list[LatestDeploy]  # server-side attempts the ledger does not know, newest first
    live: int | None  # the number of the record deployed now, when known


def trigger_for(caller: str, env: dict[str, str] | None = None) -> str:
    """``ci`` when ``CI=true`` (any CI service sets it), else the caller (push, watch)."""
    value = (env if env is not None else os.environ).get("CI", "")
    return "ci" if value.strip().lower() in ("true", "1", "yes") else caller


def git_info(folder: Path) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git repository holding ``folder``; None when
    there is none (or no git, or git does not answer in time)."""
    try:
        head = _git(folder, "rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        changes = _git(folder, "status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = changes.returncode != 0 or bool(changes.stdout.strip())
    return {"commit": head.stdout.strip(), "dirty": dirty}


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def record_deploy_request(
    store: StateStore,
    target: Target,
    key: str,
    *,
    agent_id: int,
    outcome: DeployOutcome,
    at: datetime,
    caller: str,
    sink: EventSink,
    rec: Reconciler | None = None,
) -> DeployRecord | None:
    """Append the ledger record of one accepted deploy request (never raises: a ledger that
    cannot be written is a ``ledger_failed`` warning, the deploy goes on). ``rec``: the
    reconciler that synced; the files it left in place on the server are recorded as the
    server's version (:func:`server_versions`)."""
    try:
        files = {
            name: FileRecord(e.path, e.sha256, e.size)
            for name, e in sorted(store.load(key).files.items())
        }
        objects = ObjectStore(store.state_dir)
        for entry in files.values():
            objects.put_file(target.files.root / entry.path, entry.sha256)
        if rec is not None:
            files.update(server_versions(rec, agent_id, files, objects, sink))
        ledger = Ledger(store.state_dir)
        record = ledger.append(
            DeployRecord(
                id=0,
                target=key,
                at=at,
                agent_id=agent_id,
                deployment_id=outcome.deployment_id,
                trigger=trigger_for(caller),
                files=files,
                git=git_info(target.files.root),
                check="passed" if target.deploy.check else "none",
            )
        )
        manifests = [{e.sha256 for e in r.files.values() if e.known} for r in ledger.records()]
        objects.prune(target.history.keep_bytes, manifests)
    except (OSError, MlarenaSyncError) as exc:
        sink.emit("ledger_failed", level="warning", message=str(exc))
        return None
    sink.emit("deploy_recorded", id=record.id, deployment_id=record.deployment_id, files=len(files))
    return record


def server_versions(
    rec: Reconciler,
    aid: int,
    files: dict[str, FileRecord],
    objects: ObjectStore,
    sink: EventSink,
) -> dict[str, FileRecord]:
    """The manifest entries of the files the sync left in place on the server (changed there
    only): the server's bytes, read back where the generation can (v4.6 downloads, v0's listing
    holds a text file's text) and kept in ``objects``; a hash of "" when they cannot be read."""
    out: dict[str, FileRecord] = {}
    for name, remote in sorted(rec.left_in_place.items()):
        path = files[name].path if name in files else name
        data: bytes | None = None
        if remote.content is not None and not remote.is_binary:
            data = remote.content.encode("utf-8")
        elif rec.client.capabilities.download_bytes:
            try:
                data = rec.client.download_file(rec.cid, aid, name)
            except MlarenaSyncError as exc:
                sink.emit(
                    "ledger_server_version_unread", level="warning", name=name, message=str(exc)
                )
        if data is not None:
            out[name] = FileRecord(path, objects.put_bytes(data), len(data), server=True)
        else:
            out[name] = FileRecord(path, "", remote.size or 0, server=True)
    return out


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
    it settled, else (the newest record only) from the agent's settled status."""
    by_id = {a.id: a for a in attempts if a.id is not None}
    facts: dict[int, dict[str, Any]] = {}
    for rec in records:
        if rec.settled:
            continue
        attempt = by_id.get(rec.deployment_id) if rec.deployment_id is not None else None
        if attempt is not None and not attempt.open and attempt.status:
            facts[rec.id] = {**_attempt_facts(attempt), "settled_at": now}
        elif rec is records[-1] and status.settled and not status.in_flight:
            facts[rec.id] = _status_facts(status, now)
    return facts


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


def _live(records: Sequence[DeployRecord]) -> int | None:
    """The newest record that did not fail (an open one counts: it is on its way)."""
    for rec in reversed(records):
        if not failed(rec.status):
            return rec.id
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
    return History(records=records, unknown=unknown, live=_live(records))


def learn_outcomes(ws: Workspace) -> None:
    """After ``push --wait``: the ledger learns the outcome and score of what push waited
    for (a warning, never an error, when the server cannot tell now)."""
    try:
        read_history(ws, everything=False)
    except OSError as exc:
        ws.out.emit("ledger_incomplete", level="warning", message=str(exc))
