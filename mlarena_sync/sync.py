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

A kill between the server storing an upload and the state being saved would leave the base
describing the old file while the server holds the new one: the next push would call that a
conflict (for a binary file, where only sizes can be compared). :class:`Journal` is a
write-ahead journal: each upload is recorded (old and new base entry) *before* it is sent, and
:func:`recover_pending` settles the entries left behind, from what the server now holds, at the
start of the next reconcile. Ambiguous cases keep the old entry, which only costs a re-upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.models import FileOpResult, RemoteFile
from mlarena_sync.errors import NotFoundError
from mlarena_sync.plan import Plan, Upload
from mlarena_sync.state import BaseEntry, TargetState

__all__ = [
    "INLINE_LIMIT",
    "PROGRESS_MIN_BYTES",
    "Journal",
    "SyncReport",
    "apply_plan",
    "recover_pending",
]

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


def _entry_json(e: BaseEntry | None) -> list[object] | None:
    return None if e is None else [e.path, e.sha256, e.size, e.remote_sha256]


def _entry_from(data: object) -> BaseEntry | None:
    if (
        isinstance(data, list)
        and len(data) == 4
        and isinstance(data[0], str)
        and isinstance(data[1], str)
        and isinstance(data[2], int)
        and (data[3] is None or isinstance(data[3], str))
    ):
        return BaseEntry(data[0], data[1], data[2], data[3])
    return None


class Journal:
    """``.mlarena-sync/journal.json``: what an interrupted run may have left half done.

    Per target key: ``uploads`` sent but maybe not recorded in the base (old and new entry),
    ``deploy_pending`` (a push applied changes and has not taken its deploy decision yet), and
    ``creating`` (a create-agent request was sent; its reply, the id, may never have arrived).
    Tolerant: an unreadable journal is treated as empty (the cost: a re-upload)."""

    FILE = "journal.json"

    def __init__(self, state_dir: Path, target_key: str) -> None:
        self.path = Path(state_dir) / self.FILE
        self.key = target_key

    def _read_all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        targets = data.get("targets") if isinstance(data, dict) else None
        return targets if isinstance(targets, dict) else {}

    def _mine(self) -> dict[str, Any]:
        mine = self._read_all().get(self.key)
        return mine if isinstance(mine, dict) else {}

    def _update(self, **changes: Any) -> None:
        targets = self._read_all()
        mine = targets.get(self.key)
        mine = dict(mine) if isinstance(mine, dict) else {}
        for k, v in changes.items():
            if v:
                mine[k] = v
            else:
                mine.pop(k, None)
        if mine:
            targets[self.key] = mine
        else:
            targets.pop(self.key, None)
        if not targets:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".journal.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "targets": targets}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ---- uploads
    def load(self) -> dict[str, tuple[BaseEntry | None, BaseEntry]]:
        rows = self._mine().get("uploads")
        out: dict[str, tuple[BaseEntry | None, BaseEntry]] = {}
        if isinstance(rows, dict):
            for name, row in rows.items():
                if isinstance(row, dict):
                    new = _entry_from(row.get("new"))
                    if new is not None:
                        out[str(name)] = (_entry_from(row.get("old")), new)
        return out

    def add(self, name: str, old: BaseEntry | None, new: BaseEntry) -> None:
        rows = self.load()
        rows[name] = (old, new)
        self._update(
            uploads={
                n: {"old": _entry_json(o), "new": _entry_json(w)} for n, (o, w) in rows.items()
            }
        )

    def clear(self) -> None:
        """Forget the uploads (all recorded in the base)."""
        if self._mine().get("uploads"):
            self._update(uploads=None)

    # ---- a push's deploy decision
    def deploy_pending(self) -> bool:
        return self._mine().get("deploy_pending") is True

    def set_deploy_pending(self, pending: bool) -> None:
        if self.deploy_pending() != pending:
            self._update(deploy_pending=pending)

    # ---- agent creation
    def creating(self) -> str | None:
        """The agent name of a create request whose reply never came, if any."""
        value = self._mine().get("creating")
        return value if isinstance(value, str) else None

    def set_creating(self, name: str | None) -> None:
        self._update(creating=name)


def recover_pending(journal: Journal, state: TargetState, remote: Mapping[str, RemoteFile]) -> bool:
    """Settle uploads a killed run left in the journal; True when the base changed."""
    rows = journal.load()
    if not rows:
        return False
    changed = False
    for name, (old, new) in rows.items():
        rf = remote.get(name)
        if rf is None or state.files.get(name) == new:
            continue
        if rf.sha256 is not None:
            landed = rf.sha256 == new.sha256
        else:  # binary: sizes only; equal old and new sizes cannot tell, keep the old entry
            landed = rf.size == new.size and (old is None or old.size != new.size)
        if landed and new.sha256:
            state.files[name] = new
            changed = True
            log.info("pending_upload_recovered", name=name)
    journal.clear()
    return changed


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
