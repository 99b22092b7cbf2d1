"""``.mlarena-sync/`` beside mlarena.yaml, one :class:`StateDir`: binding, base, journal, lock.

* ``state.json``: per target key (name + server + competition, so another server never reuses an
  agent id) the agent id, pinned runtime id, last deploy time and the *base*: per remote name the
  local path, hash and size of what was last synced.
* ``stat-cache.json``: the scanner's size/mtime/inode → sha256 cache, per mirrored root.
* ``journal.json``: the write-ahead journal (:mod:`~.journal` says what it holds).
* ``lock``: ``flock``-ed while a command works on the folder, holding its PID (:mod:`~.lock`).
* ``.gitignore``: ``*``, so the folder never lands in git.

Each file is read once per run and then served from memory (:class:`StateDir`: while the lock is
held nobody else writes; without it a ``stat`` tells whether another process replaced a file).
Every write goes to disk at once, atomically (:func:`~.atomic.atomic_write`: temp file +
``os.replace``), the state with ``fsync``. The rename alone is all a *process* death
(``kill -9``) needs; the ``fsync`` is kept deliberately, against a power loss:
``state.json`` holds the agent binding, and a binding lost that way would make the next push
create a second agent. It is cheap because the state is written rarely: once per batch window
during a push (:data:`~.apply.SAVE_INTERVAL`), not once per file; what a kill loses
between two saves, the write-ahead journal and the remote listing re-learn (see
:mod:`~.journal`, which skips ``fsync`` for that reason). ``stat-cache.json`` is a pure
cache (a lost one costs a re-hash) and is written without ``fsync`` too. A corrupted state file is
treated as empty with a ``state_reset`` warning (:attr:`StateDir.was_reset`): the state is only
a cache of what the server holds, and the next push re-learns it. The token is never stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlarena_sync.config.model import Target
from mlarena_sync.errors import StateError
from mlarena_sync.events import EventSink, LogSink
from mlarena_sync.local.scan import StatCache
from mlarena_sync.store.atomic import atomic_write
from mlarena_sync.store.cached import Cached
from mlarena_sync.store.lock import FolderLock, hold_lock

__all__ = [
    "STATE_DIR_NAME",
    "BaseEntry",
    "StateDir",
    "StateStore",
    "TargetState",
    "target_key",
]

STATE_DIR_NAME = ".mlarena-sync"
STATE_FILE = "state.json"
STAT_CACHE_FILE = "stat-cache.json"
JOURNAL_FILE = "journal.json"
FORMAT_VERSION = 1


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
    #: The ``runtime:`` of mlarena.yaml that ``runtime_id`` was resolved from: while it stays
    #: the same, the pinned runtime holds and the runtime options need not be read again.
    runtime_spec: str | None = None
    #: The lookup part of the token the agent was bound with (public: ``mlk_user_<lookup>_***``):
    #: when another token cannot see the agent, it is another user's (exit 4), not a lost one.
    bound_by: str | None = None


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
    if last is not None and last.tzinfo is None:  # hand-edited or foreign: we write UTC offsets
        last = last.replace(tzinfo=timezone.utc)
    return TargetState(
        agent_id=_opt_int(data.get("agent_id")),
        files={str(name): _entry_from_json(e) for name, e in files.items()},
        last_deploy_at=last,
        runtime_id=_opt_int(data.get("runtime_id")),
        runtime_spec=spec if isinstance(spec := data.get("runtime_spec"), str) else None,
        bound_by=by if isinstance(by := data.get("bound_by"), str) else None,
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
        "runtime_spec": state.runtime_spec,
        **({"bound_by": state.bound_by} if state.bound_by else {}),
        "last_deploy_at": state.last_deploy_at.isoformat() if state.last_deploy_at else None,
        "files": files,
    }


def _copy(state: TargetState) -> TargetState:
    """A copy callers may change without touching the memory (the entries are frozen)."""
    return dataclasses.replace(state, files=dict(state.files))


def _read_journal(path: Path) -> dict[str, Any]:
    """``journal.json``'s targets; tolerant: an unreadable journal is empty (a re-upload)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    targets = data.get("targets") if isinstance(data, dict) else None
    return targets if isinstance(targets, dict) else {}


