"""Pure reconcile planning: (local, remote, base, options) → :class:`Plan`. No I/O.

Per remote name, with ``L`` the local file, ``R`` the remote one and ``B`` the base (what was last
synced, from the state), following ``docs/product.md`` "Sync semantics":

* L and R equal → unchanged. Text is compared by hash; a binary file (the server serves no bytes)
  is equal only when its size matches **and** the base proves it (B.sha256 = L.sha256, B.size =
  R.size). Where the API cannot serve a binary file's bytes at all (``verifiable_binaries=False``:
  v0), such a file is listed in ``unverified`` ("cannot verify"), not ``unchanged``: another
  clone's same-size upload would look the same.
* L and R differ, B known: local changed = L ≠ B, remote changed = R ≠ B (text: hash, binary:
  size). Both → conflict (safe) or upload (replica / force). Remote only → left in place and
  reported in ``remote_changes`` (safe; ``pull`` takes it) or upload. Local only → upload.
* L and R differ, no B: binary → upload (cannot prove equal); text → conflict in safe mode
  ("no sync record; remote differs"), upload with replica / force.
* L only → upload. R only with B: remote unchanged → delete (when ``delete``); remote changed →
  conflict in safe mode (deleted here, edited there), delete with replica / force. R only without B
  → left alone in safe mode, deleted in replica mode.
* More deletes than ``max_delete`` without ``force`` → ``delete_cap_hit`` (the caller applies
  nothing and exits 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import BaseEntry

__all__ = [
    "Conflict",
    "Delete",
    "Plan",
    "RemoteLike",
    "Upload",
    "make_plan",
    "order_uploads",
    "relabel_uploads",
]

MODES = ("safe", "replica")


class RemoteLike(Protocol):
    """What planning reads of ``api.models.RemoteFile``."""

    @property
    def name(self) -> str: ...
    @property
    def is_binary(self) -> bool: ...
    @property
    def size(self) -> int | None: ...
    @property
    def sha256(self) -> str | None: ...


class BaseLike(Protocol):
    """What planning reads of ``state.BaseEntry``."""

    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def remote_sha256(self) -> str | None: ...


@dataclass(frozen=True)
class Upload:
    name: str
    local: LocalFile
    reason: str


@dataclass(frozen=True)
class Delete:
    name: str
    reason: str


@dataclass(frozen=True)
class Conflict:
    name: str
    reason: str
    local_path: str | None = None  # None: deleted locally
    local_sha256: str | None = None
    remote_sha256: str | None = None  # None for binary remote files
    remote_size: int | None = None
    downloadable: bool = True  # `pull` can bring the server's copy down (not a v0 binary)


@dataclass
class Plan:
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    remote_changes: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    #: Binary files whose only evidence of equality is their size (the API serves no bytes):
    #: nothing to do, but "cannot verify" rather than "unchanged".
    unverified: list[str] = field(default_factory=list)
    delete_cap_hit: bool = False
    #: What the base (the sync record) learns before anything is applied, mutagen-style: per
    #: name the new entry of a file proven equal on both sides (e.g. after a lost state), or
    #: None for a name gone on both sides. Applied by the reconcile, never by ``plan``.
    base_updates: dict[str, BaseEntry | None] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        """How many operations would change the remote (uploads + deletes)."""
        return len(self.uploads) + len(self.deletes)

    @property
    def is_empty(self) -> bool:
        """Nothing to upload or delete, and no conflict (remote-only news may still be listed)."""
        return not self.uploads and not self.deletes and not self.conflicts

    def summary(self) -> str:
        parts = [
            f"{len(self.uploads)} to upload",
            f"{len(self.deletes)} to delete",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.unverified:
            parts.append(f"{len(self.unverified)} cannot verify (binary, same size)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} in conflict")
        if self.remote_changes:
            parts.append(f"{len(self.remote_changes)} changed remotely")
        if self.left_alone:
            parts.append(f"{len(self.left_alone)} remote-only left alone")
        if self.delete_cap_hit:
            parts.append("delete limit hit")
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (``plan --json``); stable keys."""
        return {
            "uploads": [
                {"name": u.name, "file": u.local.path, "bytes": u.local.size, "reason": u.reason}
                for u in self.uploads
            ],
            "deletes": [{"name": d.name, "reason": d.reason} for d in self.deletes],
            "conflicts": [
                {
                    "name": c.name,
                    "reason": c.reason,
                    "file": c.local_path,
                    "local_sha256": c.local_sha256,
                    "remote_sha256": c.remote_sha256,
                    "remote_bytes": c.remote_size,
                }
                for c in self.conflicts
            ],
            "unchanged": list(self.unchanged),
            "unverified": list(self.unverified),
            "remote_changes": list(self.remote_changes),
            "left_alone": list(self.left_alone),
            "delete_cap_hit": self.delete_cap_hit,
            "changes": self.changes,
            "is_empty": self.is_empty,
        }


