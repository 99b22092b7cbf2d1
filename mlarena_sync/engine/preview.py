"""What a push would do (``mlarena-sync plan`` = ``push --dry-run``). Changes nothing.

Reads the competition, the agent's status, its files, its deploy quota and (with ``runtime:``)
the runtime options, refusing a runtime as push would; writes nothing, not even the state, and
takes no lock (so it runs beside a ``watch``).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from mlarena_sync.api.interface import Arena
from mlarena_sync.engine.gate import (
    PENDING,
    DeployContext,
    DeployDecision,
    evaluate,
    not_live,
    pending_text,
)
from mlarena_sync.engine.plan import TEMPLATE_FILE, TEMPLATE_REASON, relabel_uploads
from mlarena_sync.engine.reconcile import ReconcileOptions, ReconcileResult
from mlarena_sync.engine.runtime import resolve_runtime
from mlarena_sync.engine.workspace import Workspace

__all__ = ["plan_decision", "preview"]


def plan_decision(
    ws: Workspace,
    client: Arena,
    result: ReconcileResult,
    *,
    forced: bool = False,
    enabled: bool = True,
    pending: bool = False,
    pending_since: datetime | None = None,
) -> DeployDecision:
    """The deploy decision a push would take after applying this plan (check not run);
    ``pending``: an earlier push synced files and did not deploy them (the journal's flag)."""
    plan = result.plan
    aid = result.agent_id
    if plan.delete_cap_hit or plan.conflicts:
        stop = "a conflict" if plan.conflicts else "the delete limit"
        decision = DeployDecision(
            deploy=False, reason=f"push would stop at {stop} before any deploy"
        )
    else:
        decision = evaluate(
            DeployContext(
                caller="push",
                now=ws.clock.now(),
                changed=bool(plan.changes),
                pending=pending,
                forced=forced,
                enabled=enabled,
                in_flight=result.agent_status.in_flight,
                not_live=not_live(result.agent_status) if result.agent_id else None,
                validation_ok=True if plan.changes else result.validation_ok,
                validation_message=result.validation_message,
            ),
            read_limits=(
                None
                if aid is None
                else lambda: client.deploy_status(ws.target.competition, aid).limits
            ),
        )
    if pending:  # say it (and since when) whatever decided
        text = pending_text(pending_since)
        reason = (
            decision.reason.replace(PENDING, text)
            if PENDING in decision.reason
            else f"{decision.reason}; {text}"
        )
        decision = dataclasses.replace(decision, reason=reason)
    if decision.deploy and ws.target.deploy.check:
        return dataclasses.replace(
            decision, reason=_once_checked(decision.reason, ws.target.deploy.check)
        )
    return decision


def _once_checked(reason: str, check: str) -> str:
    """``files changed; it deploys once the check `X` passes``: the check is still to run, so
    the reason does not say "passed the checks" (the server's, already passed) beside it."""
    for passed in (" and passed the checks", ", passed the checks"):
        reason = reason.replace(passed, "")
    return f"{reason}; it deploys once the check `{check}` passes"


def preview(
    ws: Workspace, *, force: bool = False, forced_deploy: bool = False, enabled: bool = True
) -> tuple[ReconcileResult, DeployDecision]:
    """The plan of a push and its deploy decision, from a dry-run reconcile (no lock taken)."""
    with ws.client(read_only=True) as client:
        rec = ws.reconciler(client)
        result = rec.reconcile(ReconcileOptions(dry_run=True, force=force))
        if ws.target.runtime is not None:  # refused as push would refuse it (exit 2)
            resolve_runtime(ws.target, client.runtime_options(ws.target.competition))
        if result.agent_id is None:
            rec.competition()  # push would create the agent there: refused as push would be
            if not force:
                rec.binder.check_no_twin()  # push would stop there (exit 2)
        template = client.capabilities.new_agents_hold_the_template
        if result.agent_id is None and template and rec.competition().agent_template:
            plan = relabel_uploads(result.plan, [TEMPLATE_FILE], TEMPLATE_REASON)
            result = dataclasses.replace(result, plan=plan)
        decision = plan_decision(
            ws,
            client,
            result,
            forced=forced_deploy,
            enabled=enabled,
            pending=rec.journal.deploy_pending(),
            pending_since=rec.journal.deploy_pending_since(),
        )
    return result, decision
