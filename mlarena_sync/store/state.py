"""``.mlarena-sync/`` beside mlarena.yaml: agent binding, base manifest, stat cache, lock.

* ``state.json``: per target key (name + server + competition, so another server never reuses an
  agent id) the agent id, pinned runtime id, last deploy time and the *base*: per remote name the
  local path, hash and size of what was last synced.
* ``stat-cache.json``: the scanner's size/mtime/inode → sha256 cache, per mirrored root.
* ``lock``: ``flock``-ed while a command works on the folder; holds the holder's PID.
* ``.gitignore``: ``*``, so the folder never lands in git.

Files are written atomically (temp file + fsync + ``os.replace``). The rename alone is all a
*process* death (``kill -9``) needs; the ``fsync`` is kept deliberately, against a power loss:
``state.json`` holds the agent binding, and a binding lost that way would make the next push
create a second agent. It is cheap because the state is written rarely: once per batch window
during a push (:data:`~.apply.SAVE_INTERVAL`), not once per file; what a kill loses
between two saves, the write-ahead journal and the remote listing re-learn (see
:mod:`~.journal`, which skips ``fsync`` for that reason). ``stat-cache.json`` is a pure
cache (a lost one costs a re-hash) and is written without ``fsync`` too. A corrupted state file is
treated as empty with a ``state_reset`` warning (:attr:`StateStore.was_reset`): the state is only
a cache of what the server holds, and the next push re-learns it. The token is never stored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from mlarena_sync.config.model import Target
from mlarena_sync.errors import LockedError, StateError
from mlarena_sync.local.scan import StatCache

__all__ = [
    "STATE_DIR_NAME",
    "BaseEntry",
    "StateStore",
    "TargetState",
    "target_key",
]

STATE_DIR_NAME = ".mlarena-sync"
STATE_FILE = "state.json"
STAT_CACHE_FILE = "stat-cache.json"
LOCK_FILE = "lock"
FORMAT_VERSION = 1

log = structlog.get_logger("mlarena_sync.store.state")


@dataclass(frozen=True)
class BaseEntry:
    path: str  # the local path (posix, relative to files.root) the remote name came from
    sha256: str  # of the local bytes that were synced
    size: int
    remote_sha256: str | None = None  # what the server served for them, when it differed


@dataclass
class TargetState:
    agent_id: int | None = None
    files: dict[str, BaseEntry] = field(default_factory=dict)
    last_deploy_at: datetime | None = None
    runtime_id: int | None = None


def server_key(url: str) -> str:
    """``url`` as written in a state key: scheme and host lowercase, the default port dropped, no
    trailing slash (``localhost`` and ``127.0.0.1`` stay apart: they may be two servers)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if not scheme or not host:
        return url.strip().rstrip("/")
    try:
        port = parts.port
    except ValueError:
        port = None
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, {"http": 80, "https": 443}.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def target_key(target: Target) -> str:
    """The key of a target's state: its name, server (:func:`server_key`) and competition."""
    return f"{target.name}@{server_key(target.server)}#competition={target.competition}"


class _Corrupt(Exception):
    pass


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Corrupt(f"expected an integer, got {value!r}")
    return value


def _entry_from_json(data: object) -> BaseEntry:
    if not isinstance(data, dict):
        raise _Corrupt("file entry is not an object")
    path, sha, size, remote = (data.get(k) for k in ("path", "sha256", "size", "remote_sha256"))
    if not isinstance(path, str) or not isinstance(sha, str) or _opt_int(size) is None:
        raise _Corrupt("file entry lacks path, sha256 or size")
    if remote is not None and not isinstance(remote, str):
        raise _Corrupt("remote_sha256 is not text")
    return BaseEntry(path, sha, int(size), remote)  # type: ignore[arg-type]


def _state_from_json(data: object) -> TargetState:
    if not isinstance(data, dict):
        raise _Corrupt("target entry is not an object")
    files = data.get("files", {})
    if not isinstance(files, dict):
        raise _Corrupt("files is not an object")
    when = data.get("last_deploy_at")
    try:
        last = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError as exc:
        raise _Corrupt(str(exc)) from None
    return TargetState(
        agent_id=_opt_int(data.get("agent_id")),
        files={str(name): _entry_from_json(e) for name, e in files.items()},
        last_deploy_at=last,
        runtime_id=_opt_int(data.get("runtime_id")),
    )


def _state_to_json(state: TargetState) -> dict[str, object]:
    files: dict[str, object] = {}
    for name, e in sorted(state.files.items()):
        row: dict[str, object] = {"path": e.path, "sha256": e.sha256, "size": e.size}
        if e.remote_sha256 is not None:
            row["remote_sha256"] = e.remote_sha256
        files[name] = row
    return {
        "agent_id": state.agent_id,
        "runtime_id": state.runtime_id,
        "last_deploy_at": state.last_deploy_at.isoformat() if state.last_deploy_at else None,
        "files": files,
    }


