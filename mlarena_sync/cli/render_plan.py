"""A plan for a person: a line per file operation, both sides of a conflict, the deploy verdict."""

from __future__ import annotations

from mlarena_sync.cli.human.words import status_word
from mlarena_sync.cli.output import Output
from mlarena_sync.engine.advice import conflicts_hint
from mlarena_sync.engine.gate import DeployDecision
from mlarena_sync.engine.plan import Conflict
from mlarena_sync.engine.reconcile import ReconcileResult
from mlarena_sync.humanize import size as human_size
from mlarena_sync.local.scan import LocalFile

__all__ = ["render_plan", "show_plan"]


def render_plan(result: ReconcileResult, decision: DeployDecision) -> str:
    """The human table of a plan."""
    plan = result.plan
    lines: list[str] = []
    if result.agent_id is None:
        lines.append("agent: none yet (the first push creates it)")
    else:
        lines.append(f"agent {result.agent_id}: {status_word(result.agent_status.status)}")
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
    for name in plan.unverified:
        lines.append(
            f"  unknown   {name:<{width}}  binary, same size as the last sync: cannot verify "
            "(this server's API serves no binary bytes; another clone's same-size upload "
            "would look the same)"
        )
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
        f"sha256 {c.remote_sha256[:12]}"
        if c.remote_sha256
        else "hash unknown (only its size is known)"
    )
    return [local, remote, f"{pad}{conflicts_hint([c])}"]


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
