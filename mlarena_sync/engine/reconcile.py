"""One reconcile: bind the agent, scan, list, plan, apply. Used by ``push``, ``plan``, ``watch``.

Sequence (under the state lock, except for a dry run, which writes nothing and so can run beside
a ``watch``):

1. scan the folder and check every name: all local problems are reported together, before any
   request that changes anything. The competition (its size/count limits) is read only when it
   matters: when the binding may change something (agent creation, runtime pinning), when there
   are other problems to report with them, or once the plan has uploads (step 3);
2. bind the agent (:mod:`~.binding`): ``agent.id`` from the config (verified), else
   the id in the state, else create one named ``agent.name`` (runtime pinned right after);
3. list the remote files and make the plan; the delete cap (unless ``over_delete_cap`` is
   ``"skip_deletes"``: everything but the deletes is applied) and, unless ``skip_conflicts``,
   conflicts stop here with :class:`ConflictError` (nothing applied);
4. a deploy queued or running → apply nothing, report ``held`` (unless ``force``);
5. apply (helpers, deletes, entry last), then read the status once: the validation verdict.

Uploads go through the write-ahead :mod:`~.journal`; what a killed run left there is
settled at step 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import replace

import structlog

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, Competition, RemoteFile
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config.model import Target
from mlarena_sync.engine.advice import conflict_error, delete_cap_error
from mlarena_sync.engine.apply import apply_plan
from mlarena_sync.engine.binding import AgentBinder, competition_of
from mlarena_sync.engine.evidence import prove
from mlarena_sync.engine.plan import TEMPLATE_REASON, Plan, make_plan, relabel_uploads
from mlarena_sync.engine.reads import ParallelReads
from mlarena_sync.engine.results import (
    DEFAULT_OPTIONS,
    RESCANS,
    UNBOUND,
    OverDeleteCap,
    ReconcileOptions,
    ReconcileResult,
    after_rescan,
)
from mlarena_sync.errors import ConfigError, SelectionError, UploadsHeldError
from mlarena_sync.events import EventSink, LogSink, as_callback
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.names import check_names
from mlarena_sync.local.scan import LocalFile, StatCache, scan
from mlarena_sync.store.journal import Journal, recover_pending
from mlarena_sync.store.state import BaseEntry, StateStore, TargetState, target_key

__all__ = ["OverDeleteCap", "ReconcileOptions", "ReconcileResult", "Reconciler"]

log = structlog.get_logger("mlarena_sync.engine.reconcile")


class Reconciler:
    """One target's reconcile loop step; reusable (``watch`` keeps one)."""

    def __init__(
        self,
        target: Target,
        client: Arena,
        store: StateStore,
        *,
        token: str,
        clock: Clock = SYSTEM_CLOCK,
        sink: EventSink | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.store = store
        self.token = token
        self.clock = clock
        self.key = target_key(target)
        self.cid = target.competition
        self._emit = as_callback(sink or LogSink())
        self._locked = False
        self._competition: Competition | None = None
        self._own_said: set[str] = set()  # files this process writes, said once
        self._selector = Selector(target.files, config_path=target.config_path)
        self.journal = Journal(store, self.key)
        self.binder = AgentBinder(target, client, store, self.key, self.journal, self._emit)
        #: The server's files the last reconcile left in place (changed there only): what a
        #: deploy now ships for those names (the deploy ledger records them).
        self.left_in_place: dict[str, RemoteFile] = {}

    # ---------------------------------------------------------------- helpers
    @property
    def selector(self) -> Selector:
        """The selection rules the scans use."""
        return self._selector

    @contextlib.contextmanager
    def locked(self, *, borrow: bool = True) -> Iterator[None]:
        """Hold the state lock (re-entrant within this reconciler; a watch's is borrowed)."""
        if self._locked:
            yield
            return
        with self.store.lock(borrow=borrow):
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    def competition(self) -> Competition:
        if self._competition is None:
            self._competition = competition_of(self.client, self.cid, self.target.server)
        return self._competition

    def scan(self, *, save_cache: bool, limits: bool = True) -> dict[str, LocalFile]:
        """The selection keyed by remote name; every problem at once (:class:`SelectionError`).

        ``limits=False`` checks the competition's size/count limits only when it is already
        known, or when there are other problems (all are reported together); a reconcile then
        checks them with :meth:`check_limits` once its plan has uploads."""
        local, cache = self._scan(limits)
        if save_cache:
            self.store.save_stat_cache(self.target.files.root, cache)
        return local

    def _scan(self, limits: bool) -> tuple[dict[str, LocalFile], StatCache]:
        root = self.target.files.root
        cache = self.store.load_stat_cache(root)
        problems: list[str] = []
        own: list[str] = []
        files = scan(root, self._selector, cache, problems, own)
        for rel in sorted(set(own) - self._own_said):
            self._own_said.add(rel)
            self._emit(
                "own_output_skipped",
                file=rel,
                text=f"{rel}: this process writes its output there; not synced",
            )
        competition = self.competition() if limits else self._competition
        allow = self.target.files.allow
        try:
            local = check_names(files, competition, self.token, allow=allow, problems=problems)
        except SelectionError:
            if competition is not None:
                raise
            # Name problems: report the limits' problems with them, in one error.
            check_names(files, self.competition(), self.token, allow=allow, problems=problems)
            raise
        return local, cache

    def check_limits(self, local: Mapping[str, LocalFile]) -> None:
        """:class:`SelectionError` when ``local`` breaks the competition's limits (read once)."""
        if self._competition is None:
            check_names(
                local.values(), self.competition(), self.token, allow=self.target.files.allow
            )

    # ---------------------------------------------------------------- binding
    def bound_id(self) -> int | None:
        """The agent id without creating anything: config ``agent.id``, else the state's."""
        return self.binder.bound_id()

    def bind(self) -> int:
        """The agent id: from ``agent.id`` (verified), from the state, or a new agent."""
        with self.locked():
            return self.binder.bind(force=False).agent_id

    # ---------------------------------------------------------------- reconcile
    def plan(
        self,
        local: Mapping[str, LocalFile],
        remote: Mapping[str, RemoteFile],
        force: bool,
        base: Mapping[str, BaseEntry] | None = None,
    ) -> Plan:
        """The plan against ``base`` (default: the state's base manifest)."""
        sync = self.target.sync
        return make_plan(
            local,
            remote,
            self.store.load(self.key).files if base is None else base,
            mode=sync.mode,
            delete=sync.delete,
            max_delete=sync.max_delete,
            force=force,
            entry=self.target.entry,
            verifiable_binaries=self.client.capabilities.download_bytes,
        )

    def _proven(
        self,
        local: Mapping[str, LocalFile],
        remote: Mapping[str, RemoteFile],
        base: Mapping[str, BaseEntry],
        aid: int,
        options: ReconcileOptions,
    ) -> dict[str, RemoteFile]:
        """``remote`` with the hashes the plan's verdict hangs on read back (v4.6 lists none)."""
        sync = self.target.sync
        return prove(
            self.client,
            self.cid,
            aid,
            local,
            remote,
            base,
            overwrite=options.force or sync.mode == "replica",
            delete=sync.delete,
            verify_all=options.verify_all,
        )

    def reconcile(self, options: ReconcileOptions = DEFAULT_OPTIONS) -> ReconcileResult:
        if options.dry_run:
            return self._dry_run(options)
        with self.locked():
            result = self._reconcile(options)
            for _ in range(RESCANS):
                if result.vanished:  # files deleted after the scan were skipped: rescan
                    result = after_rescan(result, self._reconcile(options))
            return result

    def _dry_run(self, options: ReconcileOptions) -> ReconcileResult:
        local = self.scan(save_cache=False, limits=False)
        aid = self.bound_id()
        if aid is None:
            plan = self.plan(local, {}, options.force, base={})
            if plan.uploads:
                self.check_limits(local)
            return ReconcileResult(plan=plan, agent_status=UNBOUND, local=local)
        status = self.binder.check(aid, "bound")
        base = self.store.load(self.key).files
        remote = self._proven(local, self.client.list_files(self.cid, aid), base, aid, options)
        plan = self.plan(local, remote, options.force, base=base)
        if plan.uploads:
            self.check_limits(local)
        ok = status.status != "upload_failed"
        return ReconcileResult(
            plan=plan,
            agent_status=status,
            validation_ok=ok,
            agent_id=aid,
            validation_message=None if ok else status.message,
            local=local,
        )

    def _reconcile(self, options: ReconcileOptions) -> ReconcileResult:
        bound = self.bound_id()
        # A bound agent's status and listing are read while the folder is scanned.
        reads = ParallelReads(self.client, self.cid, bound) if bound is not None else None
        try:
            # Binding may create an agent or pin a runtime (changing requests): limits first.
            limits = bound is None or not self.binder.runtime_pinned()
            local, cache = self._scan(limits)
            if not local and bound is None:
                raise ConfigError(
                    f"no files to sync in {self.target.files.root}",
                    hint="check files.root, files.include/exclude and your ignore files",
                )
            status_of = reads.status_of if reads is not None else None
            aid, created, before = self.binder.bind(force=options.force, status_of=status_of)
            if reads is not None and aid == reads.aid:
                remote = reads.listing.result()
            else:
                remote = self.client.list_files(self.cid, aid)
        finally:
            if reads is not None:
                reads.close()
        try:
            return self._apply(options, local, aid, created, before, remote)
        finally:
            self.store.save_stat_cache(self.target.files.root, cache)  # after: not before a PUT

    def _apply(
        self,
        options: ReconcileOptions,
        local: dict[str, LocalFile],
        aid: int,
        created: bool,
        before: AgentStatus | None,
        remote: dict[str, RemoteFile],
    ) -> ReconcileResult:
        state = self.store.load(self.key)
        plan, skipped = self._checked_plan(options, local, aid, created, remote, state)

        def held(status: AgentStatus) -> ReconcileResult:
            # the caller (push, watch) says it once, in words
            log.debug("held", agent_id=aid, held=plan.changes, status=status.status)
            return ReconcileResult(
                plan=plan,
                agent_status=status,
                held=plan.changes,
                created_agent=created,
                agent_id=aid,
                local=local,
                deletes_skipped=skipped,
            )

        holding = options.hold_while_deploying and not options.force
        if plan.changes and holding and before is not None and before.in_flight:
            return held(before)
        if plan.changes and options.mark_deploy_pending:
            self.journal.set_deploy_pending(True, at=self.clock.now())
        try:
            report = apply_plan(
                self.client,
                self.cid,
                aid,
                plan,
                state,
                lambda s: self.store.save(self.key, s),
                entry=self.target.entry,
                on_event=self._emit,
                journal=self.journal,
            )
        except UploadsHeldError:
            # A deploy started between the status read and a file PUT, and the server refuses
            # uploads until it settles (v4.6): what went up is in the base; the rest is held.
            return held(self.client.status(self.cid, aid))
        applied = bool(report.uploaded or report.deleted)
        status = before if before is not None and not applied else self.client.status(self.cid, aid)
        last = report.last_result
        ok = status.status != "upload_failed" and not (
            last is not None and last.status == "upload_failed" and status.status is None
        )
        message = None
        if not ok:
            message = (last.validation_message if last is not None else None) or status.message
        return ReconcileResult(
            plan=plan,
            agent_status=status,
            uploaded=tuple(report.uploaded),
            deleted=tuple(report.deleted),
            changed=applied,
            validation_ok=ok,
            created_agent=created,
            agent_id=aid,
            validation_message=message,
            local=local,
            deletes_skipped=skipped,
            vanished=tuple(report.vanished),
        )

    def _checked_plan(
        self,
        options: ReconcileOptions,
        local: dict[str, LocalFile],
        aid: int,
        created: bool,
        remote: dict[str, RemoteFile],
        state: TargetState,
    ) -> tuple[Plan, tuple[str, ...]]:
        """The plan against the recovered base, its stops applied (delete cap, conflicts,
        limits) and what the base learns from it saved; and the deletes skipped at the cap."""
        if recover_pending(self.journal, state, remote):
            self.store.save(self.key, state)
        remote = self._proven(local, remote, state.files, aid, options)
        plan = self.plan(local, remote, options.force, base=state.files)
        kept = [*plan.remote_changes, *(c.name for c in plan.conflicts)]  # the server's stay
        self.left_in_place = {n: remote[n] for n in kept if n in remote}
        if created:  # what the new agent started with came from the template: say so, as plan
            plan = relabel_uploads(plan, remote, TEMPLATE_REASON)
        skipped: tuple[str, ...] = ()
        if plan.delete_cap_hit and options.over_delete_cap == "skip_deletes":
            skipped = tuple(d.name for d in plan.deletes)
            plan = replace(plan, deletes=[])  # delete_cap_hit stays True: the cap was hit
        elif plan.delete_cap_hit:
            raise delete_cap_error(plan, self.target.sync.max_delete)
        if plan.conflicts and not options.skip_conflicts:
            raise conflict_error(plan)
        if plan.uploads:
            self.check_limits(local)  # the competition is read only when something is uploaded
        if plan.base_updates:
            _learn(state, plan.base_updates)
            self.store.save(self.key, state)
        return plan, skipped


def _learn(state: TargetState, updates: Mapping[str, BaseEntry | None]) -> None:
    """Apply a plan's base updates to ``state`` (a ``None`` entry forgets the name)."""
    for name, entry in updates.items():
        if entry is None:
            state.files.pop(name, None)
        else:
            state.files[name] = entry
