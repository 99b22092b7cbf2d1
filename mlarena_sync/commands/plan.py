"""``mlarena-sync plan`` (= ``push --dry-run``): what a push would do. Changes nothing.

Reads the competition, the agent's status, its files, its deploy quota and (with ``runtime:``)
the runtime options, refusing a runtime as push would; writes nothing, not even the state, and
takes no lock (so it runs beside a ``watch``).
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.cli.output import Output
from mlarena_sync.commands.common import Workspace, open_workspace
from mlarena_sync.engine.binding import resolve_runtime
from mlarena_sync.engine.gate import PENDING, DeployContext, DeployDecision, decide, pending_text
from mlarena_sync.engine.plan import TEMPLATE_FILE, TEMPLATE_REASON, Conflict, relabel_uploads
from mlarena_sync.engine.reconcile import ReconcileOptions, ReconcileResult
from mlarena_sync.local.names import human_size
from mlarena_sync.local.scan import LocalFile

__all__ = ["plan_decision", "render_plan", "run", "show_plan"]


def plan_decision(
    ws: Workspace,
    client: ArenaClient,
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
    limits = None
    if result.agent_id is not None and enabled and (plan.changes or forced or pending):
        limits = client.deploy_status(ws.target.competition, result.agent_id).limits
    if plan.delete_cap_hit or plan.conflicts:
        stop = "a conflict" if plan.conflicts else "the delete limit"
        decision = DeployDecision(False, f"push would stop at {stop} before any deploy")
    else:
        decision = decide(
            DeployContext(
                caller="push",
                now=ws.clock.now(),
                changed=bool(plan.changes),
                pending=pending,
                forced=forced,
                enabled=enabled,
                in_flight=result.agent_status.in_flight,
                validation_ok=True if plan.changes else result.validation_ok,
                validation_message=result.validation_message,
                limits=limits,
            )
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
        return DeployDecision(
            True, decision.reason + f", after the check `{ws.target.deploy.check}` passes"
        )
    return decision


def render_plan(result: ReconcileResult, decision: DeployDecision) -> str:
    """The human table of a plan."""
    plan = result.plan
    lines: list[str] = []
    if result.agent_id is None:
        lines.append("agent: none yet (the first push creates it)")
    else:
        lines.append(f"agent {result.agent_id}: {result.agent_status.status}")
    width = max([len(n) for n in plan.unchanged] + [len(u.name) for u in plan.uploads] + [8])
    width = min(width, 40)
    for u in plan.uploads:
        shown = u.name if u.local.path == u.name else f"{u.name} ({u.local.path})"
        lines.append(f"  upload    {shown:<{width}}  {human_size(u.local.size):>9}  {u.reason}")
    for d in plan.deletes:
        lines.append(f"  delete    {d.name:<{width}}  {'':>9}  {d.reason}")
    for c in plan.conflicts:
        lines.append(f"  CONFLICT  {c.name:<{width}}  {c.reason}")
        lines.extend(_conflict_sides(c, result.local.get(c.name)))
    for name in plan.remote_changes:
        lines.append(
            f"  remote    {name:<{width}}  changed on the server: left in place "
            "(`mlarena-sync pull` takes it)"
        )
    for name in plan.left_alone:
        lines.append(f"  left      {name:<{width}}  only on the server: left alone")
    lines.append(plan.summary())
    if plan.delete_cap_hit:
        lines.append("delete limit (sync.max_delete) hit: push would stop; --force overrides")
    if plan.conflicts:
        lines.append("conflicts: push would stop (exit 3); --force keeps the local versions")
    lines.append(f"deploy: {'yes' if decision.deploy else 'no'} ({decision.reason})")
    return "\n".join(lines)


def _conflict_sides(c: Conflict, lf: LocalFile | None) -> list[str]:
    """Both sides of a conflict (size and short hash), and how to settle it."""
    pad = " " * 12
    size = human_size(lf.size) if lf is not None else "?"
    local = (
        f"{pad}local   {c.local_path}: {size}, sha256 {(c.local_sha256 or '?')[:12]}"
        if c.local_path
        else f"{pad}local   deleted"
    )
    rsize = human_size(c.remote_size) if c.remote_size is not None else "size unknown"
    remote = f"{pad}remote  {c.name}: {rsize}, " + (
        f"sha256 {c.remote_sha256[:12]}" if c.remote_sha256 else "binary (only its size is known)"
    )
    keep = "keep yours: `mlarena-sync push --force`"
    take = f"take the remote: `mlarena-sync pull --force {c.name}`; " if c.remote_sha256 else ""
    return [local, remote, f"{pad}{take}{keep}"]


def show_plan(out: Output, result: ReconcileResult, decision: DeployDecision) -> None:
    out.result(
        "plan",
        render_plan(result, decision),
        agent_id=result.agent_id,
        status=result.agent_status.status,
        deploy=decision.deploy,
        deploy_reason=decision.reason,
        **result.plan.to_json(),
    )


def dry_run(
    ws: Workspace, *, force: bool = False, forced_deploy: bool = False, enabled: bool = True
) -> int:
    with ws.client() as client:
        rec = ws.reconciler(client)
        result = rec.reconcile(ReconcileOptions(dry_run=True, force=force))
        if ws.target.runtime is not None:  # refused as push would refuse it (exit 2)
            resolve_runtime(ws.target, client.runtime_options(ws.target.competition))
        if result.agent_id is None and not force:
            rec.binder.check_no_twin()  # push would stop there (exit 2)
        if result.agent_id is None and rec.competition().agent_template:
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
    show_plan(ws.out, result, decision)
    return 0


def run(args: argparse.Namespace) -> int:
    return dry_run(open_workspace(args), force=bool(getattr(args, "force", False)))
