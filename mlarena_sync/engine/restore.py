"""Deploys compared and brought back: ``diff`` and ``restore`` (local only: the ledger's
manifests and the object store's bytes; no request to the server).

* :func:`resolve` turns ``A`` (a ledger number, ``live``, ``previous``) into a record.
* :func:`folder_side` / :func:`deploy_side`: one side of a comparison (local path → sha256, and
  how to read its bytes); :func:`changed_paths` lists what differs.
* :func:`restore` makes the selected files of the folder equal to a deploy's manifest: its files
  written, files that came later removed; all it overwrites or removes is first kept aside in
  ``.mlarena-sync/restore/<stamp>/`` and :func:`undo` puts it back. Files outside the selection
  are never touched. It refuses when the folder holds edits not yet synced (unless ``force``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlarena_sync.engine.history import succeeded
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ConfigError, ConflictError, MlarenaSyncError
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.scan import scan
from mlarena_sync.store.atomic import atomic_write
from mlarena_sync.store.ledger import DeployRecord, Ledger
from mlarena_sync.store.objects import ObjectStore

__all__ = [
    "RESTORE_DIR",
    "UNDO_COMMAND",
    "RestoreResult",
    "Side",
    "changed_paths",
    "deploy_side",
    "folder_side",
    "resolve",
    "restore",
    "undo",
]

RESTORE_DIR = "restore"
UNDO_COMMAND = "mlarena-sync restore --undo"
_DONE = ".undone"


@dataclass(frozen=True, kw_only=True)
class Side:
    label: str  # "deploy 3", "the folder"
    files: Mapping[str, str]  # local path → sha256
    sizes: Mapping[str, int]
    read: Callable[[str], bytes | None]  # a path's bytes; None when they are gone (pruned)
    #: Paths where the server's own version was deployed (changed there, left in place).
    server: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class RestoreResult:
    record: DeployRecord | None  # None: an undo
    written: list[str]
    removed: list[str]
    kept_aside: Path | None
    undo: str | None
    #: The server's versions the deploy shipped whose bytes are not known: not restored.
    unknown: list[str] = field(default_factory=list)


def resolve(records: Sequence[DeployRecord], ref: str) -> DeployRecord:
    """``ref``: a ledger number (``5`` or ``#5``: ``history``'s count), a server deployment id
    (``d6``: what ``status`` shows; a bare number that is no ledger number but a deployment's
    id means it too), ``live`` (the newest deploy that succeeded: never one in flight) or
    ``previous`` (the one before it). :class:`ConfigError` (exit 2) when there is none."""
    ok = [r for r in records if succeeded(r.status)]
    if ref == "live" and ok:
        return ok[-1]
    if ref == "previous" and len(ok) > 1:
        return ok[-2]
    text = ref.strip().lower()
    number = text.lstrip("#")
    if number.isdigit():
        found = [r for r in records if r.id == int(number)]
        if not found and not text.startswith("#"):
            found = [r for r in records if r.deployment_id == int(number)]
        if found:
            return found[0]
    deployment = text.removeprefix("deployment").removeprefix("d").strip()
    if text.startswith("d") and deployment.isdigit():
        found = [r for r in records if r.deployment_id == int(deployment)]
        if found:
            return found[0]
    known = (
        ", ".join(
            f"#{r.id}" + (f" = deployment {r.deployment_id}" if r.deployment_id else "")
            for r in records[-5:]
        )
        or "none yet"
    )
    raise ConfigError(
        f"no deploy {ref!r} in this folder's ledger (latest: {known})",
        hint="`mlarena-sync history` lists them; use a ledger number (5), a deployment id "
        "(d6), live or previous",
    )


def records_of(ws: Workspace) -> list[DeployRecord]:
    return Ledger(ws.store.state_dir).records(ws.key)


def folder_side(ws: Workspace) -> Side:
    """The selected files of the folder now."""
    root = ws.target.files.root
    selector = Selector(ws.target.files, config_path=ws.target.config_path)
    found = scan(root, selector, ws.store.load_stat_cache(root), [])

    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return Side(
        label="the folder",
        files={f.path: f.sha256 for f in found},
        sizes={f.path: f.size for f in found},
        read=read,
    )


def deploy_side(ws: Workspace, record: DeployRecord) -> Side:
    """What deploy ``record`` shipped (its bytes from the object store)."""
    objects = ObjectStore(ws.store.state_dir)
    by_path = {e.path: e for e in record.files.values()}

    def read(path: str) -> bytes | None:
        try:
            return objects.read(by_path[path].sha256)
        except (KeyError, OSError):
            return None

    return Side(
        label=f"deploy #{record.id}",
        files={p: e.sha256 for p, e in by_path.items()},
        sizes={p: e.size for p, e in by_path.items()},
        read=read,
        server=frozenset(p for p, e in by_path.items() if e.server),
    )


def changed_paths(a: Side, b: Side) -> list[str]:
    return sorted(p for p in set(a.files) | set(b.files) if a.files.get(p) != b.files.get(p))


def unsynced_edits(ws: Workspace, folder: Side) -> list[str]:
    """The folder's paths that differ from what was last synced (edits not pushed yet)."""
    base = {e.path: e.sha256 for e in ws.store.load(ws.key).files.values()}
    return sorted(p for p in set(base) | set(folder.files) if base.get(p) != folder.files.get(p))


def restore(ws: Workspace, ref: str, *, force: bool) -> RestoreResult:
    record = resolve(records_of(ws), ref)
    folder = folder_side(ws)
    edits = unsynced_edits(ws, folder)
    if edits and not force:
        count = f"{len(edits)} edit" + ("" if len(edits) == 1 else "s")
        raise ConflictError(
            f"the folder has {count} not yet synced: {', '.join(edits[:5])}"
            + (" ..." if len(edits) > 5 else ""),
            hint="push them first (`mlarena-sync push`), or pass --force (they are kept aside)",
            files=edits,
        )
    deploy = deploy_side(ws, record)
    unknown = sorted(p for p in deploy.files if not deploy.files[p])  # the server's, never read
    objects = ObjectStore(ws.store.state_dir)
    gone = [p for p in deploy.files if deploy.files[p] and not objects.has(deploy.files[p])]
    if gone:
        raise MlarenaSyncError(
            f"the bytes of deploy #{record.id} are no longer kept ({', '.join(gone[:5])}): "
            "pruned by history.keep_bytes",
            hint="raise history.keep_bytes to keep more deploys restorable",
        )
    write = [p for p in deploy.files if p not in unknown and folder.files.get(p) != deploy.files[p]]
    remove = [p for p in folder.files if p not in deploy.files]
    if not write and not remove:
        return RestoreResult(
            record=record, written=[], removed=[], kept_aside=None, undo=None, unknown=unknown
        )
    aside = _keep_aside(ws, record, folder, write, remove)
    root = ws.target.files.root
    for path in write:
        data = deploy.read(path)
        assert data is not None
        dest = root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        mode = dest.stat().st_mode & 0o777 if dest.exists() else 0o644
        atomic_write(dest, data, fsync=False, mode=mode)
    for path in remove:
        (root / path).unlink(missing_ok=True)
    return RestoreResult(
        record=record,
        written=write,
        removed=remove,
        kept_aside=aside,
        undo=UNDO_COMMAND,
        unknown=unknown,
    )


def _keep_aside(
    ws: Workspace, record: DeployRecord, folder: Side, write: list[str], remove: list[str]
) -> Path:
    """Copy what the restore replaces or removes to ``.mlarena-sync/restore/<stamp>/``."""
    stamp = ws.clock.now().strftime("%Y%m%dT%H%M%S%f")
    aside = ws.store.state_dir / RESTORE_DIR / f"{stamp}-deploy-{record.id}"
    root = ws.target.files.root
    replaced = [p for p in write if p in folder.files]
    for path in [*replaced, *remove]:
        dest = aside / "files" / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, dest)
    aside.mkdir(parents=True, exist_ok=True)
    manifest = {
        "record": record.id,
        "replaced": replaced,
        "removed": remove,
        "created": [p for p in write if p not in folder.files],
    }
    atomic_write(aside / "manifest.json", json.dumps(manifest, indent=1), fsync=True)
    return aside


def undo(ws: Workspace) -> RestoreResult:
    """Put back what the latest restore kept aside, and remove the files it created."""
    folder = ws.store.state_dir / RESTORE_DIR
    done = (
        sorted(
            (p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(_DONE)),
            key=lambda p: p.name,
        )
        if folder.is_dir()
        else []
    )
    if not done:
        raise ConfigError("no restore to undo", hint="`mlarena-sync restore A` keeps one")
    aside = done[-1]
    manifest = json.loads((aside / "manifest.json").read_text(encoding="utf-8"))
    root = ws.target.files.root
    back = [*manifest["replaced"], *manifest["removed"]]
    for path in back:
        dest = root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(aside / "files" / path, dest)
    for path in manifest["created"]:
        (root / path).unlink(missing_ok=True)
    os.replace(aside, aside.with_name(aside.name + _DONE))
    return RestoreResult(
        record=None, written=back, removed=list(manifest["created"]), kept_aside=None, undo=None
    )
