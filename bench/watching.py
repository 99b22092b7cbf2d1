"""Running ``mlarena-sync watch --json`` and reading its event lines."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.procs import Line, Proc, child_env, cli

# Event names of watch's --json output (mlarena_sync/engine/apply.py, watch/loop.py,
# watch/session.py): "upload" after each file PUT answered (file = local path, name = remote
# name); "synced" / "held" after a reconcile that changed (or held) something; "watch_stopped"
# at the end, with the session's totals (reconciles, deploys).
UPLOAD_EVENTS = frozenset({"upload"})
RECONCILE_EVENTS = frozenset({"synced", "held"})
STOPPED_EVENT = "watch_stopped"


def start_watch(project: Path, token: str, workdir: Path, *, tag: str = "watch") -> Proc:
    """``mlarena-sync watch -C PROJECT --json`` (stderr in ``workdir/<tag>.err``)."""
    argv = cli("watch", "-C", str(project), "--json")
    return Proc.start(argv, env=child_env(token), cwd=project, stderr_path=workdir / f"{tag}.err")


def event(line: Line) -> dict[str, Any] | None:
    return line.json()


def event_name(obj: dict[str, Any]) -> str:
    return str(obj.get("event", ""))


def event_time(line: Line, obj: dict[str, Any] | None) -> tuple[float, str]:
    """The event's own timestamp when it has one, else when we read the line."""
    if obj is not None:
        ts = obj.get("timestamp")
        if isinstance(ts, (int, float)):
            return float(ts), "event"
        if isinstance(ts, str):
            try:
                dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
            except ValueError:
                dt = None
            if dt is not None and dt.tzinfo is not None:
                return dt.timestamp(), "event"
    return line.at, "read"


def is_upload_of(obj: dict[str, Any] | None, name: str) -> bool:
    if obj is None or event_name(obj) not in UPLOAD_EVENTS:
        return False
    return name in (obj.get("file"), obj.get("name"), obj.get("path"))


def is_reconcile(obj: dict[str, Any] | None) -> bool:
    return obj is not None and event_name(obj) in RECONCILE_EVENTS


def stopped_totals(proc: Proc) -> dict[str, Any] | None:
    """The ``watch_stopped`` event (session totals), once watch has stopped."""
    proc.drain()
    for line in reversed(proc.seen):
        obj = line.json()
        if obj is not None and event_name(obj) == STOPPED_EVENT:
            return obj
    return None


def wait_quiet(proc: Proc, quiet: float, timeout: float) -> bool:
    """Wait until watch printed nothing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.next_line(quiet) is None:
            return True
    return False
