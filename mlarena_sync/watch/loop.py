"""The ``watch`` loop: file events → debouncer → reconcile → deploy when edits settle.

Level-triggered: events only say *when* to look. Every batch runs the same full reconcile as
``push`` (``skip_conflicts``, ``hold_while_deploying``), so a missed event never loses a change,
and a periodic rescan (``watch.rescan``) catches what the OS did not report.

One thread does everything (the change source's threads only queue events). Idle, it blocks
until the next real deadline (the debouncer's quiet window, the rescan, a deploy timer, a
retry) or an event: no polling. A stop request (Ctrl-C, SIGTERM, :meth:`Watcher.stop`, the
:attr:`Watcher.stop_event` being set, ``max_duration``) wakes it at once (a small relay thread
waits on the event), or as soon as the HTTP call in progress returns. Only a wait for a
wall-clock time (the next deploy slot) is re-checked every :attr:`WatchOptions.max_wait_step`
seconds, so that a clock change is followed.

The periodic rescan is local-first: after a clean reconcile the folder is compared, by ``stat``
only, with what that reconcile saw (:class:`mlarena_sync.watch.source.LocalSnapshot`); the server is
contacted (a full reconcile: listing + status) only when something differs, when the last
reconcile left something unsynced (conflicts, held edits, paused deletes, an error), or when
:attr:`WatchOptions.remote_every` seconds have passed since the last one (remote-side changes).

* Deploys (:mod:`mlarena_sync.watch.scheduler`): once the synced edits have settled for
  ``deploy.settle`` seconds, ``deploy.check`` passes and :func:`mlarena_sync.engine.gate.decide`
  allows it (reserve, ``min_interval``, quota: a used-up quota waits for the next slot, then
  deploys the latest state once).
* While a deploy is queued or running, the reconcile holds the edits ("N edits held while deploy
  runs"); when the deploy settles they are synced and one redeploy follows (coalesced). Status
  lines stream meanwhile, each once.
* Outages (:class:`TransportError`/:class:`ServerError`): one line when the connection is lost,
  capped exponential backoff while the edits pile up locally, one line when it is back, then a
  full reconcile. :class:`AuthError` and other fatal errors propagate (the CLI maps exit codes).
* Conflicts pause the conflicted files with one warning each; the rest keeps syncing. So do
  deletes over ``sync.max_delete`` (one warning naming the limit and ``push --force``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config.model import Target
from mlarena_sync.engine import shared_events
from mlarena_sync.engine.deploy import CheckResult, run_check
from mlarena_sync.engine.reconcile import ReconcileOptions, Reconciler
from mlarena_sync.errors import (
    ApiError,
    ClientError,
    ConfigError,
    MaintenanceError,
    ServerError,
    TransportError,
)
from mlarena_sync.events import EventSink
from mlarena_sync.local.scan import is_own_output, own_outputs
from mlarena_sync.watch.banner import banner_facts
from mlarena_sync.watch.debounce import Backoff, Debouncer, stat_probe
from mlarena_sync.watch.live import LiveGuard
from mlarena_sync.watch.notices import PlanNotices
from mlarena_sync.watch.options import WatchOptions
from mlarena_sync.watch.scheduler import DeployScheduler
from mlarena_sync.watch.source import ChangeSource, LocalSnapshot

__all__ = ["WatchOptions", "WatchStats", "Watcher"]

log = structlog.get_logger("mlarena_sync.watch.loop")

WATCH_RECONCILE = ReconcileOptions(
    skip_conflicts=True, hold_while_deploying=True, over_delete_cap="skip_deletes"
)


def edits(n: int) -> str:
    """``1 edit``, ``2 edits``."""
    return f"{n} edit" + ("" if n == 1 else "s")


@dataclass
class WatchStats:
    reconciles: int = 0  # reconciles run (held ones included)
    syncs: int = 0  # reconciles that uploaded or deleted something
    deploys: int = 0  # deploy requests sent
    held: int = 0  # reconciles that held edits for a deploy in flight


class Watcher:
    """One ``watch`` session over a bound :class:`Reconciler` (which it keeps locked)."""

    def __init__(
        self,
        target: Target,
        reconciler: Reconciler,
        *,
        source: ChangeSource,
        sink: EventSink,
        clock: Clock = SYSTEM_CLOCK,
        stop: threading.Event | None = None,
        options: WatchOptions | None = None,
        check: Callable[[str | None, Any, float], CheckResult] = run_check,
    ) -> None:
        self.target = target
        self.rec = reconciler
        self.source = source
        self.sink = sink
        self.clock = clock
        self.stop_event = stop or threading.Event()
        self.options = options or WatchOptions()
        self.stats = WatchStats()
        root = target.files.root
        self.debouncer = Debouncer(
            target.watch.quiet, target.watch.max_wait, clock, probe=stat_probe(root)
        )
        self.backoff = Backoff(self.options.backoff_base, self.options.backoff_cap)
        self.deploys = DeployScheduler(
            target, reconciler, sink=sink, clock=clock, options=self.options, check=check
        )
        self.need_sync = True  # the first thing a watch does: a full reconcile
        self.agent_id: int | None = None
        self.last_activity = clock.monotonic()
        self._held_shown = 0
        self.held_pending = False
        self._offline = False
        self._retry_at = 0.0
        self._warned: set[str] = set()
        self.notices = PlanNotices(sink, target.sync.max_delete, self.warn_once)
        self.live = LiveGuard(target, self.deploys, clock, self.warn_once, self.options.quota_retry)
        rescan = target.watch.rescan
        self._rescan = rescan if rescan > 0 else None
        self._next_rescan = clock.monotonic() + (self._rescan or 0.0)
        self._snapshot: LocalSnapshot | None = None  # what the last clean reconcile saw
        self._remote_due = 0.0  # monotonic: when a rescan must contact the server again
        remote = target.watch.remote_every  # watch.remote_every: a look at the server (0: off)
        self._remote_every = remote if remote > 0 else None
        self._next_remote = clock.monotonic() + (remote or 0.0)
        self.rescans_local = 0  # rescans that found nothing locally and skipped the server
        self.borrowers: Callable[[], int] = lambda: 0  # serves the commands waiting for the folder

    @property
    def held_unsynced(self) -> int:
        """Edits held for a deploy in flight and not synced since (0 when none)."""
        return self._held_shown if self.held_pending else 0

    # ---------------------------------------------------------------- control
    def stop(self) -> None:
        """Ask the loop to end (thread- and signal-safe)."""
        self.stop_event.set()
        self.source.wake()

    def run(self) -> None:
        """Watch until stopped; raises only fatal errors (auth, state, ...)."""
        start = self.clock.monotonic()
        limit = self.options.max_duration
        deadline = start + limit if limit is not None else None
        self.sink.emit(
            "watching",
            root=str(self.target.files.root),
            **banner_facts(self.rec),
            text=f"watching {self.target.files.root} (Ctrl-C stops)",
        )
        relay = threading.Thread(target=self._relay_stop, name="mlarena-watch-stop", daemon=True)
        relay.start()
        try:
            self._loop(deadline)
        finally:
            self.stop_event.set()  # the loop is over, whatever ended it: the relay ends too
            relay.join()

    def _relay_stop(self) -> None:
        """Wake the blocked loop when :attr:`stop_event` is set from outside (no polling)."""
        self.stop_event.wait()
        self.source.wake()

    def _loop(self, deadline: float | None) -> None:
        while not self.stop_event.is_set():
            now = self.clock.monotonic()
            if deadline is not None and now >= deadline:
                break
            if self.borrowers():  # a command ran on the folder meanwhile: look again
                self.need_sync = True
                self.deploys.resume()
            self.step()
            if self.stop_event.is_set():
                break
            wait = self._next_wake() - self.clock.monotonic()
            if deadline is not None:
                wait = min(wait, deadline - self.clock.monotonic())
            changed = self._not_own(self.source.get(max(0.0, wait)))
            if changed is not None:
                self.debouncer.add(changed)
                self.last_activity = self.clock.monotonic()

    def _not_own(self, changed: set[str] | None) -> set[str] | None:
        """``changed`` without the files this process writes (its output, never synced): a
        line it logs is no edit, or ``watch -v > watch.log`` would reconcile forever."""
        outputs = own_outputs()
        if not changed or not outputs:
            return changed
        root = self.target.files.root
        return {rel for rel in changed if not is_own_output(root / rel, outputs)} or None

    def _next_wake(self) -> float:
        now = self.clock.monotonic()
        times = [now + self.options.idle_wait]
        if self.deploys.wanted and self.deploys.not_before_wall is not None:
            times.append(now + self.options.max_wait_step)  # a wall-clock time: re-read it
        due = self.debouncer.deadline()
        if due is not None:
            times.append(due)
        if self._offline:
            times.append(self._retry_at)
        elif self.need_sync:
            times.append(now)
        if self._rescan is not None:
            times.append(self._next_rescan)
        if self._remote_every is not None:
            times.append(self._next_remote)
        if self.live.retry_at is not None:
            times.append(self.live.retry_at)
        wake = self.deploys.next_wake(self.last_activity)
        if wake is not None:
            times.append(wake)
        return min(times)

    # ---------------------------------------------------------------- one step
    def step(self) -> None:
        now = self.clock.monotonic()
        if self.debouncer.ready():
            self.debouncer.take()
            self.need_sync = True
        if self._rescan is not None and now >= self._next_rescan:
            self._next_rescan = now + self._rescan
            if not self._offline:
                self.source.resync()
                self._rescan_due(now)
        if self._remote_every is not None and now >= self._next_remote and not self._offline:
            self.need_sync = True  # the server is due a look: browser edits, its status
            self._next_remote = now + self._remote_every
        if self._offline and now < self._retry_at:
            return
        try:
            if self._offline:
                self._probe()
            settled = self.deploys.poll_if_due(self.agent_id)
            if settled:
                self.notices.note_status(self.deploys.last_status, self.agent_id)
            if settled and (self.held_pending or self.debouncer.pending):
                self.need_sync = True  # the edits held meanwhile: sync them, then one redeploy
            if self.live.due():
                self.need_sync = True  # sync.live: keep, the edits held: may a deploy follow now?
            if self.need_sync and self.live.hold(self.agent_id, self.notices.status):
                self.need_sync = False
            if self.need_sync:
                self._sync()
            if self.deploys.deploy_if_due(
                self.agent_id,
                last_activity=self.last_activity,
                busy=self.need_sync or self.debouncer.pending,
            ):
                self.stats.deploys += 1
        except (TransportError, ServerError) as exc:
            self._lost(exc)

    def _rescan_due(self, now: float) -> None:
        """The periodic rescan: a full reconcile only when the folder may differ from what the
        last clean one saw, or when the server is due a look (see the module docstring)."""
        snap = self._snapshot
        if snap is not None and now < self._remote_due and snap.unchanged():
            self.rescans_local += 1
            log.debug("rescan_unchanged")
            return
        self.need_sync = True

    # ---------------------------------------------------------------- outages
    def _lost(self, exc: ApiError) -> None:
        if not self._offline and isinstance(exc, MaintenanceError):
            self._offline = True
            self.sink.emit(
                "maintenance",
                level="warning",
                server=self.target.server,
                reason=exc.admin_message or exc.message,
                text=f"{self.target.server} is in maintenance ({exc.admin_message or exc.message})"
                "; waiting it out, edits are kept and synced when it is back",
            )
        elif not self._offline:
            self._offline = True
            self.sink.emit(
                "connection_lost",
                level="warning",
                server=self.target.server,
                reason=exc.message,
                text=f"lost the connection to {self.target.server} ({exc.message}); retrying, "
                "edits are kept and synced when it is back",
            )
        delay = self.backoff.next_delay()
        self._retry_at = self.clock.monotonic() + delay
        self.need_sync = True
        log.debug("retry_scheduled", seconds=delay)

    def _probe(self) -> None:
        """While offline: one cheap request; when it answers, say so, then reconcile."""
        if self.agent_id is not None:
            self.rec.client.status(self.target.competition, self.agent_id)
        else:
            self.rec.client.competition(self.target.competition)
        self._offline = False
        self.backoff.reset()
        self.need_sync = True
        self.sink.emit(
            "connection_restored",
            server=self.target.server,
            text=f"connection to {self.target.server} is back; syncing the edits made meanwhile",
        )

    # ---------------------------------------------------------------- reconcile
    def warn_once(self, key: str, event: str, **fields: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.sink.emit(event, level="warning", **fields)

    def _sync(self) -> None:
        self.need_sync = False
        self.stats.reconciles += 1
        self._snapshot = None
        before = LocalSnapshot.take(self.rec.selector)  # before the scan: a change after it shows
        started = self.clock.monotonic()
        try:
            result = self.rec.reconcile(WATCH_RECONCILE)
        except ConfigError as exc:
            # Local files that cannot be synced as they are (SelectionError, ...): nothing was
            # applied; say it once and wait for the next edit.
            self.warn_once(f"blocked:{exc}", "sync_blocked", message=str(exc))
            return
        except (ClientError, OSError) as exc:  # refused as sent, or a local file error: say it
            self.warn_once(f"api:{exc}", "sync_failed", message=str(exc))
            return
        self._warned = {k for k in self._warned if not k.startswith(("blocked:", "api:"))}
        self.agent_id = result.agent_id
        self._remote_due = started + self.options.remote_every
        self._next_remote = started + (self._remote_every or 0.0)
        self.notices.note_status(result.agent_status.status, result.agent_id)
        if not (result.held or result.plan.conflicts or result.deletes_skipped):
            self._snapshot = before.with_files(result.local.values())
        self.notices.report_plan(result)
        if result.held:
            self.stats.held += 1
            self.held_pending = True
            if result.held != self._held_shown:
                self._held_shown = result.held
                self.sink.emit(
                    "held",
                    **shared_events.held(result, f"{edits(result.held)} held while deploy runs"),
                )
            self.deploys.in_flight_seen(result.agent_status, result.agent_id)
            return
        self.held_pending = False
        self._held_shown = 0
        self.notices.note_churn(result)
        if result.changed:
            self.stats.syncs += 1
            self.last_activity = self.clock.monotonic()
            self.sink.emit("synced", **shared_events.synced(result))
            if not result.validation_ok:
                self.sink.emit(
                    "validation_failed",
                    level="warning",
                    status=result.agent_status.status,
                    message=result.validation_message,
                )
            self.deploys.changes_synced(result)
        if result.agent_status.in_flight:
            self.deploys.in_flight_seen(result.agent_status, result.agent_id)