#: The file a new agent may start with, from the competition's ``agent_template`` (api-v0: the fake
#: arena seeds ``agent.py``; UNKNOWN on the real server), and what uploading over it is called.
TEMPLATE_FILE = "agent.py"
TEMPLATE_REASON = "replaces the template"


def relabel_uploads(plan: Plan, names: Iterable[str], reason: str) -> Plan:
    """``plan`` with the uploads of ``names`` given ``reason`` (e.g. the new agent's template)."""
    chosen = set(names)
    uploads = [Upload(u.name, u.local, reason) if u.name in chosen else u for u in plan.uploads]
    return replace(plan, uploads=uploads)


def order_uploads(uploads: Iterable[Upload], entry: str | None) -> list[Upload]:
    """Helpers first (by name), the entry file last: the agent validates after the last file."""
    return sorted(uploads, key=lambda u: (u.name == entry, u.name))


def _is_text(r: RemoteLike) -> bool:
    """The remote file's hash is known: its text was listed (v0), or its bytes were read back
    (:mod:`~mlarena_sync.engine.evidence`). Otherwise only its size is."""
    return r.sha256 is not None


def _remote_base_sha(b: BaseLike) -> str:
    """The hash the server served for the synced file (the local one unless it re-encoded)."""
    return b.remote_sha256 or b.sha256


def _remote_changed(r: RemoteLike, b: BaseLike) -> bool:
    if _is_text(r):
        return r.sha256 != _remote_base_sha(b)
    # Binary: only the size is known. An unknown size is no evidence of a change.
    return r.size is not None and r.size != b.size


def _equal(local: LocalFile, r: RemoteLike, b: BaseLike | None) -> bool:
    if _is_text(r):
        if r.sha256 == local.sha256:
            return True
        # The server may serve text re-encoded; the base remembers what it served for our bytes.
        return b is not None and b.sha256 == local.sha256 and _remote_base_sha(b) == r.sha256
    return b is not None and r.size == local.size and b.sha256 == local.sha256 and b.size == r.size


