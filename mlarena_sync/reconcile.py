"""One reconcile: bind the agent, scan, list, plan, apply. Used by ``push``, ``plan``, ``watch``.

Sequence (under the state lock, except for a dry run, which writes nothing and so can run beside
a ``watch``):

1. read the competition (its limits), scan the folder and check every name: all local problems
   are reported together, before any request that changes anything;
2. bind the agent: the id in the state, else ``agent.id`` from the config (verified), else
   create one named ``agent.name`` (runtime resolved *before* creating, pinned right after; the
   files the new agent starts with become the base, so the first push may replace them);
3. list the remote files and make the plan; the delete cap (unless ``over_delete_cap`` is
   ``"skip_deletes"``: everything but the deletes is applied) and, unless ``skip_conflicts``,
   conflicts stop here with :class:`ConflictError` (nothing applied);
4. a deploy queued or running → apply nothing, report ``held`` (unless ``force``);
5. apply (helpers, deletes, entry last), then read the status once: the validation verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import structlog

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.models import AgentStatus, Competition, RemoteFile, Runtime
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config import Target
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConflictError,
    MlarenaSyncError,
    NotFoundError,
)
from mlarena_sync.files import LocalFile, scan
from mlarena_sync.ignore import Selector
from mlarena_sync.names import check_names
from mlarena_sync.plan import Plan, make_plan
from mlarena_sync.state import BaseEntry, StateStore, TargetState, target_key
from mlarena_sync.sync import Journal, apply_plan, recover_pending

__all__ = ["ReconcileOptions", "ReconcileResult", "Reconciler", "resolve_runtime"]

log = structlog.get_logger("mlarena_sync.reconcile")

#: What a reconcile does when the plan deletes more than ``sync.max_delete`` files (no --force):
#: ``"stop"`` raises :class:`ConflictError`, nothing applied (push); ``"skip_deletes"`` applies
#: everything else and reports the deletes in :attr:`ReconcileResult.deletes_skipped` (watch).
OverDeleteCap = Literal["stop", "skip_deletes"]

#: Shown as the status of an agent that does not exist yet (dry run before the first push).
UNBOUND = AgentStatus(None, "no agent yet: the first push creates it", None, None, ())


@dataclass(frozen=True)
class ReconcileOptions:
    dry_run: bool = False  # plan only: no request that changes anything
    force: bool = False  # overwrite remote changes, exceed max_delete, upload mid-deploy
    skip_conflicts: bool = False  # watch: sync everything else, report conflicted files
    hold_while_deploying: bool = True  # in-flight deploy → apply nothing, report `held`
    mark_deploy_pending: bool = False  # push: journal "deploy decision pending" before applying
    over_delete_cap: OverDeleteCap = "stop"  # watch: "skip_deletes" syncs the rest


@dataclass(frozen=True)
class ReconcileResult:
    plan: Plan
    uploaded: tuple[str, ...]
    deleted: tuple[str, ...]
    held: int  # operations not applied because a deploy is in flight
    changed: bool  # something was uploaded or deleted
    agent_status: AgentStatus  # read after the batch (validation verdict)
    validation_ok: bool
    created_agent: bool
    agent_id: int | None = None  # None only for a dry run before the first push
    validation_message: str | None = None
    local: Mapping[str, LocalFile] = field(default_factory=dict, repr=False)
    deletes_skipped: tuple[str, ...] = ()  # over the delete cap, with "skip_deletes"


def _runtime_text(r: Runtime) -> str:
    parts = [f"id {r.id}: {r.language or '?'}"]
    if r.language_version:
        parts.append(r.language_version)
    if r.framework:
        parts.append(f"/ {r.framework}")
    if r.framework_version:
        parts.append(r.framework_version)
    return " ".join(parts)


def _version_matches(wanted: str | None, actual: str | None) -> bool:
    if wanted is None:
        return True
    if actual is None:
        return False
    return actual == wanted or actual.startswith(wanted + ".")


def resolve_runtime(target: Target, options: list[Runtime]) -> Runtime | None:
    """The runtime ``runtime:`` asks for, among the competition's; None when none is asked for.

    :class:`ConfigError` listing what exists when nothing matches."""
    spec = target.runtime
    if spec is None:
        return None
    if spec.id is not None:
        found = [r for r in options if r.id == spec.id]
    else:
        found = [
            r
            for r in options
            if (spec.language is None or (r.language or "").lower() == spec.language.lower())
            and (spec.framework is None or (r.framework or "").lower() == spec.framework.lower())
            and _version_matches(spec.framework_version, r.framework_version)
        ]
    if found:
        return found[-1]
    wanted = (
        f"id {spec.id}"
        if spec.id is not None
        else " / ".join(
            x for x in (spec.language, spec.framework, spec.framework_version) if x is not None
        )
    )
    known = "; ".join(_runtime_text(r) for r in options) or "none"
    raise ConfigError(
        f"runtime {wanted} is not offered by competition {target.competition}; it offers: {known}",
        hint="fix `runtime:` in mlarena.yaml (or remove it for the competition's default)",
    )


def _conflict_error(plan: Plan) -> ConflictError:
    lines = []
    for c in plan.conflicts:
        local = (
            f"local {c.local_path} (sha256 {c.local_sha256[:12] if c.local_sha256 else '?'})"
            if c.local_path
            else "deleted locally"
        )
        remote = (
            f"remote sha256 {c.remote_sha256[:12]}"
            if c.remote_sha256
            else f"remote {c.remote_size if c.remote_size is not None else '?'} bytes"
        )
        lines.append(f"{c.name}: {c.reason}: {local} vs {remote}")
    names = [c.name for c in plan.conflicts]
    return ConflictError(
        f"{len(names)} file(s) changed on the server since the last sync; nothing was "
        "changed:\n  " + "\n  ".join(lines),
        hint="keep the server's: `mlarena-sync pull --force NAME`; keep yours: "
        "`mlarena-sync push --force`",
        files=names,
    )


def _delete_cap_error(plan: Plan, max_delete: int) -> ConflictError:
    names = [d.name for d in plan.deletes]
    return ConflictError(
        f"push would delete {len(names)} remote files, over sync.max_delete = {max_delete}; "
        "nothing was changed:\n  " + "\n  ".join(names),
        hint="check that files.root is the right folder, then pass --force (or raise "
        "sync.max_delete)",
        files=names,
    )


class Reconciler:
    """One target's reconcile loop step; reusable (``watch`` keeps one)."""

    def __init__(
        self,
        target: Target,
        client: ArenaClient,
        store: StateStore,
        *,
        token: str,
        clock: Clock = SYSTEM_CLOCK,
        on_event: Callable[..., None] | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.store = store
        self.token = token
        self.clock = clock
        self.key = target_key(target)
        self.cid = target.competition
        self._on_event = on_event
        self._locked = False
        self._competition: Competition | None = None
        self._selector = Selector(target.files, config_path=target.config_path)
        self.journal = Journal(store.state_dir, self.key)

    # ---------------------------------------------------------------- helpers
    def _emit(self, event: str, **fields: Any) -> None:
        if self._on_event is not None:
            self._on_event(event, **fields)
        else:
            log.info(event, **fields)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state lock (re-entrant within this reconciler)."""
        if self._locked:
            yield
            return
        with self.store.lock():
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    def competition(self) -> Competition:
        if self._competition is None:
            self._competition = self.client.competition(self.cid)
        return self._competition

    def scan(self, *, save_cache: bool) -> dict[str, LocalFile]:
        """The selection keyed by remote name; every problem at once (:class:`SelectionError`)."""
        root = self.target.files.root
        cache = self.store.load_stat_cache(root)
        problems: list[str] = []
        files = scan(root, self._selector, cache, problems)
        local = check_names(
            files, self.competition(), self.token, allow=self.target.files.allow, problems=problems
        )
        if save_cache:
            self.store.save_stat_cache(root, cache)
        return local

    # ---------------------------------------------------------------- binding
    def bound_id(self) -> int | None:
        """The agent id without creating anything: config ``agent.id``, else the state's."""
        if self.target.agent.id is not None:
            return self.target.agent.id
        return self.store.load(self.key).agent_id

    def bind(self) -> int:
        """The agent id: from the state, from ``agent.id`` (verified), or a new agent."""
        with self.locked():
            aid, _, _ = self._bind(force=False)
            return aid

    def _check_agent(self, aid: int, source: str) -> AgentStatus:
        """The agent's status; a clear error when it is missing, not ours, or deleted."""
        try:
            status = self.client.status(self.cid, aid)
        except NotFoundError:
            raise NotFoundError(
                f"agent {aid} ({source}) was not found in competition {self.cid}, or is not yours",
                hint="fix agent.id in mlarena.yaml, or remove it (and .mlarena-sync/) to create "
                "a new agent from agent.name",
            ) from None
        if status.status == "deleted":
            raise MlarenaSyncError(
                f"agent {aid} ({source}) was deleted on the server",
                hint="remove agent.id from mlarena.yaml and delete .mlarena-sync/ to create a "
                "new agent on the next push",
            )
        return status

    def _bind(self, *, force: bool) -> tuple[int, bool, AgentStatus | None]:
        """(agent id, created now, its status when it already existed)."""
        state = self.store.load(self.key)
        config_id = self.target.agent.id
        if (config_id is not None or state.agent_id is not None) and self.journal.creating():
            self.journal.set_creating(None)  # bound after all: that creation no longer matters
        if config_id is not None:
            status = self._check_agent(config_id, "agent.id in mlarena.yaml")
            if state.agent_id != config_id:
                state = TargetState(agent_id=config_id)
                self.store.save(self.key, state)
                self._emit("agent_bound", agent_id=config_id, source="config")
            self._pin_runtime(config_id, state)
            return config_id, False, status
        if state.agent_id is not None:
            status = self._check_agent(state.agent_id, "bound in .mlarena-sync/")
            self._pin_runtime(state.agent_id, state)
            return state.agent_id, False, status
        return self._create(force=force), True, None

    def _create(self, *, force: bool) -> int:
        name = self.target.agent.name
        if not name:
            raise ConfigError("no agent bound: set agent.name (to create one) or agent.id")
        interrupted = self.journal.creating()
        if interrupted is not None and not force:
            raise ConfigError(
                f"an earlier run was interrupted while creating agent {interrupted!r} in "
                f"competition {self.cid}: it may exist on the server, but its id never came back",
                hint="set agent.id in mlarena.yaml to its id (on your ML Arena profile) to bind "
                "it, or run `mlarena-sync push --force` to create another agent",
            )
        parts = self.client.token_parts
        if parts is not None and parts.scope != "user":  # the server would answer 403
            raise AuthError(
                f"the API token has scope {parts.scope!r}; agents need a `user`-scope token",
                hint="set MLARENA_API_KEY to the `mlk_user_...` key from your ML Arena profile",
            )
        # An authenticated read first: a revoked token or a bad runtime creates nothing.
        runtime = resolve_runtime(self.target, self.client.runtime_options(self.cid))
        self.journal.set_creating(name)  # a kill before the reply must not create a twin
        try:
            aid = self.client.create_agent(self.cid, name)
        except ApiError as exc:
            if exc.status_code is not None:  # answered: surely not created
                self.journal.set_creating(None)
            raise
        state = TargetState(agent_id=aid)
        self.store.save(self.key, state)  # bound at once
        self.journal.set_creating(None)
        self._emit("agent_created", agent_id=aid, name=name, competition=self.cid)
        if runtime is not None and runtime.id is not None:
            self.client.set_agent_runtime(aid, runtime.id)
            state.runtime_id = runtime.id
            self._emit("runtime_pinned", agent_id=aid, runtime=_runtime_text(runtime))
        # What the new agent holds (a template agent.py) was not written by the user: make it
        # the base, so the first push replaces or deletes it without calling it a conflict.
        for rname, rf in self.client.list_files(self.cid, aid).items():
            if rf.sha256 is not None:
                state.files[rname] = BaseEntry(rname, rf.sha256, rf.size or 0)
            elif rf.size is not None:
                state.files[rname] = BaseEntry(rname, "", rf.size)
        self.store.save(self.key, state)
        return aid

    def _pin_runtime(self, aid: int, state: TargetState) -> None:
        if self.target.runtime is None:
            return
        runtime = resolve_runtime(self.target, self.client.runtime_options(self.cid))
        if runtime is None or runtime.id is None or state.runtime_id == runtime.id:
            return
        current = self.client.agent_runtime(aid)
        if current is None or current.id != runtime.id:
            self.client.set_agent_runtime(aid, runtime.id)
            self._emit("runtime_pinned", agent_id=aid, runtime=_runtime_text(runtime))
        state.runtime_id = runtime.id
        self.store.save(self.key, state)

    # ---------------------------------------------------------------- reconcile
    def plan(
        self, local: Mapping[str, LocalFile], remote: Mapping[str, RemoteFile], force: bool
    ) -> Plan:
        sync = self.target.sync
        base = self.store.load(self.key).files
        return make_plan(
            local,
            remote,
            base,
            mode=sync.mode,
            delete=sync.delete,
            max_delete=sync.max_delete,
            force=force,
            entry=self.target.entry,
        )

    def reconcile(self, options: ReconcileOptions = ReconcileOptions()) -> ReconcileResult:
        if options.dry_run:
            return self._dry_run(options)
        with self.locked():
            return self._reconcile(options)

    def _dry_run(self, options: ReconcileOptions) -> ReconcileResult:
        local = self.scan(save_cache=False)
        aid = self.bound_id()
        if aid is None:
            plan = make_plan(
                local,
                {},
                {},
                mode=self.target.sync.mode,
                delete=self.target.sync.delete,
                max_delete=self.target.sync.max_delete,
                force=options.force,
                entry=self.target.entry,
            )
            return ReconcileResult(plan, (), (), 0, False, UNBOUND, True, False, None, None, local)
        status = self._check_agent(aid, "bound")
        plan = self.plan(local, self.client.list_files(self.cid, aid), options.force)
        ok = status.status != "upload_failed"
        return ReconcileResult(
            plan, (), (), 0, False, status, ok, False, aid, None if ok else status.message, local
        )

    def _reconcile(self, options: ReconcileOptions) -> ReconcileResult:
        local = self.scan(save_cache=True)
        if not local and self.bound_id() is None:
            raise ConfigError(
                f"no files to sync in {self.target.files.root}",
                hint="check files.root, files.include/exclude and your ignore files",
            )
        aid, created, before = self._bind(force=options.force)
        remote = self.client.list_files(self.cid, aid)
        journal = self.journal
        pending_state = self.store.load(self.key)
        if recover_pending(journal, pending_state, remote):
            self.store.save(self.key, pending_state)
        plan = self.plan(local, remote, options.force)
        skipped: tuple[str, ...] = ()
        if plan.delete_cap_hit and options.over_delete_cap == "skip_deletes":
            skipped = tuple(d.name for d in plan.deletes)
            plan = replace(plan, deletes=[])  # delete_cap_hit stays True: the cap was hit
        elif plan.delete_cap_hit:
            raise _delete_cap_error(plan, self.target.sync.max_delete)
        if plan.conflicts and not options.skip_conflicts:
            raise _conflict_error(plan)
        state = self.store.load(self.key)
        self._learn_unchanged(state, plan, local, remote)

        holding = options.hold_while_deploying and not options.force
        if plan.changes and holding and before is not None and before.in_flight:
            self._emit("held", agent_id=aid, held=plan.changes, status=before.status)
            return ReconcileResult(
                plan, (), (), plan.changes, False, before, True, created, aid, None, local, skipped
            )

        if plan.changes and options.mark_deploy_pending:
            journal.set_deploy_pending(True)
        report = apply_plan(
            self.client,
            self.cid,
            aid,
            plan,
            state,
            lambda s: self.store.save(self.key, s),
            entry=self.target.entry,
            on_event=self._emit,
            journal=journal,
        )
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
            plan,
            tuple(report.uploaded),
            tuple(report.deleted),
            0,
            applied,
            status,
            ok,
            created,
            aid,
            message,
            local,
            skipped,
        )

    def _learn_unchanged(
        self,
        state: TargetState,
        plan: Plan,
        local: Mapping[str, LocalFile],
        remote: Mapping[str, RemoteFile],
    ) -> None:
        """Record files proven equal (e.g. after the state was lost) and forget names that are
        gone on both sides, so the base tells the truth before anything is applied."""
        dirty = False
        for name in plan.unchanged:
            lf, rf = local[name], remote[name]
            old = state.files.get(name)
            remote_sha = rf.sha256 if rf.sha256 not in (None, lf.sha256) else None
            entry = BaseEntry(lf.path, lf.sha256, lf.size, remote_sha)
            if old != entry:
                state.files[name] = entry
                dirty = True
        for name in [n for n in state.files if n not in local and n not in remote]:
            del state.files[name]
            dirty = True
        if dirty:
            self.store.save(self.key, state)
