"""Which agent a target syncs to, and its runtime.

The agent id comes from, in order: ``agent.id`` in the config (verified, and bound), the id
bound in ``.mlarena-sync/``, or a new agent named ``agent.name``: not when the leaderboard shows
an agent of ours with that name (a lost ``.mlarena-sync/`` must not make a twin; ``force``
creates anyway, and also replaces a state binding whose agent is gone). A creation is made once: the
runtime is resolved *before* it (a bad ``runtime:`` or a revoked token creates nothing), the
journal records it while the reply is awaited (a run killed then refuses to make a twin, unless
``force``), the new id is bound at once, the runtime pinned right after, and the files the new
agent starts with become the base (so the first push may replace them without a conflict).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

import structlog

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus, Competition
from mlarena_sync.config.model import Target
from mlarena_sync.engine.pin import pin_agent_id
from mlarena_sync.engine.runtime import resolve_runtime, runtime_spec_key, runtime_text
from mlarena_sync.errors import ApiError, AuthError, ConfigError, MlarenaSyncError, NotFoundError
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import BaseEntry, StateStore, TargetState

__all__ = [
    "AgentBinder",
    "Binding",
    "competition_missing",
    "competition_of",
    "my_agents_named",
]

log = structlog.get_logger("mlarena_sync.engine.binding")

#: ``emit(event, **fields)``: an :class:`~mlarena_sync.events.EventSink` as a callable
#: (:func:`~mlarena_sync.events.as_callback`), the shape the batch's workers call.
Emit = Callable[..., None]
#: Reads an agent's status by id (raises the client's errors).
StatusRead = Callable[[int], AgentStatus]

CONFIG_SOURCE = "the `id:` under `submission:` in mlarena.yaml"
STATE_SOURCE = "bound in .mlarena-sync/"


def my_agents_named(client: Arena, cid: int, name: str) -> list[int]:
    """Ids of the caller's agents named ``name`` in the competition: every one of them on v4.6
    (``/submissions/mine``), only the deployed ones (on the leaderboard) on v0; empty when the
    list cannot be read."""
    try:
        mine = client.my_submissions(cid)
    except ApiError as exc:
        log.debug("submissions_unreadable", competition=cid, reason=exc.message)
        return []
    return sorted({s.id for s in mine if s.name == name and s.competition_id in (None, cid)})


def competition_missing(cid: int, server: str) -> ConfigError:
    """Exit 2: ``competition:`` names no competition this token can see on ``server``."""
    return ConfigError(
        f"challenge {cid} was not found on {server} (or is not visible to you)",
        hint="check `challenge:` in mlarena.yaml: the number in the challenge's URL",
    )


def competition_of(client: Arena, cid: int, server: str) -> Competition:
    """The competition's detail; :func:`competition_missing` (exit 2) when there is none."""
    try:
        return client.competition(cid)
    except NotFoundError:
        raise competition_missing(cid, server) from None


def pinned_text(aid: int) -> str:
    return f"created agent {aid} and pinned it in mlarena.yaml (id: {aid}): commit that file"


def pin_hint(aid: int) -> str:
    return (
        f"created agent {aid}; pin it with `agent: {{id: {aid}}}` in mlarena.yaml — without it, "
        "a fresh clone or a deleted .mlarena-sync/ creates a new agent"
    )


class Binding(NamedTuple):
    agent_id: int
    created: bool  # created by this call
    status: AgentStatus | None  # the existing agent's status (None for a new agent)


