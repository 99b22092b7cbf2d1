"""Running ``mlarena-sync watch --json`` and reading its event lines."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.procs import Line, Proc, child_env, cli

# Event names of watch's --json output (see mlarena_sync/watch.py and sync.py).
UPLOAD_EVENTS = frozenset({"uploaded", "upload_done", "file_uploaded"})
RECONCILE_EVENTS = frozenset({"reconciled", "reconcile_done", "reconcile"})
READY_EVENTS = frozenset({"watching", "watch_started", "watch_ready"})


def start_watch(project: Path, token: str, workdir: Path, *, tag: str = "watch") -> Proc:
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


def wait_ready(proc: Proc, timeout: float) -> bool:
    """Wait for watch's first reconcile (the initial sync) to be over."""
    line = proc.wait_for(lambda ln: is_reconcile(ln.json()), timeout)
    return line is not None


def wait_quiet(proc: Proc, quiet: float, timeout: float) -> bool:
    """Wait until watch printed nothing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.next_line(quiet) is None:
            return True
    return False
