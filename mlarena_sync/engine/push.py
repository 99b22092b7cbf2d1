"""A push: one reconcile, then a deploy when the rules allow it (``mlarena-sync push``).

1. reconcile (bind/create the agent, pin the runtime, upload/delete); a deploy in flight holds
   the changes: push waits for it to settle and reconciles again (``--force`` uploads anyway);
2. the deploy decision (:func:`~.gate.decide`): something changed (or ``--deploy``),
   validation passed, ``deploy.check`` passes, quota left;
3. one deploy request; with ``--wait`` follow it until it settles: exit 6 when it fails.
   ``--wait`` when a deploy is already queued or running (and nothing here asks for another):
   follow that one instead and report how it ended (exit 6 when it failed, 7 on ``--timeout``).

Synced files that take a live agent off the leaderboard with no deploy to follow (quota,
``--no-deploy``, a failing check or validation) are said in one warning, ``agent_left_active``
(the event ``watch`` says it with). Ctrl-C raises :class:`PushInterrupted`: whether a deploy
was requested (and which), for the CLI to say in words.

Exit codes: 0 done (also "nothing to do"), 3 conflict / delete limit, 5 deploy refused (quota,
failed validation or check; the files *were* synced), 6 deploy failed (``--wait``).

Synced files that were not deployed (check, validation, quota, ``--no-deploy``, a kill) leave a
pending deploy in the journal: the next push deploys it once the rules allow; only an accepted
deploy clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, DeployOutcome
from mlarena_sync.engine import shared_events
from mlarena_sync.engine.deploy import (
    follow,
    record_deploy,
    request_deploy,
    run_check,
    settle_request,
)
from mlarena_sync.engine.gate import DeployContext, DeployDecision, evaluate, not_live, pending_hint
from mlarena_sync.engine.history import DeployEntry
from mlarena_sync.engine.push_outcome import (
    deployed,
    not_deployed,
    say_off_leaderboard,
    waited,
)
from mlarena_sync.engine.reconcile import ReconcileOptions, Reconciler, ReconcileResult
from mlarena_sync.engine.status_lines import StatusEvent
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import MlarenaSyncError, QuotaError

__all__ = ["PushInterrupted", "PushOptions", "push"]

POLL_SECONDS = 1.0
#: How many deploys in flight push waits out before giving up (someone keeps deploying).
MAX_HOLDS = 3


@dataclass(frozen=True)
class PushOptions:
    deploy: bool = True  # False: --no-deploy
    force_deploy: bool = False  # --deploy
    force: bool = False
    wait: bool = False
    timeout: float = 900.0
    poll: float = POLL_SECONDS


class PushInterrupted(KeyboardInterrupt):
    """Ctrl-C during a push, with what the push knows about a deploy then: ``message`` and
    ``hint`` say it for a person (the CLI prints them, exit 130)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


_FOLLOW_HINT = "follow it: `mlarena-sync logs --follow`"


class _Stage:
    """Where a push is, for the words of a Ctrl-C (:class:`PushInterrupted`)."""

    def __init__(self) -> None:
        self.agent_id: int | None = None
        self.requesting = False  # the deploy request is on its way: taken or not is unknown
        self.requested = False
        self.deployment_id: int | None = None
        self.waiting_for_other = False  # following a deploy in flight this push did not request
        self.held = False  # waiting for a deploy in flight before syncing

    def interrupted(self) -> KeyboardInterrupt:
        aid = self.agent_id
        if self.requested:
            what = (
                f"deployment {self.deployment_id}"
                if self.deployment_id is not None
                else f"the deploy of agent {aid}"
            )
            return PushInterrupted(f"interrupted; {what} continues on the server", _FOLLOW_HINT)
        if self.requesting:
            return PushInterrupted(
                "interrupted while the deploy request was on its way: the server may have taken it",
                "`mlarena-sync status` says whether; the next push never deploys twice",
            )
        if self.held:
            return PushInterrupted(
                f"interrupted before syncing; the deploy in flight on agent {aid} continues "
                "on the server",
                "`mlarena-sync push` syncs your changes once it settles",
            )
        if self.waiting_for_other:
            return PushInterrupted(
                f"interrupted; the deploy in flight on agent {aid} continues on the server",
                _FOLLOW_HINT,
            )
        return PushInterrupted(
            "interrupted; no deploy was requested",
            "the next `mlarena-sync push` finishes the job",
        )


