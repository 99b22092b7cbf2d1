"""Deploy scheduling of ``watch``: when to deploy, and following a deploy in flight.

Owned by :class:`mlarena_sync.watch.loop.Watcher`, which hands it what it needs per call (the
agent id, the time of the last edit, whether edits are waiting); it holds no reference back to
the loop. The decision itself is the engine's one deploy gate
(:func:`mlarena_sync.engine.gate.evaluate`). The rules:

* a deploy is *wanted* once a reconcile changed something; it is sent when no edit is pending,
  the last change is ``deploy.settle`` seconds old, ``deploy.check`` passes and
  :func:`mlarena_sync.engine.gate.decide` allows it (``deploy.auto``, reserve, ``min_interval``,
  quota). Wanted is a flag, not a count: any number of edits make one deploy (coalesced);
* quota or reserve used up, or ``min_interval`` not over → wait until the time the decision
  names (the next slot), then decide again on the latest state: one deploy;
* failed validation or check → no deploy until the next change;
* while a deploy is queued or running, the agent status is polled every ``poll`` seconds and
  each new status line (transition, queue position, run, reward, error) shown once; when it
  settles, edits held meanwhile are synced, which wants one redeploy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mlarena_sync.api.models import AgentStatus, DeployOutcome
from mlarena_sync.clock import Clock
from mlarena_sync.config.model import Target
from mlarena_sync.engine import shared_events
from mlarena_sync.engine.deploy import (
    CheckResult,
    record_deploy,
    request_deploy,
    settle_request,
)
from mlarena_sync.engine.gate import DeployContext, DeployDecision, evaluate
from mlarena_sync.engine.history import DeployEntry, learn_settled
from mlarena_sync.engine.reconcile import Reconciler, ReconcileResult
from mlarena_sync.engine.status_lines import FAILED_STATUSES, StatusTracker
from mlarena_sync.errors import MlarenaSyncError, QuotaError, ServerError, TransportError
from mlarena_sync.events import EventSink
from mlarena_sync.watch.options import WatchOptions

__all__ = ["DeployScheduler"]


class DeployScheduler:
    def __init__(
        self,
        target: Target,
        rec: Reconciler,
        *,
        sink: EventSink,
        clock: Clock,
        options: WatchOptions,
        check: Callable[[str | None, Any, float], CheckResult],
    ) -> None:
        self.target = target
        self.rec = rec
        self.sink = sink
        self.clock = clock
        self.options = options
        self._check = check
        spec = target.deploy
        self.spec = spec
        # A deploy owed by an earlier run (a push or a watch stopped before deploying): once the
        # first reconcile binds the agent, it deploys as a change would.
        self.wanted = spec.auto and rec.journal.deploy_pending()
        self.synced = False  # this session synced changes (they want a deploy of their own)
        self.not_before = 0.0  # monotonic: wait after a refusal without a time
        self.not_before_wall: datetime | None = None  # the next deploy slot (quota, reserve, ...)
        self.validation_ok = True
        self.validation_message: str | None = None
        self.in_flight = False
        self.last_status: str | None = None  # the agent's status at the last poll
        self.synced_status: str | None = None  # the agent's status after this session's sync
        self._seen_flight = False
        self._flight_start = 0.0
        self._next_poll = 0.0
        self._tracker = StatusTracker()
        self._last_block: tuple[str | None, datetime | None] | None = None
        self.last_auto_deploy_at: datetime | None = rec.store.load(rec.key).last_deploy_at
        if not spec.auto:
            sink.emit(
                "deploy_off", text="deploy.auto is false: watch syncs files and never deploys"
            )

    # ---------------------------------------------------------------- inputs
    def changes_synced(self, result: ReconcileResult) -> None:
        self.validation_ok = result.validation_ok
        self.validation_message = result.validation_message
        self.synced_status = result.agent_status.status
        if self.spec.auto:
            self.wanted = True
            self.synced = True
            # Journaled before the settle delay: a watch stopped or killed before its deploy
            # leaves the deploy pending for the next push or watch (an accepted deploy clears it).
            self.rec.journal.set_deploy_pending(True, at=self.clock.now())

    def resume(self) -> None:
        """The folder is back from a command run beside the watch: whether a deploy is owed is
        the journal's (a ``push`` deployed, or synced without deploying)."""
        self.wanted = self.spec.auto and self.rec.journal.deploy_pending()

    def in_flight_seen(self, status: AgentStatus, agent_id: int | None) -> None:
        """A reconcile found a deploy queued or running (ours, or one started elsewhere)."""
        if not self.in_flight:
            self._start_flight(seen=True)
        self._show(status, agent_id)

    def _show(self, status: AgentStatus, agent_id: int | None) -> None:
        for event in self._tracker.update(status):
            self.sink.emit(
                event.event, level="result", **shared_events.status_line(event, agent_id)
            )

    def _start_flight(self, *, seen: bool) -> None:
        self._tracker = StatusTracker()  # each deploy's lines from its start, each once
        self.in_flight = True
        self._seen_flight = seen
        self._flight_start = self.clock.monotonic()
        self._next_poll = self._flight_start + self.options.poll

    # ---------------------------------------------------------------- timing
    def _due_at(self, last_activity: float) -> float | None:
        if not self.wanted or self.in_flight:
            return None
        due = max(last_activity + self.spec.settle, self.not_before)
        if self.not_before_wall is not None:  # re-read each time: follows the wall clock
            left = (self.not_before_wall - self.clock.now()).total_seconds()
            due = max(due, self.clock.monotonic() + max(left, 0.0))
        return due

    def next_wake(self, last_activity: float) -> float | None:
        """When the loop must call again (a status poll, or a deploy coming due)."""
        if self.in_flight:
            return self._next_poll
        return self._due_at(last_activity)

    # ---------------------------------------------------------------- polling
    def poll_if_due(self, agent_id: int | None) -> bool:
        """Poll a deploy in flight when due; True when it has just settled (edits held
        meanwhile are then for the loop to sync, which wants one redeploy)."""
        if not self.in_flight or agent_id is None:
            return False
        now = self.clock.monotonic()
        if now < self._next_poll:
            return False
        snap = self.rec.client.status(self.target.competition, agent_id)
        self.last_status = snap.status
        self._show(snap, agent_id)
        self._seen_flight = self._seen_flight or snap.in_flight
        grace_over = now - self._flight_start >= self.options.start_grace
        if snap.settled and (self._seen_flight or grace_over):
            self.in_flight = False
            learn_settled(self.rec, agent_id, snap, now=self.clock.now(), sink=self.sink)
            if snap.status in FAILED_STATUSES:
                self.sink.emit(
                    "deploy_failed",
                    level="warning",
                    status=snap.status,
                    text=f"the deploy ended {snap.status}; fix and save to try again",
                )
            return True
        self._next_poll = now + self.options.poll
        return False

    # ---------------------------------------------------------------- deploying
    def deploy_if_due(self, agent_id: int | None, *, last_activity: float, busy: bool) -> bool:
        """Deploy when due and the gate allows it; True when a deploy was requested. ``busy``:
        edits are waiting to be synced (never deploy a state about to change)."""
        due = self._due_at(last_activity)
        if due is None or agent_id is None or busy or self.clock.monotonic() < due:
            return False
        aid, cid = agent_id, self.target.competition
        if self._settled_earlier(cid):
            return False
        decision = evaluate(
            self._context(),
            read_limits=lambda: self.rec.client.deploy_status(cid, aid).limits,
            run_check=self._run_check if self.spec.check else None,
            now=self.clock.now,
        )
        if not decision.deploy:
            self._blocked(decision)
            return False
        outcome = self._request(cid, aid)
        if outcome is None:
            return False
        now = self.clock.now()
        self.last_auto_deploy_at = now
        self.wanted = False
        self.synced = False
        self.synced_status = None  # a deploy follows the edits: the agent is not left off
        self._last_block = None
        self.not_before_wall = None
        record_deploy(self.rec.store, self.rec.key, now)
        self._entry.taken(outcome)
        self.rec.journal.set_deploy_pending(False)  # a push's undeployed sync is deployed now
        self.sink.emit(
            "deploy_requested", **shared_events.deploy_requested(aid, outcome, decision.reason)
        )
        self._start_flight(seen=outcome.accepted and not outcome.timed_out)
        if outcome.agent_status is not None:
            self._show(outcome.agent_status, aid)
        elif outcome.accepted:  # poll now: the status route's wording, as push shows it
            self._next_poll = self.clock.monotonic()
        return True

    def _request(self, cid: int, aid: int) -> DeployOutcome | None:
        """One deploy request (journaled and in the ledger before it leaves, never retried);
        None when it was not taken."""
        rec = self.rec
        self._entry = DeployEntry(
            rec.store,
            self.target,
            rec.key,
            agent_id=aid,
            caller="watch",
            sink=self.sink,
            now=self.clock.now,
            rec=rec,
        )
        try:
            return request_deploy(
                rec.client, cid, aid, rec.journal, now=self.clock.now(), hook=self._entry
            )
        except QuotaError as exc:
            self._refused(exc, aid)
            return None
        except (TransportError, ServerError):
            raise  # the loop backs off; a journaled request is settled before the next try
        except MlarenaSyncError as exc:  # the reply was lost and no new deploy can be seen
            self.wanted = False
            self.sink.emit("deploy_unknown", level="warning", message=str(exc))
            return None

    def _settled_earlier(self, cid: int) -> bool:
        """Settle a deploy request whose answer was never seen (a killed run, a lost reply with
        unreadable deploys): True when the server took it and no edit of this session waits, so
        nothing is to deploy."""
        taken = settle_request(self.rec.client, cid, self.rec.journal, keep_pending=self.synced)
        if taken is not None:
            self.sink.emit("deploy_request_settled", **shared_events.request_settled(taken))
        if not taken:
            return False
        if self.synced:
            return False
        self.wanted = False
        return True

    def _run_check(self) -> bool:
        res = self._check(self.spec.check, self.target.files.root, self.spec.check_timeout)
        if not res.ok:
            self.sink.emit(
                "check_failed",
                level="warning",
                **shared_events.check_failed(
                    self.spec.check,
                    res,
                    off_leaderboard=self._off_board() != "",
                    text=self._off_board() + f"`{self.spec.check}` failed: no deploy until the "
                    "next change",
                ),
            )
        return res.ok

    def _off_board(self) -> str:
        """Protect the live agent: when a deploy cannot follow an edit this session synced and
        the agent is out of ``active`` (every upload moves it out), the sentence's start."""
        status = self.synced_status
        if status is None or status == "active":
            return ""
        return f"the agent is off the leaderboard (status: {status}) and no deploy follows: "

    def gate_now(self, agent_id: int) -> DeployDecision:
        """The gate's answer for an edit made now (``sync.live: keep`` asks before it syncs)."""
        cid = self.target.competition
        return evaluate(
            self._context(),
            read_limits=lambda: self.rec.client.deploy_status(cid, agent_id).limits,
            run_check=self._run_check if self.spec.check else None,
            now=self.clock.now,
        )

    def _context(self) -> DeployContext:
        now = self.clock.now()
        last = self.last_auto_deploy_at
        if last is not None and last > now:  # a clock set back, a hand-edited state: now, once
            self.last_auto_deploy_at = now
        return DeployContext(
            caller="watch",
            now=now,
            changed=True,
            enabled=self.spec.auto,
            in_flight=self.in_flight,
            validation_ok=self.validation_ok,
            validation_message=self.validation_message,
            reserve=self.spec.reserve,
            last_auto_deploy_at=self.last_auto_deploy_at,
            min_interval=self.spec.min_interval,
        )

    def _wait_until(self, when: datetime | None) -> None:
        if when is None:
            self.not_before = self.clock.monotonic() + self.options.quota_retry
            return
        self.not_before_wall = when

    def _blocked(self, d: DeployDecision) -> None:
        if d.blocker in ("quota", "reserve", "interval"):
            self._wait_until(d.wait_until)
            key = (d.blocker, d.wait_until)
            if key != self._last_block and d.blocker == "interval":
                at = _when(d.wait_until, self.clock.now())
                self.sink.emit(
                    "deploy_waiting",
                    blocker=d.blocker,
                    until=d.wait_until,
                    off_leaderboard=self._off_board() != "",
                    text=f"deploy waits until {at} "
                    f"(deploy.min_interval {self.spec.min_interval:g} s)",
                )
            elif key != self._last_block:
                self.sink.emit(
                    "deploy_waiting",
                    level="warning",
                    blocker=d.blocker,
                    until=d.wait_until,
                    off_leaderboard=self._off_board() != "",
                    text=self._off_board() + d.reason,
                )
            self._last_block = key
            return
        if d.blocker == "in_flight":
            self._start_flight(seen=True)
            return
        self.wanted = False  # disabled, validation, check, unchanged: until the next change
        if d.blocker == "validation":  # a failed check was already reported
            self.sink.emit(
                "deploy_skipped", level="warning", blocker=d.blocker, text=f"no deploy: {d.reason}"
            )

    def _refused(self, exc: QuotaError, agent_id: int) -> None:
        if exc.next_available_at is not None:
            self._wait_until(exc.next_available_at)
            self.sink.emit(
                "deploy_waiting",
                level="warning",
                blocker="quota",
                until=exc.next_available_at,
                off_leaderboard=self._off_board() != "",
                text=self._off_board() + f"deploy refused ({exc.message}); the latest state "
                "deploys at "
                f"{exc.next_available_at.isoformat(timespec='seconds')}",
            )
            return
        snap = self.rec.client.status(self.target.competition, agent_id)
        if snap.in_flight:  # a deploy started elsewhere: redeploy after it
            self.in_flight_seen(snap, agent_id)
            return
        self.wanted = False
        self.sink.emit(
            "deploy_refused", level="warning", message=exc.message, text=f"deploy refused: {exc}"
        )


def _when(at: datetime | None, now: datetime) -> str:
    """A wait's end in local time: the time of day, with the date when it is not today."""
    if at is None:
        return "later"
    local = at.astimezone()
    same_day = local.date() == now.astimezone().date()
    return local.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")
