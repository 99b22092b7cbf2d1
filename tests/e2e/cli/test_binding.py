"""``mlarena_sync.engine.binding``: which agent a target syncs to, used alone (no reconcile)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers.arena import open_client
from helpers.project import Project

from mlarena_sync.api.interface import Arena
from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import RuntimeSpec, Target, load_config
from mlarena_sync.engine.binding import AgentBinder
from mlarena_sync.engine.runtime import resolve_runtime
from mlarena_sync.errors import ConfigError
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import StateStore, target_key


def _binder(target: Target, client: Arena, store: StateStore) -> AgentBinder:
    key = target_key(target)
    events: list[tuple[str, dict[str, Any]]] = []
    return AgentBinder(
        target,
        client,
        store,
        key,
        Journal(store.state_dir, key),
        lambda event, **fields: events.append((event, fields)),
    )


def test_create_once_then_bound_and_a_lost_creation_refuses_a_twin(
    arena: FakeArena, project: Project, tmp_path: Path
) -> None:
    target = load_config(project.config).target(None)
    store = StateStore.for_config(project.config)
    with open_client(arena) as client:
        binder = _binder(target, client, store)
        assert binder.bound_id() is None
        first = binder.bind(force=False)
        assert first.created and first.status is None
        again = binder.bind(force=False)
        assert again.agent_id == first.agent_id and not again.created
        assert again.status is not None and again.status.status is not None
        assert binder.bound_id() == first.agent_id

        # A fresh folder whose journal says a creation's reply was lost: no twin without force.
        fresh = StateStore(tmp_path / "fresh-state")
        lost = _binder(target, client, fresh)
        lost.journal.set_creating(target.agent.name)
        with pytest.raises(ConfigError, match="interrupted while creating"):
            lost.bind(force=False)
        forced = lost.bind(force=True)
        assert forced.created and forced.agent_id != first.agent_id
        assert lost.journal.creating() is None

        # agent.id in the config wins over the state, and is bound.
        pinned = dataclasses.replace(
            target, agent=dataclasses.replace(target.agent, id=first.agent_id)
        )
        by_id = _binder(pinned, client, fresh).bind(force=False)
        assert by_id.agent_id == first.agent_id and not by_id.created
        assert fresh.load(target_key(target)).agent_id == first.agent_id


def test_resolve_runtime_lists_what_the_competition_offers(
    arena: FakeArena, project: Project
) -> None:
    target = load_config(project.config).target(None)
    with open_client(arena) as client:
        offered = client.runtime_options(target.competition)
    assert resolve_runtime(target, offered) is None  # none asked for
    wanted = dataclasses.replace(target, runtime=RuntimeSpec(id=None, language="cobol"))
    with pytest.raises(ConfigError, match="not offered") as info:
        resolve_runtime(wanted, offered)
    assert offered and all(f"id {r.id}" in str(info.value) for r in offered)