class StateStore:
    """The state folder of one mlarena.yaml. Reads are lazy; the folder is made on first write."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.was_reset = False  # a corrupted state file was met and treated as empty
        self.reset_reason: str | None = None

    @classmethod
    def for_config(cls, config_path: Path) -> StateStore:
        return cls(Path(config_path).parent / STATE_DIR_NAME)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    # ---------------------------------------------------------------- files
    def _ensure_dir(self) -> None:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            ignore = self.state_dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
        except OSError as exc:
            raise StateError(f"cannot create {self.state_dir}: {exc.strerror}") from None

    def _write_json(self, path: Path, data: object, *, durable: bool = True) -> None:
        self._ensure_dir()
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.state_dir)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    if durable:
                        fh.flush()
                        os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            if not durable:
                return
            with contextlib.suppress(OSError):  # make the rename durable (best effort)
                dir_fd = os.open(self.state_dir, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            raise StateError(f"cannot write {path}: {exc.strerror}") from None

    def _read_json(self, path: Path) -> dict[str, object] | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise _Corrupt("not UTF-8") from exc
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _Corrupt(f"not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise _Corrupt("not a JSON object")
        version = data.get("version")
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise StateError(
                f"{path} was written by a newer mlarena-sync (format {version})",
                hint=f"upgrade mlarena-sync, or delete {self.state_dir} (the next push re-learns)",
            )
        if version != FORMAT_VERSION:
            raise _Corrupt(f"unknown format version {version!r}")
        return data

    def _reset(self, path: Path, reason: str) -> None:
        self.was_reset = True
        self.reset_reason = reason
        log.warning(
            "state_reset",
            file=str(path),
            reason=reason,
            hint="treated as empty; safe to delete, the next push re-learns what the server holds",
        )

    # ---------------------------------------------------------------- targets
    def _load_all(self) -> dict[str, TargetState]:
        try:
            data = self._read_json(self.state_file)
            if data is None:
                return {}
            targets = data.get("targets", {})
            if not isinstance(targets, dict):
                raise _Corrupt("targets is not an object")
            return {str(k): _state_from_json(v) for k, v in targets.items()}
        except _Corrupt as exc:
            self._reset(self.state_file, str(exc))
            return {}

    def load(self, target_key: str) -> TargetState:
        """The target's state; an empty one when none was saved (or the file was corrupted)."""
        return self._load_all().get(target_key, TargetState())

    def save(self, target_key: str, state: TargetState) -> None:
        """Write the target's state atomically, keeping the other targets' entries."""
        states = self._load_all()
        states[target_key] = state
        self._write_all(states)

    def forget(self, target_key: str) -> None:
        """Drop a target's state (e.g. its agent was deleted on the server)."""
        states = self._load_all()
        if states.pop(target_key, None) is not None:
            self._write_all(states)

    def _write_all(self, states: dict[str, TargetState]) -> None:
        data = {
            "version": FORMAT_VERSION,
            "targets": {k: _state_to_json(v) for k, v in sorted(states.items())},
        }
        self._write_json(self.state_file, data)

    # ---------------------------------------------------------------- stat cache
    def load_stat_cache(self, root: Path) -> StatCache:
        path = self.state_dir / STAT_CACHE_FILE
        try:
            data = self._read_json(path)
        except _Corrupt:
            return StatCache()  # only costs a re-hash; no warning needed
        if data is None:
            return StatCache()
        roots = data.get("roots")
        return StatCache.from_json(roots.get(str(root)) if isinstance(roots, dict) else None)

    def save_stat_cache(self, root: Path, cache: StatCache) -> None:
        """Persist the cache when it changed (other roots' caches are kept)."""
        if not cache.dirty:
            return
        path = self.state_dir / STAT_CACHE_FILE
        try:
            data = self._read_json(path)
        except _Corrupt:
            data = None
        old = data.get("roots") if data is not None else None
        roots: dict[str, object] = dict(old) if isinstance(old, dict) else {}
        roots[str(root)] = cache.to_json()
        # A pure cache (a lost one costs a re-hash): atomic, but not worth an fsync.
        self._write_json(path, {"version": FORMAT_VERSION, "roots": roots}, durable=False)
        cache.dirty = False

    # ---------------------------------------------------------------- lock
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``.mlarena-sync/lock`` (``flock``); :class:`LockedError` names the holder's PID."""
        self._ensure_dir()
        path = self.state_dir / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"cannot open {path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raw = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                pid = int(raw) if raw.isdigit() else None
                who = f"pid {pid}" if pid is not None else "pid unknown"
                raise LockedError(
                    f"another mlarena-sync ({who}) is working on this folder "
                    f"({self.state_dir.parent}); wait for it to finish or stop it",
                    pid=pid,
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
