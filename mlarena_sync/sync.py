"""Apply a :class:`~mlarena_sync.plan.Plan` through the client, in a safe order.

Order: uploads of helpers first, then deletes, then the entry file (``agent.py``) last, so the
server validates the agent once everything it imports is there. After **each** successful
operation the base manifest entry is updated and the state saved: an interrupted push leaves a
state that tells the truth about what reached the server, and the next push (which recomputes
the diff from scratch) finishes the job.

What the base records for an upload is what was *sent*: files up to :data:`INLINE_LIMIT` are
read once into memory and hashed from those bytes (a file rewritten mid-upload cannot make the
base lie); bigger files are streamed from disk and re-checked with ``stat`` afterwards — if they
changed meanwhile the entry is marked unknown (``sha256`` empty), so the next push uploads again
instead of believing a hash of bytes that were never sent.

A kill between the server storing an upload and the state being saved is covered by the
write-ahead :class:`~mlarena_sync.journal.Journal`: ``apply_plan`` records each upload there
*before* sending it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.models import FileOpResult
from mlarena_sync.errors import NotFoundError
from mlarena_sync.journal import Journal
from mlarena_sync.plan import Plan, Upload
from mlarena_sync.state import BaseEntry, TargetState

__all__ = ["INLINE_LIMIT", "PROGRESS_MIN_BYTES", "SyncReport", "apply_plan"]

log = structlog.get_logger("mlarena_sync.sync")

#: Files up to this size are read into memory and uploaded from those exact bytes.
INLINE_LIMIT = 8 * 1024 * 1024
#: Uploads at least this big report progress (every 10 %).
PROGRESS_MIN_BYTES = 4 * 1024 * 1024

EventSink = Callable[..., None]


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    last_result: FileOpResult | None = None
    unsure: list[str] = field(default_factory=list)  # changed while streamed: re-sent next time


def _log_event(event: str, **fields: Any) -> None:
    log.info(event, **fields)


def _progress(name: str, on_event: EventSink) -> Callable[[int, int], None]:
    step = {"next": 10}

    def report(sent: int, total: int) -> None:
        if total <= 0:
            return
        pct = sent * 100 // total
        if sent == 0:
            step["next"] = 10  # a retried attempt starts again
        if pct >= step["next"] or sent >= total:
            step["next"] = (pct // 10 + 1) * 10
            on_event("upload_progress", file=name, bytes=sent, total=total, percent=pct)

    return report


def _upload_one(
    client: ArenaClient,
    cid: int,
    aid: int,
    up: Upload,
    on_event: EventSink,
    before_send: Callable[[BaseEntry], None],
) -> tuple[FileOpResult, BaseEntry, bool]:
    local = up.local
    progress = _progress(up.name, on_event) if local.size >= PROGRESS_MIN_BYTES else None
    if local.size <= INLINE_LIMIT:
        data = local.abs_path.read_bytes()
        entry = BaseEntry(local.path, hashlib.sha256(data).hexdigest(), len(data))
        before_send(entry)
        result = client.upload_file(cid, aid, up.name, data, progress=progress)
        return result, entry, True
    before = os.stat(local.abs_path)
    before_send(BaseEntry(local.path, local.sha256, local.size))
    result = client.upload_file(cid, aid, up.name, local.abs_path, progress=progress)
    after = os.stat(local.abs_path)
    steady = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and (
        after.st_size == local.size and after.st_mtime_ns == local.mtime_ns
    )
    if steady:
        return result, BaseEntry(local.path, local.sha256, local.size), True
    return result, BaseEntry(local.path, "", after.st_size), False


def apply_plan(
    client: ArenaClient,
    cid: int,
    aid: int,
    plan: Plan,
    state: TargetState,
    save: Callable[[TargetState], None],
    *,
    entry: str,
    on_event: EventSink | None = None,
    journal: Journal | None = None,
) -> SyncReport:
    """Upload and delete as ``plan`` says; ``state.files`` (the base) is updated and ``save``d
    after every operation. Raises the client's errors (the state stays true to what was done)."""
    emit = on_event or _log_event
    report = SyncReport()
    helpers = [u for u in plan.uploads if u.name != entry]
    last = [u for u in plan.uploads if u.name == entry]

    def upload(up: Upload) -> None:
        def before_send(new: BaseEntry) -> None:
            if journal is not None:
                journal.add(up.name, state.files.get(up.name), new)

        result, base, sure = _upload_one(client, cid, aid, up, emit, before_send)
        state.files[up.name] = base
        save(state)
        report.uploaded.append(up.name)
        report.last_result = result
        if not sure:
            report.unsure.append(up.name)
        emit("upload", file=up.local.path, name=up.name, bytes=base.size, reason=up.reason)

    for up in helpers:
        upload(up)
    for d in plan.deletes:
        try:
            result = client.delete_file(cid, aid, d.name)
        except NotFoundError:
            result = None  # already gone: the goal is reached
        state.files.pop(d.name, None)
        save(state)
        report.deleted.append(d.name)
        if result is not None:
            report.last_result = result
        emit("delete", name=d.name, reason=d.reason)
    for up in last:
        upload(up)
    if journal is not None:
        journal.clear()
    return report