def _synced(result: ReconcileResult) -> str:
    return shared_events.synced_text(result)


class StatusSink:
    """Status lines (from :func:`follow`) of agent ``aid`` as output events."""

    def __init__(self, ws: Workspace, aid: int) -> None:
        self.ws = ws
        self.aid = aid

    def __call__(self, event: StatusEvent) -> None:
        self.ws.out.emit(event.event, level="result", **shared_events.status_line(event, self.aid))


def _wait_settled(ws: Workspace, client: Arena, aid: int, opts: PushOptions) -> AgentStatus:
    ws.out.emit(
        "waiting_for_deploy",
        agent_id=aid,
        text=f"a deploy is already queued or running on agent {aid}; waiting for it to settle",
    )
    return follow(
        client,
        ws.target.competition,
        aid,
        StatusSink(ws, aid),
        clock=ws.clock,
        poll=opts.poll,
        timeout=opts.timeout,
    )


def _decide(
    ws: Workspace,
    client: Arena,
    result: ReconcileResult,
    opts: PushOptions,
    pending: bool,
) -> DeployDecision:
    aid = result.agent_id
    assert aid is not None
    return evaluate(
        DeployContext(
            caller="push",
            now=ws.clock.now(),
            changed=result.changed,
            pending=pending,
            forced=opts.force_deploy,
            enabled=opts.deploy,
            in_flight=result.agent_status.in_flight,
            not_live=not_live(result.agent_status) if result.agent_id else None,
            validation_ok=result.validation_ok,
            validation_message=result.validation_message,
        ),
        read_limits=lambda: client.deploy_status(ws.target.competition, aid).limits,
        run_check=(lambda: _run_check(ws, result)) if ws.target.deploy.check else None,
        now=ws.clock.now,
    )


def _run_check(ws: Workspace, result: ReconcileResult) -> bool:
    """``deploy.check`` in the mirrored folder; its output and verdict as events."""
    check = ws.target.deploy.check
    ws.out.emit("check_started", command=check)
    res = run_check(
        check,
        ws.target.files.root,
        ws.target.deploy.check_timeout,
        hide_env=(ws.target.api_key_env,),
    )
    if res.output.strip():
        ws.out.emit("check_output", output=res.output.rstrip(), returncode=res.returncode)
    if res.ok:
        ws.out.emit("check_passed", command=check)
    else:  # off the leaderboard: said once by agent_left_active after the decision
        off = not_live(result.agent_status)
        text = f"`{check}` failed: no deploy"
        fields = shared_events.check_failed(check, res, off_leaderboard=off is not None, text=text)
        ws.out.emit("check_failed", level="warning", **fields)
    return res.ok


def push(ws: Workspace, opts: PushOptions) -> int:
    """One push; the exit code (errors are raised for the CLI to map). Ctrl-C raises
    :class:`PushInterrupted` saying whether a deploy was requested."""
    stage = _Stage()
    try:
        return _push(ws, opts, stage)
    except PushInterrupted:
        raise
    except KeyboardInterrupt:
        raise stage.interrupted() from None


def _push(ws: Workspace, opts: PushOptions, stage: _Stage) -> int:
    with ws.client() as client:
        rec = ws.reconciler(client)
        _settle_earlier_request(ws, client, rec)
        result = _reconcile_when_free(ws, client, rec, opts, stage)
        aid = result.agent_id
        assert aid is not None
        stage.agent_id = aid
        synced = _synced(result)
        _report_synced(ws, result)
        # Files an earlier push synced and did not deploy (killed, refused, --no-deploy) left
        # this flag: they count as this push's changes, so they get deployed once.
        decision = _decide(ws, client, result, opts, rec.journal.deploy_pending())
        if decision.blocker == "in_flight" and opts.wait:
            # --wait: the deploy in flight is the one to wait for; then decide again (edits
            # uploaded anyway with --force, or a pending deploy, get their own deploy)
            stage.waiting_for_other = True
            final = _wait_settled(ws, client, aid, opts)
            stage.waiting_for_other = False
            result = replace(result, agent_status=final)
            decision = _decide(ws, client, result, opts, rec.journal.deploy_pending())
            if not decision.deploy and decision.blocker == "unchanged":
                return waited(ws, aid, synced, final, decision)
        if not decision.deploy:
            say_off_leaderboard(ws, result, decision)
            return not_deployed(ws, result, decision, synced, rec.journal)
        stage.requesting = True
        outcome = _request(ws, client, aid, synced, rec)
        stage.requesting, stage.requested = False, True
        stage.deployment_id = outcome.deployment_id
        rec.journal.set_deploy_pending(False)
        ws.out.emit(
            "deploy_requested", **shared_events.deploy_requested(aid, outcome, decision.reason)
        )
        if not opts.wait:
            ws.out.emit(
                "push_done",
                level="result",
                text=f"pushed to agent {aid}: {synced}; deploy requested"
                + (f" (deployment {outcome.deployment_id})" if outcome.deployment_id else ""),
                agent_id=aid,
                deployed=True,
                deployment_id=outcome.deployment_id,
            )
            return 0
        final = follow(
            client,
            ws.target.competition,
            aid,
            StatusSink(ws, aid),
            clock=ws.clock,
            poll=opts.poll,
            timeout=opts.timeout,
            wait_for_start=10.0,
        )
    return deployed(ws, aid, synced, final)


