"""What ``watch`` tells a person about a reconcile's plan, each thing once while it lasts:
conflicts paused, remote changes left in place, deletes paused at the limit, and a file that
changes on every reconcile (a program writing it: a log?)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlarena_sync.engine import shared_events
from mlarena_sync.engine.advice import conflicts_hint
from mlarena_sync.engine.reconcile import ReconcileResult
from mlarena_sync.events import EventSink

__all__ = ["CHURN", "PlanNotices"]

#: A file uploaded by this many reconciles in a row changes on every one: a program is writing
#: it (a log?), and watch says so once.
CHURN = 5


class PlanNotices:
    """The plan's news for a person, said when it changes (not on every reconcile)."""

    def __init__(self, sink: EventSink, max_delete: int, warn_once: Callable[..., None]) -> None:
        self.sink = sink
        self.max_delete = max_delete
        self.warn_once: Callable[..., Any] = warn_once
        self._conflicts: set[tuple[str, str]] = set()
        self._remote_changes: set[str] = set()
        self._deletes_paused: tuple[str, ...] = ()
        self._churn: dict[str, int] = {}  # name → reconciles in a row that uploaded it
        self._status: str | None = None  # the agent's status at the last reconcile

    @property
    def status(self) -> str | None:
        """The agent's status at the last reconcile (or deploy poll)."""
        return self._status

    def note_status(self, status: str | None, agent_id: int | None) -> None:
        """Say it once when the agent leaves ``active`` (an upload, a browser edit, a failure):
        the leaderboard no longer runs what was deployed until the next deploy."""
        before, self._status = self._status, status
        if before == "active" and status not in ("active", None):
            self.sink.emit(
                "agent_left_active",
                level="warning",
                agent_id=agent_id,
                status=status,
                reason=None,  # watch: the deploy rules in force (its banner) decide what follows
                text=f"agent {agent_id} is no longer active (status: {status}): it is off the "
                "leaderboard until a deploy",
            )

    def note_churn(self, result: ReconcileResult) -> None:
        """Say once which file changed on each of the last :data:`CHURN` reconciles."""
        self._churn = {name: self._churn.get(name, 0) + 1 for name in result.uploaded}
        for name, count in sorted(self._churn.items()):
            if count >= CHURN:
                local = result.local.get(name)
                path = local.path if local is not None else name
                self.warn_once(
                    f"churn:{path}",
                    "file_keeps_changing",
                    file=path,
                    syncs=count,
                    text=f"{path} changed on each of the last {count} syncs: if a program writes "
                    "it (a log?), exclude it (files.exclude in mlarena.yaml, or .mlarenaignore)",
                )

    def report_plan(self, result: ReconcileResult) -> None:
        by_key = {(c.name, c.reason): c for c in result.plan.conflicts}
        conflicts = set(by_key)
        for name, reason in sorted(conflicts - self._conflicts):
            self.sink.emit(
                "conflict_paused",
                level="warning",
                name=name,
                reason=reason,
                text=f"{name}: {reason}; paused (the rest keeps syncing); "
                + conflicts_hint([by_key[name, reason]]),
            )
        self._conflicts = conflicts
        remote = set(result.plan.remote_changes)
        for name in sorted(remote - self._remote_changes):
            self.sink.emit(
                "remote_changed",
                level="warning",
                **shared_events.remote_changed(
                    name,
                    "edited",
                    f"{name} changed on the server: left in place; `mlarena-sync pull` takes it",
                ),
            )
        for up in result.plan.uploads:
            if up.reason == "missing remotely":  # synced once, deleted there since
                self.sink.emit(
                    "remote_changed",
                    level="warning",
                    **shared_events.remote_changed(
                        up.name,
                        "deleted",
                        f"{up.name} was deleted on the server: uploaded again from here",
                    ),
                )
        self._remote_changes = remote
        skipped = result.deletes_skipped
        if skipped and skipped != self._deletes_paused:
            limit = self.max_delete
            self.sink.emit(
                "deletes_paused",
                level="warning",
                files=list(skipped),
                max_delete=limit,
                text=f"{len(skipped)} remote file(s) deleted locally, over sync.max_delete = "
                f"{limit}: the deletes are paused, other changes keep syncing (check that "
                "files.root is the right folder, then run `mlarena-sync push --force`, or raise "
                "sync.max_delete):\n  " + "\n  ".join(skipped) + _also(result),
            )
        self._deletes_paused = skipped


def _also(result: ReconcileResult) -> str:
    """The server edits that ``push --force`` would overwrite besides the deletes."""
    plan = result.plan
    names = sorted({c.name for c in plan.conflicts} | set(plan.remote_changes))
    if not names:
        return ""
    return "\n`push --force` would also overwrite the server's edits of: " + ", ".join(names)
