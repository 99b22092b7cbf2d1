"""``.mlarena-sync/ledger.jsonl``: the deploy ledger, one record per deploy request.

Append-only JSON lines. A deploy request appends a ``deploy`` line (when, which target and
agent, the server's newest deployment id then, the trigger, the manifest: remote name → local
path, sha256, size, and ``server`` where the server's own version was deployed; the git commit,
the check's result), written before the request is sent. Facts that arrive later (the
deployment id, the outcome once settled, the score) are appended as ``complete`` lines naming
the record; reading folds them in, the first value of each fact winning: a record is
completed, never rewritten.

Crash safety: each line is written with one ``write`` under an ``flock`` and ``fsync``-ed. A
process killed mid-write leaves at most a torn last line (no newline): readers ignore it and the
next append cuts it off first, so the file never holds a torn record.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["FACTS", "LEDGER_FILE", "NOT_TAKEN", "SUCCEEDED", "DeployRecord", "FileRecord", "Ledger"]

LEDGER_FILE = "ledger.jsonl"
FORMAT_VERSION = 1
#: The facts a ``complete`` line may carry (the rest of a record is written once, at request).
FACTS = frozenset(
    {
        "deployment_id",
        "status",
        "message",
        "failure_owner",
        "score",
        "runs",
        "settled_at",
        "finished_at",
    }
)
#: The status of a record whose request the server surely did not take (refused, never arrived).
NOT_TAKEN = "not_taken"
#: Outcomes of a deploy that went live (the agent's status, a deploy attempt's status).
SUCCEEDED = frozenset({"active", "succeeded"})
_DATES = frozenset({"at", "settled_at", "finished_at"})


@dataclass(frozen=True)
class FileRecord:
    path: str  # local path, posix, relative to files.root
    sha256: str  # "" when ``server`` and the server's bytes could not be read
    size: int
    #: The server's version was deployed (changed there, left in place by the sync), not the
    #: folder's: ``sha256`` is of the server's bytes.
    server: bool = False

    @property
    def known(self) -> bool:
        """The deployed bytes' hash is known (not a server version that could not be read)."""
        return bool(self.sha256)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "size": self.size}
        return {**out, "server": True} if self.server else out


@dataclass(frozen=True)
class DeployRecord:
    id: int  # the ledger number, per target: 1, 2, ...
    target: str
    at: datetime
    agent_id: int | None
    deployment_id: int | None  # the server's id; a fact once the reply (or a listing) tells
    trigger: str  # push | watch | ci
    files: Mapping[str, FileRecord] = field(default_factory=dict)
    git: Mapping[str, Any] | None = None  # {"commit": ..., "dirty": bool}
    check: str | None = None  # passed | none
    #: The server's newest deployment id when the request left (the record is written before
    #: the request is sent): the first newer one is this request's, when its reply never came.
    after_deployment: int | None = None
    status: str | None = None  # the outcome once settled
    message: str | None = None
    failure_owner: str | None = None
    score: float | None = None
    runs: int | None = None
    settled_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def settled(self) -> bool:
        return self.status is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "files":
                value = {n: e.to_json() for n, e in sorted(value.items())}
            elif f.name == "git" and value is not None:
                value = dict(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeployRecord:
        files = {
            str(n): FileRecord(
                str(e["path"]), str(e["sha256"]), int(e["size"]), bool(e.get("server", False))
            )
            for n, e in dict(data.get("files") or {}).items()
        }
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data and f.name != "files":
                kw[f.name] = _date(data[f.name]) if f.name in _DATES else data[f.name]
        return cls(**{**kw, "files": files})


def _date(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _facts_json(facts: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(facts) - FACTS
    if unknown:
        raise ValueError(f"not a ledger fact: {sorted(unknown)}")
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in facts.items()
        if v is not None
    }


def _complete(record: DeployRecord, facts: Mapping[str, Any]) -> DeployRecord:
    """The record with the facts it did not hold yet (the first value of a fact wins)."""
    new: dict[str, Any] = {
        k: (_date(v) if k in _DATES else v)
        for k, v in facts.items()
        if k in FACTS and getattr(record, k) is None
    }
    return replace(record, **new) if new else record


class Ledger:
    """The ledger file of one ``.mlarena-sync/`` (all targets; records are per target)."""

    def __init__(self, state_dir: Path, *, fsync: bool = True) -> None:
        self.path = Path(state_dir) / LEDGER_FILE
        self.fsync = fsync
        self.torn = 0  # lines read that were not whole records (ignored)

    # ---------------------------------------------------------------- reading
    def _lines(self) -> Iterator[dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        *whole, tail = raw.split(b"\n")
        self.torn = 1 if tail else 0  # no newline: torn by a kill, ignored
        for line in whole:
            try:
                data = json.loads(line)
            except ValueError:
                self.torn += 1
                continue
            if isinstance(data, dict) and data.get("v") == FORMAT_VERSION:
                yield data

    def records(self, target: str | None = None) -> list[DeployRecord]:
        """The records (of ``target``, or all), oldest first, with their facts folded in."""
        found: dict[tuple[str, int], DeployRecord] = {}
        for data in self._lines():
            try:
                if data.get("op") == "deploy":
                    rec = DeployRecord.from_json(data["record"])
                    found.setdefault((rec.target, rec.id), rec)
                elif data.get("op") == "complete":
                    key = (str(data["target"]), int(data["id"]))
                    if key in found:
                        found[key] = _complete(found[key], data["facts"])
            except (KeyError, TypeError, ValueError):
                self.torn += 1
        recs = [r for r in found.values() if target is None or r.target == target]
        return sorted(recs, key=lambda r: (r.target, r.id))

    # ---------------------------------------------------------------- writing
    def append(self, record: DeployRecord) -> DeployRecord:
        """Append ``record`` as the target's next number (its ``id`` is replaced)."""
        with self._locked() as fh:
            numbers = [r.id for r in self.records(record.target)]
            record = replace(record, id=max(numbers, default=0) + 1)
            self._write(fh, {"v": FORMAT_VERSION, "op": "deploy", "record": record.to_json()})
        return record

    def complete(self, target: str, record_id: int, **facts: Any) -> None:
        """Append facts learnt about a record (only the ones it does not hold yet count)."""
        data = _facts_json(facts)
        if data:
            line = {"v": FORMAT_VERSION, "op": "complete", "target": target, "id": record_id}
            with self._locked() as fh:
                self._write(fh, {**line, "facts": data})

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b", buffering=0) as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                _cut_torn_tail(fh)
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _write(self, fh: Any, data: Mapping[str, Any]) -> None:
        fh.write((json.dumps(data, sort_keys=True) + "\n").encode("utf-8"))
        if self.fsync:
            os.fsync(fh.fileno())


def _cut_torn_tail(fh: Any) -> None:
    """A last line without its newline (a kill mid-write) is cut off before the next append."""
    size = os.fstat(fh.fileno()).st_size
    if size == 0:
        return
    fh.seek(size - 1)
    if fh.read(1) == b"\n":
        return
    fh.seek(0)
    os.ftruncate(fh.fileno(), fh.read().rfind(b"\n") + 1)
