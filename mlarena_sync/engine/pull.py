"""Pull (``mlarena-sync pull``): bring remote files down (e.g. edited in the browser editor).

Per remote name: a file whose remote bytes changed since the last sync, or which was never
synced here, is written to the local path the base recorded (or the mirrored root for a name
never synced). A local file edited since the last sync is never overwritten without ``--force``:
pull then writes nothing and exits 3 naming the files; one deleted here since the last sync
stays deleted (a change for push) without ``--force``. A local file edited here while the
server's copy is unchanged since the last sync is push's to upload: pull keeps it and says so
(``local_edit_kept``, with the way to take the server's), and ``pull --force NAME`` (the name
given) takes the server's version of it, the local one kept aside first like every file
``--force`` replaces; a bare ``pull --force`` leaves such files alone (it names no file to give
up). Local files push would refuse (secrets,
too big) do not block a pull. On v4.6 every file is read back (binaries too); v0 lists only the
text of text files, so its binary files are reported, not pulled. The base is updated for what
came down.

Pull writes only where it may: never ``mlarena.yaml``, the state folder, an ignored path, or an
existing local file it does not track (one the scan did not select for that name). Such a name
is a conflict (exit 3, nothing written), ``--force`` or not: a remote name must not be able to
replace the config (whose ``deploy.check`` the next push would run) or a file the user keeps out
of the sync. A remote name that cannot be a file name here (``""``, ``"."``, ``".."``, a ``/``,
a NUL) is refused and reported, never written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import RemoteFile
from mlarena_sync.engine.advice import conflict_hint
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ConfigError, ConflictError, MlarenaSyncError, SelectionError
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.scan import LocalFile, printable, scan
from mlarena_sync.store.atomic import atomic_write
from mlarena_sync.store.state import BaseEntry

__all__ = ["PULLED_DIR", "pull"]

#: Where ``pull --force`` keeps the local versions it replaces, one folder per run.
PULLED_DIR = "pulled"


@dataclass(frozen=True)
class _Pull:
    name: str
    rel: str
    content: bytes


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    atomic_write(path, data, fsync=False, mode=mode)


def _safe_rel(root: Path, rel: str) -> Path:
    dest = (root / rel).resolve()
    if dest != root and root not in dest.parents:
        raise MlarenaSyncError(f"refusing to write {rel!r}: outside {root}")
    return dest


def unsafe_remote_name(name: str) -> bool:
    """True when ``name`` cannot be a file name in the folder (the remote storage is flat)."""
    return name in ("", ".", "..") or any(ch in name for ch in "/\\\0")


def _untracked(
    ws: Workspace, selector: Selector, local: Mapping[str, LocalFile], item: _Pull
) -> str | None:
    """Why pull must not write ``item`` (None: it may): the config, the state folder, an
    ignored path, or an existing file it does not track."""
    root = ws.target.files.root
    dest = root / item.rel
    real = dest.resolve()
    config = ws.target.config_path.resolve() if ws.target.config_path else None
    state = ws.store.state_dir.resolve()
    if real == config or dest.absolute() == config:
        return f"{item.name}: would overwrite the config file {item.rel}"
    if real == state or state in real.parents:
        return f"{item.name}: would write into the state folder"
    if not selector.is_selected(item.rel):
        return f"{item.name}: {item.rel} is ignored here (not synced): not written"
    if item.name not in local and (dest.exists() or dest.is_symlink()):
        return f"{item.name}: {item.rel} exists here but is not tracked: not overwritten"
    return None


def _local_files(ws: Workspace, rec: Reconciler) -> tuple[dict[str, LocalFile], set[str]]:
    """The local files by remote name, and the names to leave alone. Files push would refuse
    (a secret, too big, an unsafe name) do not block a pull, which only writes local files;
    names that several local files map to are left alone (which one would be written?)."""
    try:
        return rec.scan(save_cache=True), set()
    except SelectionError as exc:
        problems = exc.problems
    ws.out.emit(
        "not_syncable",
        level="warning",
        problems=problems,
        text=f"{len(problems)} local file problem(s) would stop a push (pull goes on):\n  "
        + "\n  ".join(problems),
    )
    root = ws.target.files.root
    selector = Selector(ws.target.files, config_path=ws.target.config_path)
    by_name: dict[str, list[LocalFile]] = {}
    for f in scan(root, selector, ws.store.load_stat_cache(root), problems=[]):
        by_name.setdefault(f.remote_name, []).append(f)
    local = {name: group[0] for name, group in by_name.items() if len(group) == 1}
    return local, {name for name, group in by_name.items() if len(group) > 1}


def pull(ws: Workspace, *, names: list[str] | None = None, force: bool = False) -> int:
    out = ws.out
    cid = ws.target.competition
    with ws.client() as client:
        rec = ws.reconciler(client)
        with rec.locked():
            aid = rec.bound_id()
            if aid is None:
                raise ConfigError(
                    "no agent bound yet: nothing to pull",
                    hint="run `mlarena-sync push` first, or set `id:` under `submission:` in "
                    "mlarena.yaml",
                )
            remote = client.list_files(cid, aid)
            local, unclear = _local_files(ws, rec)
            state = ws.store.load(ws.key)
            wanted = set(names) if names else None
            if wanted is not None and (unknown := sorted(wanted - set(remote))):
                raise ConfigError(f"not on the server: {', '.join(map(printable, unknown))}")
            refused = sorted(n for n in remote if unsafe_remote_name(n))
            considered = {
                n: rf
                for n, rf in remote.items()
                if (wanted is None or n in wanted) and n not in unclear and n not in refused
            }
            fetched = _read_back(client, cid, aid, considered)
            todo, kept, binaries, left_deleted, mine = _choose(
                considered, fetched, local, state.files, force=force, named=wanted or set()
            )
            _stop_on_conflicts(ws, rec.selector, local, todo, kept)
            aside = ws.store.state_dir / PULLED_DIR / ws.clock.now().strftime("%Y%m%dT%H%M%S%f")
            for item in todo:
                dest = _safe_rel(ws.target.files.root, item.rel)
                _keep_aside(ws, dest, item, aside)
                _write_atomic(dest, item.content)
                state.files[item.name] = BaseEntry(
                    item.rel, hashlib.sha256(item.content).hexdigest(), len(item.content)
                )
                ws.store.save(ws.key, state)
                out.emit("pulled", name=item.name, file=item.rel, bytes=len(item.content))
    _report_local_edits(ws, mine)
    _report(ws, aid, todo, binaries, left_deleted, refused)
    return 0


def _report_local_edits(ws: Workspace, mine: list[tuple[str, str]]) -> None:
    """Files edited here only (the server's copy unchanged since the last sync): kept, said."""
    for name, rel in mine:
        ws.out.emit(
            "local_edit_kept",
            name=name,
            file=rel,
            text=f"{rel}: edited here, unchanged on the server: your edit is kept; "
            f"`mlarena-sync pull --force {name}` takes the server's version",
        )


def _keep_aside(ws: Workspace, dest: Path, item: _Pull, aside: Path) -> None:
    """A local file that ``pull --force`` replaces is first copied to ``aside`` (under
    ``.mlarena-sync/pulled/``) and said: nothing the user wrote is lost, even when forced."""
    try:
        current = dest.read_bytes()
    except FileNotFoundError:
        return
    if current == item.content:
        return
    copy = aside / item.rel
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(current)
    ws.out.emit(
        "kept_aside",
        level="warning",
        file=item.rel,
        copy=str(copy),
        text=f"{item.rel}: your version is kept in {copy}",
    )


def _stop_on_conflicts(
    ws: Workspace,
    selector: Selector,
    local: Mapping[str, LocalFile],
    todo: list[_Pull],
    kept: list[str],
) -> None:
    """:class:`ConflictError` (nothing written) for local edits pull would overwrite, and for
    names it must never write (:func:`_untracked`), ``--force`` or not."""
    blocked = [why for item in todo if (why := _untracked(ws, selector, local, item))]
    if not kept and not blocked:
        return
    lines = kept + blocked
    head = (
        f"{len(kept)} local file(s) were edited since the last sync and also changed on the server"
        if kept
        else f"{len(blocked)} remote file(s) would land on local files pull does not track"
    )
    hint = conflict_hint([k.split(" ", 1)[0] for k in kept]) if kept else None
    if blocked:
        hint = (hint + "; " if hint else "") + (
            "for a file pull does not track: move or rename it, or pull other names"
        )
    raise ConflictError(
        f"{head}; nothing was written:\n  " + "\n  ".join(lines),
        hint=hint,
        files=[line.split(" ", 1)[0].rstrip(":") for line in lines],
    )


def _report(
    ws: Workspace,
    aid: int,
    todo: list[_Pull],
    binaries: list[str],
    left_deleted: list[str],
    refused: list[str],
) -> None:
    out = ws.out
    for name in left_deleted:
        out.emit(
            "left_deleted",
            level="warning",
            name=name,
            text=f"{name}: deleted here since the last sync, so left deleted (`mlarena-sync "
            f"push` deletes it on the server; `mlarena-sync pull --force {name}` brings it back)",
        )
    for name in binaries:
        out.emit(
            "not_downloadable",
            level="warning",
            name=name,
            text=f"{name}: binary file: this server's API (v0) has no download route; not pulled",
        )
    for name in refused:
        out.emit(
            "name_refused",
            level="warning",
            name=printable(name),
            text=f"{printable(name)!r}: not a file name this folder can hold; not pulled",
        )
    out.emit(
        "pull_done",
        level="result",
        text=(
            f"pulled {len(todo)} file{'' if len(todo) == 1 else 's'} from agent {aid}"
            if todo
            else f"nothing pulled from agent {aid}"
            if binaries or left_deleted or refused
            else f"nothing to pull: in sync with agent {aid}"
        )
        + (f"; {len(binaries)} binary file(s) cannot be downloaded" if binaries else ""),
        agent_id=aid,
        pulled=[p.name for p in todo],
        not_downloadable=binaries,
    )


def _read_back(
    client: Arena, cid: int, aid: int, remote: Mapping[str, RemoteFile]
) -> dict[str, bytes]:
    """The bytes of each remote file that can be read: the listed text (v0), or a download
    (v4.6, binaries included). A v0 binary file is absent: only its size is known."""
    fetched: dict[str, bytes] = {}
    for name, rf in remote.items():
        if rf.content is not None:
            fetched[name] = rf.content.encode("utf-8")
        elif client.capabilities.download_bytes:
            fetched[name] = client.download_file(cid, aid, name)
    return fetched


def _choose(
    remote: Mapping[str, RemoteFile],
    fetched: Mapping[str, bytes],
    local: Mapping[str, LocalFile],
    base_files: Mapping[str, BaseEntry],
    *,
    force: bool,
    named: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[_Pull], list[str], list[str], list[str], list[tuple[str, str]]]:
    """Per remote name, the three-way verdict: what to write, what is kept (edited here and
    there), what cannot be downloaded, what stays deleted here, and the local edits kept
    (name, local path: edited here only; ``--force`` with the name given takes the server's)."""
    mine: list[tuple[str, str]] = []
    todo: list[_Pull] = []
    kept: list[str] = []
    binaries: list[str] = []
    left_deleted: list[str] = []
    for name in sorted(remote):
        rf = remote[name]
        base, lf = base_files.get(name), local.get(name)
        data = fetched.get(name)
        if data is None:
            if lf is None or (base is not None and rf.size != base.size):
                binaries.append(name)
            continue
        sha = hashlib.sha256(data).hexdigest()
        if lf is not None and lf.sha256 == sha:
            continue
        if lf is None and base is not None and not force:
            left_deleted.append(name)  # deleted here since the last sync: for push
            continue
        remote_changed = base is None or sha != (base.remote_sha256 or base.sha256)
        if not remote_changed and lf is not None and not (force and name in named):
            mine.append((name, lf.path))  # only the local copy changed: that is for push
            continue
        local_edited = lf is not None and (base is None or lf.sha256 != base.sha256)
        if local_edited and not force:
            kept.append(name if lf is None or lf.path == name else f"{name} ({lf.path})")
            continue
        rel = lf.path if lf else (base.path if base else name)
        todo.append(_Pull(name, rel, data))
    return todo, kept, binaries, left_deleted, mine
