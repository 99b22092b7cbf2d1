"""Read-only questions both generations ask the store (kept out of ``store.py``, which
holds the state and its changes)."""

from __future__ import annotations

from mlarena_sync.arena.model import ACTIVE, Agent, Game
from mlarena_sync.arena.store import ArenaStore


def games_for(store: ArenaStore, aid: int) -> list[Game]:
    """The agent's games (v4.6: runs), newest first."""
    with store.lock:
        return sorted(
            (g for g in store.games.values() if g.agent_id == aid),
            key=lambda g: g.id,
            reverse=True,
        )


def ranked(store: ArenaStore, cid: int) -> list[Agent]:
    """The competition's active, scored agents, best first (ties: oldest first)."""
    with store.lock:
        return sorted(
            (
                a
                for a in store.agents.values()
                if a.competition_id == cid and a.status == ACTIVE and a.mean_reward is not None
            ),
            key=lambda a: (-(a.mean_reward or 0.0), a.id),
        )