class AgentBinder:
    """Binds one target to its agent (the caller holds the state lock for :meth:`bind`)."""

    def __init__(
        self,
        target: Target,
        client: Arena,
        store: StateStore,
        key: str,
        journal: Journal,
        emit: Emit,
    ) -> None:
        self.target = target
        self.client = client
        self.store = store
        self.key = key
        self.cid = target.competition
        self.journal = journal
        self._emit = emit

    def bound_id(self) -> int | None:
        """The agent id without creating anything: config ``agent.id``, else the state's."""
        if self.target.agent.id is not None:
            return self.target.agent.id
        return self.store.load(self.key).agent_id

    def check(self, aid: int, source: str, *, status_of: StatusRead | None = None) -> AgentStatus:
        """The agent's status; :class:`NotFoundError` when it is missing, not ours, or deleted,
        with a hint for where the binding came from (``source``; "bound": whichever applies).
        ``status_of(aid)`` reads it (default: a status request; a reconcile passes one that
        returns a read it already started, in parallel with the file listing)."""
        if source == "bound":
            source = CONFIG_SOURCE if self.target.agent.id is not None else STATE_SOURCE
        name = self.target.agent.name
        new = f"`mlarena-sync push --force` to create a new agent named {name!r}"
        if source == CONFIG_SOURCE:
            hint = (
                "check `challenge:` and the `id:` under `submission:` in mlarena.yaml, and that "
                "MLARENA_API_KEY is the token of the agent's owner"
            )
            gone = f"set `id:` under `submission:` to another agent, or remove it and run {new}"
        else:
            hint = (
                "is MLARENA_API_KEY the token of the user who created it? If that agent is gone "
                f"for good, set `id:` under `submission:` to the agent to use, or run {new}"
            )
            gone = (
                f"set `id:` under `submission:` in mlarena.yaml to the agent to use, or run {new}"
            )
        try:
            status = status_of(aid) if status_of is not None else self.client.status(self.cid, aid)
        except NotFoundError as exc:
            raise self._missing(aid, source) or NotFoundError(
                f"agent {aid} ({source}) was not found in competition {self.cid}, or is not yours",
                status_code=exc.status_code,
                hint=hint,
            ) from None
        if status.status == "deleted":
            raise NotFoundError(f"agent {aid} ({source}) was deleted on the server", hint=gone)
        if status.viewer_role is not None and not status.owned:
            # `push --force` cannot help here (it replaces only a lost binding): point at the
            # config, naming the agent a push would create only when agent.name says one.
            own = "set `id:` under `submission:` in mlarena.yaml to a submission of your own"
            if source == CONFIG_SOURCE:
                own += (
                    f", or remove it to create a new agent named {name!r}"
                    if name
                    else ", or replace it with agent.name to create a new agent"
                )
            raise AuthError(
                f"agent {aid} ({source}) is not yours to change: you see it as "
                f"{status.viewer_role!r} (a teammate's submission is read-only; only its owner "
                "uploads or deploys)",
                hint=own,
            )
        return status

    def _missing(self, aid: int, source: str) -> MlarenaSyncError | None:
        """Why agent ``aid`` answered 404, when it can be told (a few reads, on this error path
        only): the competition itself is missing (:class:`ConfigError`, exit 2), or the agent is
        another user's (:class:`AuthError`, exit 4: on the leaderboard as someone else's, or
        bound here with another token); None: missing, or not yours, as the server says."""
        try:
            self.client.competition(self.cid)
        except NotFoundError:
            return competition_missing(self.cid, self.target.server)
        except ApiError:
            pass
        mine = self.client.token_parts
        who = f" {mine.masked} in use" if mine is not None else " in use"
        fix = (
            "set MLARENA_API_KEY to the owner's token, or `id:` under `submission:` to one of yours"
        )
        try:
            row = next((r for r in self.client.leaderboard(self.cid) if r.agent_id == aid), None)
        except ApiError:
            row = None
        row = row if row is not None and not row.is_mine else None
        if row is not None:
            owner = f"{row.username}'s" if row.username else "another user's"
            return AuthError(
                f"agent {aid} ({source}) is {owner} agent on the leaderboard of competition "
                f"{self.cid}: not yours to change with the token{who}",
                hint=fix,
            )
        state = self.store.load(self.key)
        if state.agent_id == aid and state.bound_by and mine and mine.lookup != state.bound_by:
            return AuthError(
                f"agent {aid} ({source}) was bound with the token mlk_user_{state.bound_by}_*** "
                f"and cannot be seen with the token{who}: it is another user's agent",
                hint=fix,
            )
        return None

    def check_no_twin(self) -> None:
        """:class:`ConfigError` when an agent of ours is named ``agent.name`` already
        (creating one more would make a twin: a lost ``.mlarena-sync/``, a fresh clone)."""
        name = self.target.agent.name
        twins = my_agents_named(self.client, self.cid, name) if name else []
        if twins:
            raise ConfigError(
                f"an agent named {name!r} already exists in competition {self.cid} (id "
                f"{', '.join(map(str, twins))}): set `agent: {{id: {twins[0]}}}` in mlarena.yaml, "
                "or pass --force to create another"
            )

    def bind(self, *, force: bool, status_of: StatusRead | None = None) -> Binding:
        """The agent: from ``agent.id`` (verified), from the state, or a new one (``status_of``:
        see :meth:`check`)."""
        state = self.store.load(self.key)
        config_id = self.target.agent.id
        if (config_id is not None or state.agent_id is not None) and self.journal.creating():
            self.journal.set_creating(None)  # bound after all: that creation no longer matters
        if config_id is not None:
            status = self.check(config_id, CONFIG_SOURCE, status_of=status_of)
            if state.agent_id != config_id:
                state = TargetState(agent_id=config_id, bound_by=self._lookup())
                self.store.save(self.key, state)
                self._emit("agent_bound", agent_id=config_id, source="config")
            self._pin_runtime(config_id, state)
            return Binding(config_id, False, status)
        if state.agent_id is not None:
            try:
                status = self.check(state.agent_id, STATE_SOURCE, status_of=status_of)
            except NotFoundError as exc:
                if not force or not self.target.agent.name:
                    raise
                self._emit("agent_unbound", agent_id=state.agent_id, text=f"{exc.message}: unbound")
                self.store.forget(self.key)  # its base described the lost agent's files
                self.journal.clear()
                return Binding(self._create(force=force), True, None)
            self._pin_runtime(state.agent_id, state)
            return Binding(state.agent_id, False, status)
        return Binding(self._create(force=force), True, None)

    def _create(self, *, force: bool) -> int:
        name = self.target.agent.name
        if not name:
            raise ConfigError(
                "no agent bound: set `name:` (to create one) or `id:` under `submission:`"
            )
        interrupted = self.journal.creating()
        if interrupted is not None and not force:
            raise ConfigError(
                f"an earlier run was interrupted while creating agent {interrupted!r} in "
                f"challenge {self.cid}: it may exist on the server, but its id never came back",
                hint="set `id:` under `submission:` in mlarena.yaml to its id (on your ML Arena "
                "profile) to bind it, or run `mlarena-sync push --force` to create another agent",
            )
        parts = self.client.token_parts
        if parts is not None and parts.scope != "user":  # the server would answer 403
            raise AuthError(
                f"the API token has scope {parts.scope!r}; agents need a `user`-scope token",
                hint="set MLARENA_API_KEY to the `mlk_user_...` key from your ML Arena profile",
            )
        # An authenticated read first: a revoked token or a bad runtime creates nothing.
        runtime = resolve_runtime(self.target, self.client.runtime_options(self.cid))
        if not force:
            self.check_no_twin()
        self.journal.set_creating(name)  # a kill before the reply must not create a twin
        try:
            aid = self.client.create_agent(self.cid, name)
        except ApiError as exc:
            if exc.status_code is not None:  # answered: surely not created
                self.journal.set_creating(None)
            raise
        state = TargetState(agent_id=aid, bound_by=self._lookup())
        self.store.save(self.key, state)  # bound at once
        self.journal.set_creating(None)
        pinned = self._pin(aid)
        self._emit(
            "agent_created",
            agent_id=aid,
            name=name,
            competition=self.cid,
            pinned=pinned,
            text=pinned_text(aid) if pinned else pin_hint(aid),
        )
        if runtime is not None and runtime.id is not None:
            self.client.set_agent_runtime(aid, runtime.id)
            state.runtime_id = runtime.id
            state.runtime_spec = runtime_spec_key(self.target)
            self._emit("runtime_pinned", agent_id=aid, runtime=runtime_text(runtime))
        # What the new agent holds (a template agent.py) was not written by the user: make it
        # the base, so the first push replaces or deletes it without calling it a conflict.
        for rname, rf in self.client.list_files(self.cid, aid).items():
            sha = rf.sha256
            if sha is None and self.client.capabilities.download_bytes:  # v4.6 lists no hash
                sha = hashlib.sha256(self.client.download_file(self.cid, aid, rname)).hexdigest()
            if sha is not None:
                state.files[rname] = BaseEntry(rname, sha, rf.size or 0)
            elif rf.size is not None:
                state.files[rname] = BaseEntry(rname, "", rf.size)
        self.store.save(self.key, state)
        return aid

    def _lookup(self) -> str | None:
        parts = self.client.token_parts
        return parts.lookup if parts is not None else None

    def runtime_pinned(self) -> bool:
        """Whether binding the bound agent pins nothing: no ``runtime:`` asked for, or the
        state's runtime was resolved from this same ``runtime:`` (then no read either)."""
        key = runtime_spec_key(self.target)
        if key is None:
            return True
        state = self.store.load(self.key)
        return state.runtime_id is not None and state.runtime_spec == key

    def _pin(self, aid: int) -> bool:
        """Write the new agent's id into mlarena.yaml (one line; see :mod:`.pin`), so a fresh
        clone binds to it; False (and the hint is printed instead) when it cannot be sure."""
        path = self.target.config_path
        return path is not None and pin_agent_id(path, self.target.name, aid)

    def _pin_runtime(self, aid: int, state: TargetState) -> None:
        key = runtime_spec_key(self.target)
        if key is None or (state.runtime_id is not None and state.runtime_spec == key):
            return  # none asked for, or pinned from this same `runtime:` already
        runtime = resolve_runtime(self.target, self.client.runtime_options(self.cid))
        if runtime is None or runtime.id is None:
            return
        if state.runtime_id != runtime.id:
            current = self.client.agent_runtime(aid)
            if current is None or current.id != runtime.id:
                self.client.set_agent_runtime(aid, runtime.id)
                self._emit("runtime_pinned", agent_id=aid, runtime=runtime_text(runtime))
        state.runtime_id = runtime.id
        state.runtime_spec = key
        self.store.save(self.key, state)
