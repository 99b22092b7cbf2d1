"""How a push ends, once its files are synced: the deploy it requested (and followed), the one
in flight it waited for, or no deploy and why (exit 5 when refused: the files *were* synced;
a pending deploy is kept and said), and the warning when its sync took a live agent off the
leaderboard with no deploy to follow.
"""

from __future__ import annotations

from mlarena_sync.api.models import AgentStatus
from mlarena_sync.engine.gate import DeployDecision, not_live, pending_text
from mlarena_sync.engine.reconcile import ReconcileResult
from mlarena_sync.engine.status_lines import FAILED_STATUSES
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import DeployFailedError, DeployRefusedError, QuotaError
from mlarena_sync.store.journal import Journal

__all__ = [
    "STILL_PENDING",
    "deployed",
    "first_line",
    "not_deployed",
    "say_off_leaderboard",
    "waited",
]


def say_off_leaderboard(ws: Workspace, result: ReconcileResult, d: DeployDecision) -> None:
    """This push changed the agent's files, which takes a live agent off the leaderboard, and
    no deploy follows: one warning (``watch``'s ``agent_left_active``), with why."""
    off = not_live(result.agent_status)
    if not result.changed or result.created_agent or off is None:
        return
    aid = result.agent_id
    ws.out.emit(
        "agent_left_active",
        level="warning",
        agent_id=aid,
        status=off,
        reason=d.reason,
        text=f"agent {aid} is off the leaderboard until a deploy: {d.reason}",
    )


def _raise_if_failed(final: AgentStatus, which: str) -> None:
    """Exit 6 (:class:`DeployFailedError`) when the deploy followed ended in a failure."""
    if final.status in FAILED_STATUSES:
        raise DeployFailedError(
            f"{which} ended {final.status}"
            + (f": {first_line(final.message)}" if final.message else ""),
            status=final.status or "",
            detail=final.message,
        )


def waited(ws: Workspace, aid: int, synced: str, final: AgentStatus, d: DeployDecision) -> int:
    """The end of ``push --wait`` that followed a deploy it did not request (nothing here
    asked for another): how it ended; exit 6 (raised) when it failed."""
    _raise_if_failed(final, f"the deploy in flight on agent {aid}")
    ws.out.emit(
        "push_done",
        level="result",
        text=f"pushed to agent {aid}: {synced}; no new deploy, the one in flight ended "
        f"{final.status}" + (f" ({final.message})" if final.message else ""),
        agent_id=aid,
        deployed=False,
        status=final.status,
        message=final.message,
        reason="a deploy was in flight; nothing changed since",
        blocker="in_flight",
        deploy_pending=False,
    )
    return 0


def deployed(ws: Workspace, aid: int, synced: str, final: AgentStatus) -> int:
    """The end of ``push --wait``: exit 6 (raised) when the deploy failed."""
    _raise_if_failed(final, f"the deploy of agent {aid}")
    ws.out.emit(
        "push_done",
        level="result",
        text=f"pushed to agent {aid}: {synced}; deployed: {final.status}"
        + (f" ({final.message})" if final.message else ""),
        agent_id=aid,
        deployed=True,
        status=final.status,
        message=final.message,
    )
    return 0


def first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return text
    last = lines[-1].strip()
    if len(lines) > 1 and last not in lines[0]:  # "Deploy failed\nTraceback...\nValueError: x"
        return f"{lines[0]} ... {last}"
    return lines[0]


STILL_PENDING = "the deploy stays pending: the next `mlarena-sync push` deploys it"


def not_deployed(
    ws: Workspace, result: ReconcileResult, d: DeployDecision, synced: str, journal: Journal
) -> int:
    """No deploy: exit 5 when it was refused, else 0; a pending deploy is kept (and said)."""
    aid = result.agent_id
    if d.blocker == "quota":
        raise QuotaError(
            f"no deploy: {d.reason}; files were synced ({synced})",
            hint=d.next_step or STILL_PENDING,
            next_available_at=d.wait_until,
        )
    if d.blocker in ("validation", "check"):
        raise DeployRefusedError(
            f"no deploy: {d.reason}; files were synced ({synced})",
            hint=f"{STILL_PENDING} once this is fixed",
        )
    pending = journal.deploy_pending()
    text = f"pushed to agent {aid}: {synced}; no deploy ({d.reason})"
    if pending:
        text += (
            f"; {pending_text(journal.deploy_pending_since())}: `mlarena-sync push` deploys them"
        )
    ws.out.emit(
        "push_done",
        level="result",
        text=text,
        agent_id=aid,
        deployed=False,
        reason=d.reason,
        blocker=d.blocker,
        deploy_pending=pending,
    )
    return 0
