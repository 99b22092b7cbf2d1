"""The fields of the events both ``push`` and ``watch`` emit: one builder per event, so that the
same event has the same fields whichever command emits it (``docs/events.md`` documents them).

Each function returns the keyword fields of one event (``sink.emit(name, **fields)``), ``text``
(the sentence for a person) included.
"""

from __future__ import annotations

from typing import Any, Literal

from mlarena_sync.api.models import DeployOutcome
from mlarena_sync.engine.deploy import CheckResult
from mlarena_sync.engine.reconcile import ReconcileResult
from mlarena_sync.engine.status_lines import StatusEvent

__all__ = [
    "check_failed",
    "deploy_requested",
    "held",
    "remote_changed",
    "request_settled",
    "status_line",
    "synced",
    "synced_text",
]

#: How much of a failing check's output an event carries (its end: where the error is).
CHECK_OUTPUT_CHARS = 2000


def synced_text(result: ReconcileResult) -> str:
    """``1 uploaded, 0 deleted, 3 unchanged``."""
    return (
        f"{len(result.uploaded)} uploaded, {len(result.deleted)} deleted, "
        f"{len(result.plan.unchanged)} unchanged"
    )


def synced(result: ReconcileResult) -> dict[str, Any]:
    """``synced``: one reconcile applied (push: every run; watch: each reconcile that changed
    something)."""
    return {
        "agent_id": result.agent_id,
        "created": result.created_agent,
        "uploaded": len(result.uploaded),
        "deleted": len(result.deleted),
        "unchanged": len(result.plan.unchanged),
        "status": result.agent_status.status,
        "text": f"synced: {synced_text(result)}",
    }


def held(result: ReconcileResult, text: str) -> dict[str, Any]:
    """``held``: the changes a deploy in flight holds back (not synced yet)."""
    return {
        "agent_id": result.agent_id,
        "held": result.held,
        "status": result.agent_status.status,
        "text": text,
    }


def remote_changed(name: str, change: Literal["edited", "deleted"], text: str) -> dict[str, Any]:
    """``remote_changed``: a file changed on the server since the last sync."""
    return {"name": name, "file": name, "change": change, "text": text}


def deploy_requested(
    agent_id: int, outcome: DeployOutcome, reason: str, text: str | None = None
) -> dict[str, Any]:
    """``deploy_requested``: the server took a deploy request."""
    default = "deploy requested" + (
        f" (deployment {outcome.deployment_id})" if outcome.deployment_id is not None else ""
    )
    return {
        "agent_id": agent_id,
        "deployment_id": outcome.deployment_id,
        "status": outcome.status,
        "reason": reason,
        "text": text or default,
    }


def check_failed(
    command: str | None, res: CheckResult, *, off_leaderboard: bool, text: str
) -> dict[str, Any]:
    """``check_failed``: ``deploy.check`` failed: no deploy."""
    return {
        "command": command,
        "returncode": res.returncode,
        "output": res.output.rstrip()[-CHECK_OUTPUT_CHARS:],
        "off_leaderboard": off_leaderboard,
        "text": text,
    }


def request_settled(taken: bool) -> dict[str, Any]:
    """``deploy_request_settled``: a deploy request an earlier run sent and never saw answered
    (killed, reply lost), looked up on the server: taken or not."""
    text = (
        "the deploy an interrupted run requested was taken by the server: not requested again"
        if taken
        else "the deploy an interrupted run requested never reached the server: it stays pending"
    )
    return {"taken": taken, "text": text}


def status_line(event: StatusEvent, agent_id: int | None) -> dict[str, Any]:
    """A status line (``agent_status``, ``queue``, ``run``, ``agent_error``) of agent
    ``agent_id``, as push ``--wait``, watch and logs emit it."""
    return {"agent_id": agent_id, "text": event.text, **event.fields}