def make_plan(
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteLike],
    base: Mapping[str, BaseLike],
    *,
    mode: str,
    delete: bool,
    max_delete: int,
    force: bool,
    entry: str | None = None,
    verifiable_binaries: bool = True,
) -> Plan:
    """What to do so the remote mirrors ``local``; ``local`` is keyed by remote name.
    ``verifiable_binaries``: the API can serve a binary file's bytes (v4.6), so ``pull`` can
    take it and a size match is not the only evidence there can be."""
    if mode not in MODES:
        raise ValueError(f"unknown sync mode {mode!r}")
    overwrite = force or mode == "replica"
    plan = Plan()
    uploads: list[Upload] = []
    for name in sorted(set(local) | set(remote)):
        lf, rf, bf = local.get(name), remote.get(name), base.get(name)
        if lf is not None and rf is None:
            uploads.append(Upload(name, lf, "new" if bf is None else "missing remotely"))
        elif lf is not None and rf is not None:
            if _equal(lf, rf, bf):
                size_only = not verifiable_binaries and not _is_text(rf)
                (plan.unverified if size_only else plan.unchanged).append(name)
            elif bf is None:
                if not _is_text(rf):
                    uploads.append(Upload(name, lf, "cannot prove equal (binary, no sync record)"))
                elif overwrite:
                    uploads.append(Upload(name, lf, "no sync record; remote differs (overwritten)"))
                else:
                    plan.conflicts.append(_conflict(name, "no sync record; remote differs", lf, rf))
            else:
                _plan_both_changed(plan, uploads, name, lf, rf, bf, overwrite=overwrite)
        elif rf is not None:
            _plan_remote_only(plan, name, rf, bf, mode=mode, delete=delete, overwrite=overwrite)
    if not verifiable_binaries:  # a binary server copy cannot be pulled: its hash is unknown
        plan.conflicts = [replace(c, downloadable=bool(c.remote_sha256)) for c in plan.conflicts]
    plan.uploads = order_uploads(uploads, entry)
    plan.delete_cap_hit = len(plan.deletes) > max_delete and not force
    plan.base_updates = _base_updates(plan.unchanged, local, remote, base)
    return plan


def _plan_both_changed(
    plan: Plan,
    uploads: list[Upload],
    name: str,
    lf: LocalFile,
    rf: RemoteLike,
    bf: BaseLike,
    *,
    overwrite: bool,
) -> None:
    """L and R differ and B is known: local changed = L ≠ B, remote changed = R ≠ B."""
    local_changed = lf.sha256 != bf.sha256
    remote_changed = _remote_changed(rf, bf)
    if local_changed and remote_changed:
        if overwrite:
            uploads.append(Upload(name, lf, "changed on both sides (overwritten)"))
        else:
            plan.conflicts.append(
                _conflict(name, "changed here and remotely since the last sync", lf, rf)
            )
    elif remote_changed:
        if overwrite:
            uploads.append(Upload(name, lf, "changed remotely (overwritten)"))
        else:
            plan.remote_changes.append(name)
    else:
        uploads.append(Upload(name, lf, "changed" if local_changed else "differs"))


def _base_updates(
    unchanged: Iterable[str],
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteLike],
    base: Mapping[str, BaseLike],
) -> dict[str, BaseEntry | None]:
    """Record files proven equal, and forget names gone on both sides, so the base tells the
    truth before anything is applied."""
    updates: dict[str, BaseEntry | None] = {}
    for name in unchanged:
        lf, rf = local[name], remote[name]
        remote_sha = rf.sha256 if rf.sha256 not in (None, lf.sha256) else None
        entry = BaseEntry(lf.path, lf.sha256, lf.size, remote_sha)
        if base.get(name) != entry:
            updates[name] = entry
    for name in base:
        if name not in local and name not in remote:
            updates[name] = None
    return updates


def _plan_remote_only(
    plan: Plan,
    name: str,
    rf: RemoteLike,
    bf: BaseLike | None,
    *,
    mode: str,
    delete: bool,
    overwrite: bool,
) -> None:
    if bf is None:
        if mode == "replica" and delete:
            plan.deletes.append(Delete(name, "not in the local folder (replica)"))
        else:
            plan.left_alone.append(name)
    elif not _remote_changed(rf, bf):
        if delete:
            plan.deletes.append(Delete(name, "deleted locally"))
        else:
            plan.left_alone.append(name)
    elif not overwrite:
        plan.conflicts.append(_conflict(name, "deleted here but changed remotely", None, rf))
    elif delete:
        plan.deletes.append(Delete(name, "deleted locally; remote change overwritten"))
    else:
        plan.left_alone.append(name)


def _conflict(name: str, reason: str, lf: LocalFile | None, rf: RemoteLike) -> Conflict:
    return Conflict(
        name,
        reason,
        local_path=lf.path if lf else None,
        local_sha256=lf.sha256 if lf else None,
        remote_sha256=rf.sha256 if _is_text(rf) else None,
        remote_size=rf.size,
    )
