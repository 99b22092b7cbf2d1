"""The deploy decision, pure: given what a reconcile did and what the server says about quotas,
deploy now, or not (and why, and until when).

The rules are those of ``docs/product.md`` ("Deploys"), checked in this order:

1. deploys switched off (``push --no-deploy``, ``deploy.auto: false`` in ``watch``) → no;
2. a deploy queued or running → no (a new one would cancel it and waste its quota);
3. nothing changed by the reconcile, no deploy pending (files an earlier push synced and did not
   deploy: killed, refused, or ``--no-deploy``), and no ``--deploy`` → no;
4. the upload validation failed, or the local ``check`` failed → no;
5. quota used up (``remaining <= 0`` or ``can_deploy`` false) → no, until the next slot;
6. ``watch`` only: automatic deploys stop while ``remaining <= reserve`` (``push`` may spend
   the reserve), and wait ``min_interval`` seconds after the previous automatic deploy;
7. otherwise → deploy.

``blocker`` names the rule that said no, so callers map it to an exit code or a wait without
parsing the human ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Literal

from mlarena_sync.api.models import AgentStatus, DeployLimits
from mlarena_sync.humanize import aware, relative

Caller = Literal["push", "watch"]
Blocker = Literal[
    "disabled", "in_flight", "unchanged", "validation", "check", "quota", "reserve", "interval"
]


#: How a pending deploy (files an earlier push synced and did not deploy) is named.
PENDING = "synced files not deployed yet"


def pending_text(since: datetime | None) -> str:
    """:data:`PENDING`, with the time of the first sync not deployed when it is known."""
    if since is None:
        return PENDING
    return f"{PENDING} (pending since {since.isoformat(timespec='seconds')})"


@dataclass(frozen=True, kw_only=True)
class DeployContext:
    caller: Caller
    now: datetime
    changed: bool
    pending: bool = False  # an earlier push synced changes and did not deploy them
    forced: bool = False  # push --deploy: deploy even with no change
    enabled: bool = True  # push --no-deploy / watch with deploy.auto false → False
    in_flight: bool = False  # the agent is deploy_queue / deploy_run
    validation_ok: bool = True  # the upload validation verdict after the last file op
    validation_message: str | None = None
    check_ok: bool | None = None  # None: no check configured (or not run)
    limits: DeployLimits | None = None  # None: unknown (the server will say)
    reserve: int = 0
    last_auto_deploy_at: datetime | None = None
    min_interval: float = 0.0
    #: The agent's status when it is settled and not live (``upload_validated`` after a browser
    #: edit or a sync without deploy, ``deploy_failed``, ``created``); None when live or unknown.
    not_live: str | None = None


def not_live(status: AgentStatus) -> str | None:
    """``status.status`` when the agent is settled but not live (off the leaderboard), else None."""
    if status.status is None or not status.settled or status.status in ("active", "deleted"):
        return None
    return status.status


@dataclass(frozen=True, kw_only=True)
class DeployDecision:
    deploy: bool
    reason: str
    wait_until: datetime | None = None  # when trying again may succeed (quota, interval)
    blocker: Blocker | None = None
    #: For a person, what deploys the synced files and when (the quota and reserve blockers:
    #: :func:`pending_hint`); None when the reason says it all.
    next_step: str | None = None


def _at(when: datetime, now: datetime) -> str:
    """``00:00 UTC`` (today or tomorrow), else ``Dec 3 00:00 UTC``."""
    at = aware(when).astimezone(timezone.utc)
    if at - aware(now) < timedelta(hours=20):
        return f"{at:%H:%M} UTC"
    return f"{at:%b} {at.day} {at:%H:%M} UTC"


def pending_hint(wait_until: datetime | None, now: datetime) -> str:
    """What deploys synced files the quota kept from deploying, and when: never "the next
    push", which fails the same way until a slot opens.

    ``the deploy stays pending: the next push after the next slot (in 7 h 35 min, 00:00 UTC)
    deploys it, or `mlarena-sync watch` deploys it when a slot opens``.
    """
    watch = "`mlarena-sync watch` deploys it when a slot opens"
    if wait_until is None:
        return f"the deploy stays pending: {watch}; the server did not say when that is"
    if aware(wait_until) <= aware(now):
        return "the deploy stays pending: a slot is open again; `mlarena-sync push` deploys it"
    when = f"{relative(wait_until, now)}, {_at(wait_until, now)}"
    return (
        f"the deploy stays pending: the next push after the next slot ({when}) deploys it, "
        f"or {watch}"
    )


def _slot(limits: DeployLimits) -> str:
    if limits.next_available_at is None:
        return "the next slot time is unknown"
    return f"next slot at {limits.next_available_at.isoformat(timespec='seconds')}"


def decide(ctx: DeployContext) -> DeployDecision:
    """Deploy or not; see the module docstring for the rules and their order."""
    if not ctx.enabled:
        why = "--no-deploy" if ctx.caller == "push" else "deploy.auto is false"
        return DeployDecision(deploy=False, reason=f"deploys are off ({why})", blocker="disabled")
    if ctx.in_flight:
        return DeployDecision(
            deploy=False,
            reason="a deploy is queued or running; waiting for it to settle",
            blocker="in_flight",
        )
    if not ctx.changed and not ctx.pending and not ctx.forced:
        if ctx.not_live:  # the truth, and the way back: never "no deploy needed" about it
            return DeployDecision(
                deploy=False,
                reason=f"nothing changed here, but the agent is not live ({ctx.not_live}): "
                "`mlarena-sync push --deploy` deploys it",
                blocker="unchanged",
            )
        return DeployDecision(
            deploy=False, reason="nothing changed: no deploy needed", blocker="unchanged"
        )
    if not ctx.validation_ok:
        detail = f": {ctx.validation_message}" if ctx.validation_message else ""
        return DeployDecision(
            deploy=False,
            reason=f"the server's upload validation failed{detail}",
            blocker="validation",
        )
    if ctx.check_ok is False:
        return DeployDecision(deploy=False, reason="the local check failed", blocker="check")
    limits = ctx.limits
    if limits is not None:
        used_up = (limits.remaining is not None and limits.remaining <= 0) or (
            limits.can_deploy is False
        )
        if used_up:
            return DeployDecision(
                deploy=False,
                reason=f"the daily deploy quota is used up ({_slot(limits)})",
                wait_until=limits.next_available_at,
                blocker="quota",
                next_step=pending_hint(limits.next_available_at, ctx.now),
            )
        if (
            ctx.caller == "watch"
            and limits.remaining is not None
            and limits.remaining <= ctx.reserve
        ):
            return DeployDecision(
                deploy=False,
                reason=f"{limits.remaining} deploy(s) left today, kept in reserve "
                f"(deploy.reserve = {ctx.reserve}); `mlarena-sync push --deploy` may spend them "
                f"({_slot(limits)})",
                wait_until=limits.next_available_at,
                blocker="reserve",
            )
    interval = _interval(ctx)
    if interval is not None:
        return interval
    if ctx.changed:
        return DeployDecision(deploy=True, reason="files changed and passed the checks")
    if ctx.pending:
        return DeployDecision(deploy=True, reason=f"{PENDING}, passed the checks")
    return DeployDecision(deploy=True, reason="deploy requested (--deploy)")


def _interval(ctx: DeployContext) -> DeployDecision | None:
    """``watch``'s ``min_interval`` rule. A recorded time in the future (a clock set back, a
    hand-edited state) counts as now: it never holds deploys longer than one interval."""
    if ctx.caller != "watch" or ctx.last_auto_deploy_at is None or ctx.min_interval <= 0:
        return None
    ready = min(ctx.last_auto_deploy_at, ctx.now) + timedelta(seconds=ctx.min_interval)
    if ctx.now >= ready:
        return None
    wait = (ready - ctx.now).total_seconds()
    return DeployDecision(
        deploy=False,
        reason=f"last automatic deploy was less than {ctx.min_interval:g}s ago; "
        f"next one in {wait:.0f}s",
        wait_until=ready,
        blocker="interval",
    )


def evaluate(
    ctx: DeployContext,
    *,
    read_limits: Callable[[], DeployLimits | None] | None = None,
    run_check: Callable[[], bool] | None = None,
    now: Callable[[], datetime] | None = None,
) -> DeployDecision:
    """The one deploy decision of ``plan``, ``push`` and ``watch``: :func:`decide` on what is
    known, then the facts that cost something, each only while the answer can still be yes.

    The quota is read (one request) only when the rules would deploy without it, and the local
    check (seconds, maybe minutes) runs only when the quota allows a deploy too, so a used-up
    quota never costs a check run. ``plan`` passes no ``run_check``: it never runs it.
    """
    decision = decide(ctx)
    if not decision.deploy:
        return decision
    if ctx.limits is None and read_limits is not None:
        ctx = replace(ctx, limits=read_limits())
        decision = decide(ctx)
        if not decision.deploy:
            return decision
    if run_check is None:
        return decision
    ok = run_check()
    return decide(replace(ctx, now=now() if now else ctx.now, check_ok=ok))