class StateDir:
    """``.mlarena-sync/`` of one mlarena.yaml: lock, state, journal data and stat cache.

    Each file is read once per run and served from memory afterwards (:class:`~.cached.Cached`);
    every write goes to disk at once, atomically (:func:`~.atomic.atomic_write`), with the
    ``fsync`` policy of the module docstring. The folder is made on first write. Thread-safe."""

    def __init__(self, state_dir: Path, *, sink: EventSink | None = None) -> None:
        """``sink``: where its warnings go (``state_reset``, recovered journal entries)."""
        self.path = Path(state_dir)
        self.sink: EventSink = sink if sink is not None else LogSink()
        self.was_reset = False  # a corrupted state file was met and treated as empty
        self.reset_reason: str | None = None
        self._mutex = threading.RLock()
        self._held = 0  # > 0 while this object holds the lock
        self._folder_lock: FolderLock | None = None  # the lock held (lent by a watch)
        self._states = Cached(self.path / STATE_FILE, self._read_states)
        self._journal = Cached(self.path / JOURNAL_FILE, _read_journal)
        self._stat_roots = Cached(self.path / STAT_CACHE_FILE, self._read_stat_roots)

    @classmethod
    def for_config(cls, config_path: Path, *, sink: EventSink | None = None) -> StateDir:
        return cls(Path(config_path).parent / STATE_DIR_NAME, sink=sink)

    @property
    def state_dir(self) -> Path:
        return self.path

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    def ensure_dir(self) -> None:
        """Create the folder (with its ``.gitignore``: it never lands in git) if missing."""
        self._ensure_dir()

    def _ensure_dir(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            ignore = self.path / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
        except OSError as exc:
            raise StateError(f"cannot create {self.path}: {exc.strerror}") from None

    def _write_json(self, path: Path, data: object, *, durable: bool) -> None:
        self._ensure_dir()
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        try:
            atomic_write(path, text, fsync=durable)
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
                hint=f"upgrade mlarena-sync, or delete {self.path} (the next push re-learns)",
            )
        if version != FORMAT_VERSION:
            raise _Corrupt(f"unknown format version {version!r}")
        return data

    def _reset(self, path: Path, reason: str) -> None:
        self.was_reset = True
        self.reset_reason = reason
        self.sink.emit(
            "state_reset",
            level="warning",
            file=str(path),
            reason=reason,
            hint="treated as empty; safe to delete, the next push re-learns what the server holds",
        )

    # ---------------------------------------------------------------- targets
    def _read_states(self, path: Path) -> dict[str, TargetState]:
        try:
            data = self._read_json(path)
            if data is None:
                return {}
            targets = data.get("targets", {})
            if not isinstance(targets, dict):
                raise _Corrupt("targets is not an object")
            return {str(k): _state_from_json(v) for k, v in targets.items()}
        except _Corrupt as exc:
            self._reset(path, str(exc))
            return {}

    def _all_states(self) -> dict[str, TargetState]:
        return self._states.get(trusted=self._held > 0)

    def load(self, target_key: str) -> TargetState:
        """The target's state (a copy); an empty one when none was saved (or the file was
        corrupted)."""
        with self._mutex:
            return _copy(self._all_states().get(target_key, TargetState()))

    def save(self, target_key: str, state: TargetState) -> None:
        """Write the target's state atomically (with fsync), keeping the other targets'."""
        with self._mutex:
            states = dict(self._all_states())
            states[target_key] = _copy(state)
            self._write_states(states)

    def forget(self, target_key: str) -> None:
        """Drop a target's state (e.g. its agent was deleted on the server)."""
        with self._mutex:
            states = dict(self._all_states())
            if states.pop(target_key, None) is not None:
                self._write_states(states)

    def _write_states(self, states: dict[str, TargetState]) -> None:
        data = {
            "version": FORMAT_VERSION,
            "targets": {k: _state_to_json(v) for k, v in sorted(states.items())},
        }
        # Durable: a binding lost to a power loss would make the next push create a twin agent.
        self._write_json(self.state_file, data, durable=True)
        self._states.written(states)

    # ---------------------------------------------------------------- journal data
    def journal_targets(self) -> dict[str, Any]:
        """``journal.json``'s entries per target key (a copy of the top level)."""
        with self._mutex:
            return dict(self._journal.get(trusted=self._held > 0))

    def write_journal(self, targets: dict[str, Any], *, durable: bool) -> None:
        """Replace ``journal.json`` (removed when ``targets`` is empty); fsync when ``durable``.
        Raises :class:`OSError` as the journal always did (a journal write is not retried)."""
        path = self.path / JOURNAL_FILE
        with self._mutex:
            if targets:
                self._ensure_dir()
                data = json.dumps({"version": FORMAT_VERSION, "targets": targets})
                atomic_write(path, data, fsync=durable)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            self._journal.written(dict(targets))

    # ---------------------------------------------------------------- stat cache
    def _read_stat_roots(self, path: Path) -> dict[str, object]:
        try:
            data = self._read_json(path)
        except _Corrupt:
            return {}  # only costs a re-hash; no warning needed
        roots = data.get("roots") if data is not None else None
        return dict(roots) if isinstance(roots, dict) else {}

    def load_stat_cache(self, root: Path) -> StatCache:
        with self._mutex:
            roots = self._stat_roots.get(trusted=self._held > 0)
            return StatCache.from_json(roots.get(str(root)))

    def save_stat_cache(self, root: Path, cache: StatCache) -> None:
        """Persist the cache when it changed (other roots' caches are kept)."""
        if not cache.dirty:
            return
        with self._mutex:
            roots = dict(self._stat_roots.get(trusted=self._held > 0))
            roots[str(root)] = cache.to_json()
            # A pure cache (a lost one costs a re-hash): atomic, but not worth an fsync.
            path = self.path / STAT_CACHE_FILE
            self._write_json(path, {"version": FORMAT_VERSION, "roots": roots}, durable=False)
            self._stat_roots.written(roots)
        cache.dirty = False

    # ---------------------------------------------------------------- lock
    @contextlib.contextmanager
    def lock(self, *, borrow: bool = True) -> Iterator[None]:
        """Hold ``.mlarena-sync/lock`` (a watch's is borrowed); re-read what others wrote."""
        self._ensure_dir()
        with hold_lock(self.path, borrow=borrow) as held:
            with self._mutex:
                for cached in (self._states, self._journal, self._stat_roots):
                    cached.refresh()
                self._held += 1
                self._folder_lock = held
            try:
                yield
            finally:
                with self._mutex:
                    self._held -= 1
                    self._folder_lock = None

    @contextlib.contextmanager
    def lent(self) -> Iterator[None]:
        """The lock released for the block (a command borrows it), then taken back."""
        held = self._folder_lock
        assert held is not None, "lent() outside lock()"
        held.release()
        try:
            yield
        finally:
            held.reacquire()
            with self._mutex:
                for cached in (self._states, self._journal, self._stat_roots):
                    cached.refresh()


#: The name the engine and the commands still use (one class: :class:`StateDir`).
StateStore = StateDir