def _reconcile_when_free(
    ws: Workspace, client: Arena, rec: Reconciler, opts: PushOptions, stage: _Stage
) -> ReconcileResult:
    """Reconcile; while a deploy in flight holds the changes, wait for it and reconcile again
    (at most :data:`MAX_HOLDS` times: someone keeps deploying)."""
    options = ReconcileOptions(
        force=opts.force,
        hold_while_deploying=not opts.force,
        mark_deploy_pending=True,
        verify_all=ws.target.sync.mode == "replica",
    )
    result = rec.reconcile(options)
    waited = 0
    while result.held and result.agent_id is not None:
        if waited >= MAX_HOLDS:
            raise MlarenaSyncError(
                f"deploys keep starting on agent {result.agent_id}; {result.held} change(s) "
                "not synced",
                hint="stop the other mlarena-sync (watch?) or pass --force",
            )
        ws.out.emit(
            "held",
            **shared_events.held(
                result, f"{result.held} change(s) held while a deploy is in flight"
            ),
        )
        stage.agent_id, stage.held = result.agent_id, True
        _wait_settled(ws, client, result.agent_id, opts)
        stage.held = False
        waited += 1
        result = rec.reconcile(options)
    return result


def _report_synced(ws: Workspace, result: ReconcileResult) -> None:
    ws.out.emit("synced", **shared_events.synced(result))
    for name in result.plan.remote_changes:
        ws.out.emit(
            "remote_changed",
            level="warning",
            **shared_events.remote_changed(
                name,
                "edited",
                f"{name} changed on the server: left in place; `mlarena-sync pull` takes it",
            ),
        )
    if not result.validation_ok:
        ws.out.emit(
            "validation_failed",
            level="warning",
            status=result.agent_status.status,
            message=result.validation_message,
        )


def _settle_earlier_request(ws: Workspace, client: Arena, rec: Reconciler) -> None:
    """A deploy request an earlier run sent and never saw answered (killed, reply lost): the
    server's deploy ids say whether it was taken; if so, its pending deploy is not made again."""
    if rec.journal.deploy_request() is None:
        return
    with rec.locked():
        taken = settle_request(client, ws.target.competition, rec.journal)
    if taken is not None:
        ws.out.emit("deploy_request_settled", **shared_events.request_settled(taken))


def _request(ws: Workspace, client: Arena, aid: int, synced: str, rec: Reconciler) -> DeployOutcome:
    """One deploy request (never retried), recorded; a quota refusal says the files were synced."""
    entry = DeployEntry(
        ws.store,
        ws.target,
        ws.key,
        agent_id=aid,
        caller="push",
        sink=ws.out,
        now=ws.clock.now,
        rec=rec,
    )
    try:
        outcome = request_deploy(
            client, ws.target.competition, aid, rec.journal, now=ws.clock.now(), hook=entry
        )
    except QuotaError as exc:
        when = exc.next_available_at
        slot = f"; next slot at {when.isoformat(timespec='seconds')}" if when else ""
        raise QuotaError(
            f"deploy refused by the server: {exc.message}{slot}; files were synced ({synced})",
            status_code=exc.status_code,
            hint=pending_hint(when, ws.clock.now()),
            next_available_at=when,
        ) from None
    record_deploy(ws.store, ws.key, ws.clock.now())
    entry.taken(outcome)
    return outcome
