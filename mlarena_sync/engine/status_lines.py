"""Status lines: successive :class:`AgentStatus` snapshots → only what is new.

A poll every second would otherwise print "queued 1/3" sixty times. :class:`StatusTracker`
remembers what it last reported for each kind of line and emits a :class:`StatusEvent` only when
that part changed:

* ``status``: a transition (``upload_validated → deploy_queue``), with the server's message
  (and the agent's ``score`` when the server sends one);
* ``queue``: the queue position while queued (``position`` as shown, ``3/12``; v4.6's integers
  as ``queue_position`` and ``queue_total``), not the seconds waited (they change every poll);
* ``run``: one line per run result whose status, outcome or error changed (the step counter and
  running reward are shown but do not make a new line by themselves), plus a line when a run
  finishes with its reward;
* ``error``: the server's message when the agent lands in ``deploy_failed``/``upload_failed``
  (a traceback, a validation message), once.

The same event twice in a row is never emitted; going back to an earlier state (a redeploy) is
a transition and is reported again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlarena_sync.api.models import AgentStatus, RunResult

FAILED_STATUSES = frozenset({"deploy_failed", "upload_failed"})


@dataclass(frozen=True)
class StatusEvent:
    """One line to show. ``event`` is a stable snake_case name; ``fields`` go to ``--json``."""

    event: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def _run_key(run: RunResult) -> tuple[object, ...]:
    return (run.status, run.outcome, run.error_type, run.error_message)


def _run_text(index: int, run: RunResult) -> str:
    parts = [f"run {index}: {run.status or 'unknown'}"]
    if run.steps is not None:
        parts.append(f"steps {run.steps}")
    if run.reward is not None:
        parts.append(f"reward {run.reward:g}")
    if run.outcome:
        parts.append(f"outcome {run.outcome}")
    if run.error_type or run.error_message:
        parts.append(f"error {run.error_type or ''}: {run.error_message or ''}".rstrip(": "))
    return ", ".join(parts)


class StatusTracker:
    """Feed it each polled :class:`AgentStatus`; it returns the lines not shown yet."""

    def __init__(self) -> None:
        self._status: str | None = None
        self._seen_any = False
        self._queue: str | None = None
        self._runs: dict[int, tuple[object, ...]] = {}
        self._error: tuple[str | None, str | None] | None = None

    @property
    def last_status(self) -> str | None:
        return self._status

    def update(self, snap: AgentStatus) -> list[StatusEvent]:
        out: list[StatusEvent] = []
        status = snap.status
        if not self._seen_any or status != self._status:
            previous = self._status if self._seen_any else None
            arrow = f"{previous} → {status}" if previous else f"{status}"
            msg = snap.message if status not in FAILED_STATUSES else None
            text = f"status: {arrow}" + (f" ({msg})" if msg else "")
            out.append(
                StatusEvent(
                    "agent_status",
                    text,
                    {
                        "status": status,
                        "previous": previous,
                        "message": snap.message,
                        "score": snap.score,
                    },
                )
            )
            self._status = status
            self._seen_any = True
            self._queue = None
            self._runs = {}
            if status not in FAILED_STATUSES:
                self._error = None

        queue = snap.queue
        position = queue.position if queue is not None else None
        if queue is not None and position is not None and position != self._queue:
            out.append(
                StatusEvent(
                    "queue",
                    f"queue position {position}",
                    {
                        "position": position,
                        "queue_position": queue.queue_position,
                        "queue_total": queue.queue_total,
                    },
                )
            )
        self._queue = position

        for index, run in enumerate(snap.runs, start=1):
            key = _run_key(run)
            if self._runs.get(index) == key:
                continue
            self._runs[index] = key
            out.append(
                StatusEvent(
                    "run",
                    _run_text(index, run),
                    {
                        "run": index,
                        "status": run.status,
                        "steps": run.steps,
                        "reward": run.reward,
                        "outcome": run.outcome,
                        "error_type": run.error_type,
                        "error_message": run.error_message,
                    },
                )
            )

        if status in FAILED_STATUSES:
            err = (status, snap.message)
            if err != self._error and snap.message:
                out.append(
                    StatusEvent(
                        "agent_error",
                        f"{status}: {snap.message}",
                        {"status": status, "message": snap.message},
                    )
                )
            self._error = err
        return out
