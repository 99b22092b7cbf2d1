"""One deploy request's ledger record (:class:`DeployEntry`): written before the request
leaves, told its deployment id when the reply comes; the manifest is what the server holds
after the sync (:func:`server_versions` for the files changed there and left in place)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mlarena_sync.api.models import DeployOutcome
from mlarena_sync.config.model import Target
from mlarena_sync.engine.pin import pinned_text
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.errors import MlarenaSyncError
from mlarena_sync.events import EventSink
from mlarena_sync.store.ledger import NOT_TAKEN, DeployRecord, FileRecord, Ledger
from mlarena_sync.store.objects import ObjectStore
from mlarena_sync.store.state import StateStore

__all__ = ["DeployEntry", "git_info", "server_versions", "trigger_for"]

GIT_TIMEOUT = 5.0


def trigger_for(caller: str, env: dict[str, str] | None = None) -> str:
    """``ci`` when ``CI=true`` (any CI service sets it), else the caller (push, watch)."""
    value = (env if env is not None else os.environ).get("CI", "")
    return "ci" if value.strip().lower() in ("true", "1", "yes") else caller


def git_info(folder: Path, *, pin: tuple[Path, str, int] | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git repository holding ``folder``; None when
    there is none (or no git, or git does not answer in time). ``pin``: ``(mlarena.yaml,
    target, agent id)``: a config file whose only change since the commit is the ``id:`` line
    pinning wrote (:mod:`~.pin`) does not make the tree dirty (the first push of a committed
    folder is not ``+dirty`` because of its own edit)."""
    try:
        head = _git(folder, "rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        changes = _git(folder, "status", "--porcelain", "--", ".")
        dirty = changes.returncode != 0 or bool(changes.stdout.strip())
        if dirty and pin is not None:
            dirty = not _only_pinned(folder, *pin)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": dirty}


def _only_pinned(folder: Path, config: Path, target: str, agent_id: int) -> bool:
    """True when the tree under ``folder`` differs from HEAD only in ``config``, and ``config``
    only by the pinned ``id: agent_id`` line."""
    try:
        inside = config.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return False  # the config is outside the folder: it was not what made it dirty
    rest = _git(folder, "status", "--porcelain", "--", ".", f":(exclude,literal){inside}")
    if rest.returncode != 0 or rest.stdout.strip():
        return False
    committed = _git(config.parent, "show", f"HEAD:./{config.name}")
    if committed.returncode != 0:
        return False  # not in the commit: the config itself is new
    pinned = pinned_text(committed.stdout, target, agent_id)
    try:
        return pinned is not None and pinned == config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


class DeployEntry:
    """The ledger record of one deploy request (a :class:`~.deploy.DeployHook`): appended
    before the request leaves (:meth:`sending`: the manifest, the trigger, the git commit, the
    server's newest deployment id then; the deployed bytes kept in the object store within
    ``history.keep_bytes``), told its deployment id when the reply comes (:meth:`taken`) or that
    the server did not take it (:meth:`not_taken`). A request killed or interrupted before its
    reply stays open: :func:`complete` and the next run's ``settle_request`` match it to the
    server's first newer deployment. Never raises: a ledger that cannot be written is a
    ``ledger_failed`` warning, the deploy goes on. ``rec``: the reconciler that synced (the
    files it left in place on the server are recorded as the server's version)."""

    def __init__(
        self,
        store: StateStore,
        target: Target,
        key: str,
        *,
        agent_id: int,
        caller: str,
        sink: EventSink,
        now: Callable[[], datetime],
        rec: Reconciler | None = None,
    ) -> None:
        self.store, self.target, self.key = store, target, key
        self.agent_id, self.caller, self.sink, self.now, self.rec = agent_id, caller, sink, now, rec
        self.record: DeployRecord | None = None

    def sending(self, before: int | None) -> None:
        try:
            self.record = self._append(before)
        except (OSError, MlarenaSyncError) as exc:
            self.sink.emit("ledger_failed", level="warning", message=str(exc))

    def _append(self, before: int | None) -> DeployRecord:
        store, target = self.store, self.target
        files = {
            name: FileRecord(e.path, e.sha256, e.size)
            for name, e in sorted(store.load(self.key).files.items())
        }
        objects = ObjectStore(store.state_dir)
        for entry in files.values():
            objects.put_file(target.files.root / entry.path, entry.sha256)
        if self.rec is not None:
            files.update(server_versions(self.rec, self.agent_id, files, objects, self.sink))
        ledger = Ledger(store.state_dir)
        record = ledger.append(
            DeployRecord(
                id=0,
                target=self.key,
                at=self.now(),
                agent_id=self.agent_id,
                deployment_id=None,
                trigger=trigger_for(self.caller),
                files=files,
                git=git_info(target.files.root, pin=self._pin()),
                check="passed" if target.deploy.check else "none",
                after_deployment=before,
            )
        )
        manifests = [{e.sha256 for e in r.files.values() if e.known} for r in ledger.records()]
        objects.prune(target.history.keep_bytes, manifests)
        return record

    def _pin(self) -> tuple[Path, str, int] | None:
        """What pinning may have written into the config (see :func:`git_info`)."""
        path = self.target.config_path
        return None if path is None else (path, self.target.name, self.agent_id)

    def _complete(self, **facts: Any) -> None:
        if self.record is None:
            return
        try:
            Ledger(self.store.state_dir).complete(self.key, self.record.id, **facts)
        except OSError as exc:
            self.sink.emit("ledger_failed", level="warning", message=str(exc))

    def taken(self, outcome: DeployOutcome) -> DeployRecord | None:
        """The server took the request: its deployment id (when the reply names one)."""
        if self.record is None:
            return None
        self._complete(deployment_id=outcome.deployment_id)
        rec = self.record
        self.sink.emit(
            "deploy_recorded",
            id=rec.id,
            deployment_id=outcome.deployment_id,
            files=len(rec.files),
            text=f"ledger #{rec.id}: deployment {outcome.deployment_id}",
        )
        return rec

    def not_taken(self, message: str) -> None:
        self._complete(status=NOT_TAKEN, message=message)


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
