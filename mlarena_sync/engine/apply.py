"""Apply a :class:`~mlarena_sync.engine.plan.Plan` through the client, in a safe order.

Order: the helpers first (small ones :data:`MAX_IN_FLIGHT` at a time, then the big ones one by
one), then the deletes, then the entry file (``agent.py``) last and alone, only once everything
before it succeeded, so the server validates the agent once everything it imports is there.

Crash safety without a write per file: before sending anything, the whole batch's intents (per
upload the old and the new base entry, and the names to delete) go to the write-ahead
:class:`~mlarena_sync.store.journal.Journal` in **one** write. The base manifest is then saved in
batches (every :data:`SAVE_INTERVAL` seconds or :data:`SAVE_EVERY` operations, whichever comes
first, and once at the end, also when an operation failed). A kill between an upload reaching
the server and the next save loses nothing: the next reconcile settles the journaled entries
against the remote listing (:func:`~.journal.recover_pending`) and recomputes the diff
from scratch.

What the base records for an upload is what was *sent*: files up to :data:`INLINE_LIMIT` are
read once into memory and hashed from those bytes (a file rewritten mid-upload cannot make the
base lie; when the bytes differ from the scan's, the journal entry is rewritten before the send);
bigger files are streamed from disk and re-checked with ``stat`` afterwards — if they changed
meanwhile the entry is marked unknown (``sha256`` empty), so the next push uploads again instead
of believing a hash of bytes that were never sent.

Errors: the first failed upload stops the scheduling of new ones; those already in flight are
waited for and recorded (each still emits its ``upload`` event), then the error is raised. A file
deleted between the scan and its upload is no error: it changed during the sync, so it is skipped
(``changed_during_sync``, :attr:`SyncReport.vanished`; nothing of it was sent) and the caller
rescans.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import structlog

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import FileOpResult
from mlarena_sync.engine.plan import Plan, Upload
from mlarena_sync.errors import NotFoundError
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import BaseEntry, TargetState

__all__ = [
    "INLINE_LIMIT",
    "MAX_IN_FLIGHT",
    "PROGRESS_MIN_BYTES",
    "SAVE_EVERY",
    "SAVE_INTERVAL",
    "SyncReport",
    "apply_plan",
]

log = structlog.get_logger("mlarena_sync.engine.apply")

#: Files up to this size are read into memory and uploaded from those exact bytes.
INLINE_LIMIT = 8 * 1024 * 1024
#: Uploads at least this big may report progress (every 10 %); they are sent one at a time.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024
#: ... once they have taken this many seconds (a fast upload shows no progress).
PROGRESS_AFTER = 1.0
#: Smaller uploads in flight at once (the client's connection pool keeps as many sockets).
MAX_IN_FLIGHT = 8
#: The base manifest is saved at least this often (seconds) while a batch runs ...
SAVE_INTERVAL = 0.5
#: ... or after this many operations, whichever comes first (and at the end).
SAVE_EVERY = 200

#: ``emit(event, **fields)``: an :class:`~mlarena_sync.events.EventSink` as a callable
#: (:func:`~mlarena_sync.events.as_callback`), the shape the batch's workers call.
Emit = Callable[..., None]


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    last_result: FileOpResult | None = None
    unsure: list[str] = field(default_factory=list)  # changed while streamed: re-sent next time
    vanished: list[str] = field(default_factory=list)  # deleted after the scan: skipped


class _Vanished(Exception):
    """The file of an upload was deleted after the scan: nothing of it was sent."""

    def __init__(self, up: Upload) -> None:
        super().__init__(up.name)
        self.up = up


def _log_event(event: str, **fields: Any) -> None:
    log.info(event, **fields)


def _progress(
    name: str,
    on_event: Emit,
    size: int,
    *,
    after: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[int, int], None]:
    """A progress callback: ``upload_progress`` every 10 %, only once the upload has taken
    ``after`` seconds (default :data:`PROGRESS_AFTER`; a fast one says nothing), in the file's
    bytes (``size``; the callback gets the multipart body's, a little more)."""
    wait = PROGRESS_AFTER if after is None else after
    step = {"next": 10.0, "start": clock()}

    def report(sent: int, total: int) -> None:
        if total <= 0:
            return
        if sent == 0:  # the start, or a retried attempt starting again
            step["next"], step["start"] = 10, clock()
            return
        if clock() - step["start"] < wait:
            return
        pct = sent * 100 // total
        if pct >= step["next"] or sent >= total:
            step["next"] = (pct // 10 + 1) * 10
            done = size if sent >= total else min(size, sent * size // total)
            on_event("upload_progress", file=name, bytes=done, total=size, percent=pct)

    return report


@dataclass(frozen=True)
class _Sent:
    up: Upload
    result: FileOpResult
    entry: BaseEntry
    sure: bool


class _Batch:
    """One plan being applied: the base, its batched saves, the journal, the report."""

    def __init__(
        self,
        client: Arena,
        cid: int,
        aid: int,
        state: TargetState,
        save: Callable[[TargetState], None],
        emit: Emit,
        journal: Journal | None,
    ) -> None:
        self.client = client
        self.cid = cid
        self.aid = aid
        self.state = state
        self._save = save
        self.emit = emit
        self.journal = journal
        self._journal_lock = threading.Lock()
        self.report = SyncReport()
        self._unsaved = 0
        self._saved_at = time.monotonic()

    # ---------------------------------------------------------------- the base
    def done(self) -> None:
        """One more operation recorded in the base: save when the batch window is over."""
        self._unsaved += 1
        if self._unsaved >= SAVE_EVERY or time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.flush()

    def flush(self) -> None:
        if self._unsaved:
            self._save(self.state)
            self._unsaved = 0
        self._saved_at = time.monotonic()

    # ---------------------------------------------------------------- uploads
    def send(self, up: Upload, journaled: BaseEntry | None) -> _Sent:
        """Upload one file (any thread); ``journaled`` is the entry the journal holds for it.
        :class:`_Vanished` when the file is gone before any of it was sent."""
        try:
            return self._send(up, journaled)
        except FileNotFoundError:
            raise _Vanished(up) from None

    def _send(self, up: Upload, journaled: BaseEntry | None) -> _Sent:
        local = up.local
        big = local.size >= PROGRESS_MIN_BYTES
        progress = _progress(up.name, self.emit, local.size) if big else None
        if local.size <= INLINE_LIMIT:
            data = local.abs_path.read_bytes()
            entry = BaseEntry(local.path, hashlib.sha256(data).hexdigest(), len(data))
            if self.journal is not None and entry != journaled:
                # Rewritten since the scan: the journal must name the bytes actually sent.
                with self._journal_lock:
                    self.journal.add(up.name, self.state.files.get(up.name), entry)
            result = self.client.upload_file(self.cid, self.aid, up.name, data, progress=progress)
            return _Sent(up, result, entry, True)
        before = os.stat(local.abs_path)
        result = self.client.upload_file(
            self.cid, self.aid, up.name, local.abs_path, progress=progress
        )
        try:
            after = os.stat(local.abs_path)
        except FileNotFoundError:  # sent, then deleted: what was sent is not known for sure
            return _Sent(up, result, BaseEntry(local.path, "", local.size), False)
        steady = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and (
            after.st_size == local.size and after.st_mtime_ns == local.mtime_ns
        )
        entry = BaseEntry(local.path, local.sha256, local.size)
        if steady:
            return _Sent(up, result, entry, True)
        return _Sent(up, result, BaseEntry(local.path, "", after.st_size), False)

    def record(self, sent: _Sent) -> None:
        """An upload the server took: into the base and the report, its event (main thread)."""
        up = sent.up
        self.state.files[up.name] = sent.entry
        self.report.uploaded.append(up.name)
        self.report.last_result = sent.result
        if not sent.sure:
            self.report.unsure.append(up.name)
        self.emit(
            "upload", file=up.local.path, name=up.name, bytes=sent.entry.size, reason=up.reason
        )
        self.done()

    def skip(self, gone: _Vanished) -> None:
        """An upload whose file was deleted after the scan: left out (main thread)."""
        up = gone.up
        self.report.vanished.append(up.name)
        self.emit(
            "changed_during_sync",
            file=up.local.path,
            name=up.name,
            text=f"{up.local.path}: deleted while syncing; skipped (rescanning)",
        )

    def upload_one(self, up: Upload, intents: dict[str, BaseEntry]) -> None:
        try:
            self.record(self.send(up, intents.get(up.name)))
        except _Vanished as gone:
            self.skip(gone)

    def upload_many(self, ups: Sequence[Upload], intents: dict[str, BaseEntry]) -> None:
        """``ups`` with at most :data:`MAX_IN_FLIGHT` in flight; the first error stops the
        scheduling, waits for those in flight (recorded), then is raised."""
        if not ups:
            return
        if len(ups) == 1:
            self.upload_one(ups[0], intents)
            return
        error: BaseException | None = None
        pool = ThreadPoolExecutor(
            max_workers=min(MAX_IN_FLIGHT, len(ups)), thread_name_prefix="mlarena-upload"
        )
        futures: dict[Future[_Sent], int] = {}
        try:
            for i, up in enumerate(ups):
                futures[pool.submit(self.send, up, intents.get(up.name))] = i
            pending: set[Future[_Sent]] = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=futures.__getitem__):
                    if fut.cancelled():
                        continue
                    exc = fut.exception()
                    if exc is None:
                        self.record(fut.result())
                    elif isinstance(exc, _Vanished):
                        self.skip(exc)
                    elif error is None:
                        error = exc
                        for other in pending:  # stop scheduling; in-flight ones run to the end
                            other.cancel()
        finally:
            for fut in futures:
                fut.cancel()
            pool.shutdown(wait=True)
        if error is not None:
            raise error

    def upload_each(self, ups: Sequence[Upload], intents: dict[str, BaseEntry]) -> None:
        for up in ups:
            self.upload_one(up, intents)

    # ---------------------------------------------------------------- deletes
    def delete(self, name: str, reason: str) -> None:
        try:
            result = self.client.delete_file(self.cid, self.aid, name)
        except NotFoundError:
            result = None  # already gone: the goal is reached
        self.state.files.pop(name, None)
        self.report.deleted.append(name)
        if result is not None:
            self.report.last_result = result
        self.emit("delete", name=name, reason=reason)
        self.done()


def apply_plan(
    client: Arena,
    cid: int,
    aid: int,
    plan: Plan,
    state: TargetState,
    save: Callable[[TargetState], None],
    *,
    entry: str,
    on_event: Emit | None = None,
    journal: Journal | None = None,
) -> SyncReport:
    """Upload and delete as ``plan`` says; ``state.files`` (the base) is updated after every
    operation and ``save``d in batches (see the module docstring) and at the end. Raises the
    client's errors (the state saved first tells the truth about what was done)."""
    batch = _Batch(client, cid, aid, state, save, on_event or _log_event, journal)
    helpers = [u for u in plan.uploads if u.name != entry]
    last = [u for u in plan.uploads if u.name == entry]
    intents = {u.name: BaseEntry(u.local.path, u.local.sha256, u.local.size) for u in plan.uploads}
    if journal is not None and (plan.uploads or plan.deletes):
        journal.add_many(
            {name: (state.files.get(name), new) for name, new in intents.items()},
            deletes=[d.name for d in plan.deletes],
        )
    try:
        batch.upload_many([u for u in helpers if u.local.size < PROGRESS_MIN_BYTES], intents)
        batch.upload_each([u for u in helpers if u.local.size >= PROGRESS_MIN_BYTES], intents)
        for d in plan.deletes:
            batch.delete(d.name, d.reason)
        batch.upload_each(last, intents)
    finally:
        batch.flush()
    if journal is not None:
        journal.clear()
    return batch.report
