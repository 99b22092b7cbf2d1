"""``.mlarena-sync/journal.json``: what an interrupted run may have left half done.

A kill between the server storing an upload and the state being saved would leave the base
describing the old file while the server holds the new one: the next push would call that a
conflict (for a binary file, where only sizes can be compared). The :class:`Journal` is
write-ahead: :func:`~.apply.apply_plan` records the whole batch's intents (per upload
the old and new base entry, and the names to delete) in **one** write *before* sending anything,
and :func:`recover_pending` settles the entries left behind, from what the server now holds, at
the start of the next reconcile: an upload whose bytes are there becomes the base, a journaled
delete that is gone from the server leaves the base. Intents that were never sent simply do not
match the server and are dropped. Ambiguous cases keep the old entry, which only costs a
re-upload.

The journal is kept in the :class:`~.state.StateDir`'s memory: read once per run, written through
to disk at every change. Durability (a deliberate choice): every write is atomic
(:func:`~.atomic.atomic_write`: temp file + ``os.replace``), which is
all a *process* death (``kill -9``, a crash) needs: the page cache outlives the process, so the
next run reads either the old or the new journal, never a torn one. ``fsync`` only protects
against a power loss or a kernel crash, and is paid only where losing the write could do harm
that cannot be undone: the ``creating`` flag (a lost one could let the next run create a twin
agent). Upload/delete intents and ``deploy_pending`` are written without ``fsync``, so the write
before a watch upload costs no disk flush; after a power loss they may be lost, which costs at
worst a reported conflict on a binary file (its size cannot tell which side wrote it) or a
deploy that the next push does not make on its own: nothing is uploaded, deleted or deployed
twice, and no file is lost.

It also records a push's pending deploy decision (``deploy_pending``: a push applied changes and
was killed before deciding to deploy; the next push deploys them), a deploy request whose answer
was never settled (``deploy_request``: written, fsynced, before the request leaves; the next run
asks the server whether a deploy newer than the one seen before exists) and an agent creation
whose reply never came (``creating``: the next push refuses to create a twin).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlarena_sync.api.models import RemoteFile
from mlarena_sync.store.state import JOURNAL_FILE, BaseEntry, StateDir, TargetState

__all__ = ["DeployRequest", "Journal", "recover_pending"]


@dataclass(frozen=True)
class DeployRequest:
    """A deploy request on its way: the agent, the server's latest deploy id seen just before
    (None: the agent had none), and when it was sent (shown to the user, never compared)."""

    agent_id: int
    before: int | None
    at: datetime | None = None


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

    FILE = JOURNAL_FILE

    def __init__(self, state_dir: StateDir | Path, target_key: str) -> None:
        """``state_dir``: the run's :class:`StateDir` (share its memory), or a folder."""
        self._dir = state_dir if isinstance(state_dir, StateDir) else StateDir(Path(state_dir))
        self.path = self._dir.path / self.FILE
        self.key = target_key
        self.sink = self._dir.sink  # where recover_pending reports

    def _read_all(self) -> dict[str, Any]:
        return self._dir.journal_targets()

    def _mine(self) -> dict[str, Any]:
        mine = self._read_all().get(self.key)
        return mine if isinstance(mine, dict) else {}

    def _update(self, *, durable: bool = False, **changes: Any) -> None:
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
        self._dir.write_journal(targets, durable=durable)

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
        """Record one more upload (kept with those already recorded)."""
        self.add_many({name: (old, new)})

    def add_many(
        self,
        uploads: Mapping[str, tuple[BaseEntry | None, BaseEntry]],
        deletes: Iterable[str] = (),
    ) -> None:
        """Record a batch's intents in one write: uploads (old and new base entry) and the names
        to delete; kept with those already recorded."""
        rows = self.load()
        rows.update(uploads)
        gone = self.deletes()
        gone.update(deletes)
        self._update(
            uploads={
                n: {"old": _entry_json(o), "new": _entry_json(w)} for n, (o, w) in rows.items()
            },
            deletes=sorted(gone),
        )

    def deletes(self) -> set[str]:
        """Names whose delete may have been sent but not recorded in the base."""
        rows = self._mine().get("deletes")
        return {str(n) for n in rows} if isinstance(rows, list) else set()

    def clear(self) -> None:
        """Forget the uploads and deletes (all recorded in the base)."""
        mine = self._mine()
        if mine.get("uploads") or mine.get("deletes"):
            self._update(uploads=None, deletes=None)

    # ---- a deploy owed: files synced and not deployed yet (killed push, check/quota/validation
    # refusal, --no-deploy); only an accepted deploy clears it
    def deploy_pending(self) -> bool:
        return self._mine().get("deploy_pending") is True

    def deploy_pending_since(self) -> datetime | None:
        """When the pending deploy's first sync happened (None: not pending, or not recorded)."""
        raw = self._mine().get("deploy_pending_since")
        try:
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None

    def set_deploy_pending(self, pending: bool, *, at: datetime | None = None) -> None:
        """Set or clear the flag; ``at`` (when set) is kept from the first sync still owed."""
        if self.deploy_pending() != pending:
            since = at.isoformat(timespec="seconds") if pending and at is not None else None
            self._update(deploy_pending=pending, deploy_pending_since=since)

    # ---- a deploy request sent, its answer not settled yet (a kill, a lost reply): written
    # before the request leaves; the next run compares the server's latest deploy id with
    # ``before`` (never a clock): a newer one means the server took it
    def deploy_request(self) -> DeployRequest | None:
        raw = self._mine().get("deploy_request")
        if not isinstance(raw, dict) or not isinstance(raw.get("agent_id"), int):
            return None
        before = raw.get("before")
        try:
            at = datetime.fromisoformat(raw["at"]) if isinstance(raw.get("at"), str) else None
        except ValueError:
            at = None
        return DeployRequest(
            agent_id=raw["agent_id"], before=before if isinstance(before, int) else None, at=at
        )

    def set_deploy_request(self, request: DeployRequest | None) -> None:
        """Record (before sending) or forget a deploy request; fsynced: a lost record could
        cost a second deploy."""
        value = None
        if request is not None:
            value = {
                "agent_id": request.agent_id,
                "before": request.before,
                "at": request.at.isoformat(timespec="seconds") if request.at else None,
            }
        if value is not None or "deploy_request" in self._mine():
            self._update(deploy_request=value, durable=True)

    # ---- agent creation
    def creating(self) -> str | None:
        """The agent name of a create request whose reply never came, if any."""
        value = self._mine().get("creating")
        return value if isinstance(value, str) else None

    def set_creating(self, name: str | None) -> None:
        self._update(creating=name, durable=True)  # guards against a twin agent: fsync


def recover_pending(journal: Journal, state: TargetState, remote: Mapping[str, RemoteFile]) -> bool:
    """Settle uploads a killed run left in the journal; True when the base changed."""
    rows = journal.load()
    gone = journal.deletes()
    if not rows and not gone:
        return False
    changed = False
    for name in sorted(gone):
        if name not in remote and name in state.files and name not in rows:
            del state.files[name]
            changed = True
            journal.sink.emit("pending_delete_recovered", name=name)
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
            journal.sink.emit("pending_upload_recovered", name=name)
    journal.clear()
    return changed
