"""``mlarena-sync status``: the agent's status, quota left, last deploy, files in sync or not.

Read-only (see :mod:`mlarena_sync.engine.status_report`), so it works beside a running ``watch``.
"""

from __future__ import annotations

import argparse

from mlarena_sync.api.models import DeployLimits, LatestDeploy
from mlarena_sync.cli.human import words
from mlarena_sync.cli.human.fmt import queue_place
from mlarena_sync.cli.output import Output
from mlarena_sync.commands.common import Workspace, open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.gate import not_live, pending_text
from mlarena_sync.engine.history import learn_outcomes
from mlarena_sync.engine.status_report import StatusReport, gather
from mlarena_sync.humanize import plural
from mlarena_sync.store.ledger import Ledger

__all__ = ["add_arguments", "run", "status"]


def _when(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat(timespec="seconds")) if callable(isoformat) else "unknown"


def _agent_text(status: object, message: str | None, score: object, off: str | None) -> str:
    """``live · mean reward 42.3``; ``synced, not deployed (off the leaderboard) · ...``."""
    lines = (message or "").strip().splitlines()
    phrase = words.status_phrase(status, message, score=score, off=bool(off))
    return phrase + (" [more: `mlarena-sync logs`]" if len(lines) > 1 else "")


def _quota_text(limits: DeployLimits) -> str:
    if limits.daily_limit is None and limits.remaining is None:
        return "deploys today: unknown"
    text = (
        f"deploys today: {limits.used if limits.used is not None else '?'} of "
        f"{limits.daily_limit if limits.daily_limit is not None else '?'} used, "
        f"{limits.remaining if limits.remaining is not None else '?'} left"
    )
    if limits.next_available_at is not None and (limits.remaining or 0) <= 0:
        text += f" (next slot at {_when(limits.next_available_at)})"
    return text


def _ledger_number(ws: Workspace, latest: LatestDeploy | None) -> int | None:
    """The ledger number (``history``'s ``#N``) of the server's deployment, when it is ours."""
    if latest is None or latest.id is None:
        return None
    records = Ledger(ws.store.state_dir).records(ws.key)
    return next((r.id for r in records if r.deployment_id == latest.id), None)


def _latest_text(latest: LatestDeploy | None, ledger_no: int | None = None) -> str:
    """``deploy #5 in history`` (the folder's own count, as ``history`` says it) when the
    server's last deployment is one of ours, else the server's ``deployment 6``."""
    if latest is None:
        return "last deploy: none"
    ours = ledger_no is not None
    which = f"deploy #{ledger_no} in history" if ours else f"deployment {latest.id}"
    text = f"last deploy: {which}, {latest.status} at {_when(latest.created_at)}"
    if latest.failure_message:
        text += f": {latest.failure_message.splitlines()[0]}"
    if latest.failure_owner and latest.failure_owner != "participant":
        # not the agent's fault: the challenge's or the platform's (a redeploy may just work)
        text += f" [the {latest.failure_owner}'s side, not your agent]"
    return text


def _files_text(report: StatusReport) -> str:
    plan = report.plan
    if plan is None:
        return "files: not syncable (fix, rename or exclude them):\n  " + "\n  ".join(
            report.problems
        )
    if report.in_sync and plan.unverified:
        return (
            f"files: in sync as far as can be checked ({plural(len(plan.unchanged), 'file')}); "
            f"{plural(len(plan.unverified), 'binary file')} cannot be verified, same size as "
            "the last sync "
            "but this server's API serves no binary bytes: " + ", ".join(plan.unverified)
        )
    if report.in_sync:
        return f"files: in sync ({plural(len(plan.unchanged), 'file')})"
    return f"files: not in sync ({plan.summary()}); `mlarena-sync plan` shows the details"


def status(ws: Workspace, out: Output) -> int:
    report = gather(ws)
    cid = ws.target.competition
    files_text = _files_text(report)
    plan_json = report.plan.to_json() if report.plan is not None else None
    aid, agent, deploy = report.agent_id, report.agent, report.deploy
    if aid is None or agent is None or deploy is None:
        out.result(
            "status",
            f"agent: none yet (the first `mlarena-sync push` creates "
            f"{ws.target.agent.name!r} in challenge {cid})\n{files_text}",
            agent_id=None,
            in_sync=False,
            plan=plan_json,
            not_syncable=report.problems,
        )
        return 0
    ledger_no = _ledger_number(ws, deploy.latest)
    off = not_live(agent)
    lines = [
        f"agent {aid} ({agent.name or ws.target.agent.name or '?'}, challenge {cid}): "
        + _agent_text(agent.status, agent.message, agent.score, off),
        _quota_text(deploy.limits),
        _latest_text(deploy.latest, ledger_no),
        files_text,
    ]
    if report.pending:
        lines.insert(
            3,
            f"deploy: pending ({pending_text(report.pending_since)}; "
            "`mlarena-sync push` deploys it)",
        )
    elif off:
        lines.insert(3, "deploy: the agent is not live; `mlarena-sync push --deploy` deploys it")
    if agent.queue is not None and agent.queue.position:
        where = queue_place(
            agent.queue.position, agent.queue.queue_position, agent.queue.queue_total
        )
        lines[0] += f" · position {where} in the queue"
    out.result(
        "status",
        "\n".join(lines),
        agent_id=aid,
        status=agent.status,
        live=agent.status == "active",
        message=agent.message,
        deploys_used=deploy.limits.used,
        deploys_limit=deploy.limits.daily_limit,
        deploys_remaining=deploy.limits.remaining,
        next_deploy_available_at=deploy.limits.next_available_at,
        last_deploy_status=deploy.latest.status if deploy.latest else None,
        last_deployment_id=deploy.latest.id if deploy.latest else None,
        last_deploy_ledger_id=ledger_no,
        last_deploy_failure_owner=deploy.latest.failure_owner if deploy.latest else None,
        queue_position=agent.queue_position,
        queue_total=agent.queue_total,
        last_deploy_at=deploy.latest.created_at if deploy.latest else report.last_ours,
        in_sync=report.in_sync,
        deploy_pending=report.pending,
        plan=plan_json,
        not_syncable=report.problems,
    )
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags of its own (the common ones are the CLI's)."""


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    code = status(ws, inv.out)
    learn_outcomes(ws)  # the deploy ledger learns what settled since (only while facts are due)
    return code
