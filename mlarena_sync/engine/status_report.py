"""What ``mlarena-sync status`` reports, gathered read-only: the agent, its quota and last
deploy, a pending deploy, and whether the files are in sync.

The files verdict comes from a dry-run plan (no lock, no state written), so it works beside a
running ``watch``; local files that cannot sync do not hide the agent and quota.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mlarena_sync.api.models import AgentStatus, DeployStatus
from mlarena_sync.engine.plan import Plan
from mlarena_sync.engine.reconcile import ReconcileOptions, ReconcileResult
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import SelectionError

__all__ = ["StatusReport", "gather"]


@dataclass(frozen=True, kw_only=True)
class StatusReport:
    agent_id: int | None
    plan: Plan | None  # None: the local files cannot be synced (see problems)
    problems: list[str] = field(default_factory=list)
    agent: AgentStatus | None = None
    deploy: DeployStatus | None = None
    last_ours: datetime | None = None  # the last deploy this folder requested
    pending: bool = False
    pending_since: datetime | None = None

    @property
    def in_sync(self) -> bool:
        return self.plan is not None and self.plan.is_empty and not self.plan.remote_changes


def gather(ws: Workspace) -> StatusReport:
    cid = ws.target.competition
    with ws.client(read_only=True) as client:
        rec = ws.reconciler(client)
        problems: list[str] = []
        try:
            result: ReconcileResult | None = rec.reconcile(ReconcileOptions(dry_run=True))
        except SelectionError as exc:  # the agent and quota are still worth showing
            result, problems = None, exc.problems
        plan = result.plan if result is not None else None
        aid = result.agent_id if result is not None else rec.bound_id()
        if aid is None:
            return StatusReport(agent_id=None, plan=plan, problems=problems)
        return StatusReport(
            agent_id=aid,
            plan=plan,
            problems=problems,
            deploy=client.deploy_status(cid, aid),
            agent=result.agent_status if result is not None else client.status(cid, aid),
            last_ours=ws.store.load(ws.key).last_deploy_at,
            pending=rec.journal.deploy_pending(),
            pending_since=rec.journal.deploy_pending_since(),
        )
