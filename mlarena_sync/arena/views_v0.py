"""The shapes only the v0 generation serves, built from the shared store.

Status with ``run_info``, ``latestDeploy`` with null keys, games with signed log URLs, and the
CamelCase leaderboard rows (api-v0.md).
"""

from __future__ import annotations

import time
from typing import Any

from mlarena_sync.arena.model import D_RUNNING, DEPLOY_QUEUE, DEPLOY_RUN, Agent
from mlarena_sync.arena.queries import games_for, ranked
from mlarena_sync.arena.store import ArenaStore


def agent_status(store: ArenaStore, agent: Agent) -> dict[str, Any]:
    """``GET .../status``: the status with ``queue_info`` and, while running, ``run_info``."""
    with store.lock:
        queue_info = None
        run_info = None
        dep = store.deployments.get(agent.latest_deploy_id or -1)
        if agent.status == DEPLOY_QUEUE and dep is not None and dep.id in store.queue:
            queue_info = {
                "position_in_queue": f"{store.queue.index(dep.id) + 1}/{len(store.queue)}",
                "in_queue_for_second": int(max(0.0, time.monotonic() - dep.queued_monotonic)),
            }
        if agent.status == DEPLOY_RUN and dep is not None:
            run_info = {"results": [dict(r) for r in dep.results]}
        return {
            "status": agent.status,
            "last_status_message": agent.last_status_message,
            "name": agent.name,
            "agent_id": agent.id,
            "competition_id": agent.competition_id,
            "mean_reward": agent.mean_reward,
            "queue_info": queue_info,
            "run_info": run_info,
        }


def latest_deploy(store: ArenaStore, agent: Agent) -> dict[str, Any]:
    """v0's ``latestDeploy``: every key null before the first deploy."""
    dep = store.deployments.get(agent.latest_deploy_id or -1)
    if dep is None:
        return {
            "id": None,
            "status": None,
            "created_at": None,
            "finished_at": None,
            "failure_message": None,
        }
    return dep.public()


def games_of(store: ArenaStore, agent: Agent, base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "id": g.id,
            "deployment_id": g.deployment_id,
            "created_at": g.created_at,
            "reward": g.reward,
            "outcome": g.outcome,
            "steps": g.steps,
            "metrics": {"steps": g.steps},
            "signed_url": f"{base_url}/_games/{g.id}/log?sig={store.sign(g.id)}",
        }
        for g in games_for(store, agent.id)
        # v0 lists a deploy's games once it settled (the store keeps them as they happen)
        if store.deployments[g.deployment_id].status != D_RUNNING
    ]


def leaderboard_rows(store: ArenaStore, cid: int, viewer_id: int | None) -> list[dict[str, Any]]:
    rows = []
    with store.lock:
        for rank, agent in enumerate(ranked(store, cid), start=1):
            owner = store.seed.user_by_id(agent.owner_id)
            rows.append(
                {
                    "Rank": rank,
                    "AgentName": agent.name,
                    "Username": owner.username if owner else "?",
                    "MeanReward": agent.mean_reward,
                    "IsMyAgent": agent.owner_id == viewer_id,
                    "agentAttachId": agent.id,
                    "NbGames": sum(1 for g in store.games.values() if g.agent_id == agent.id),
                }
            )
    return rows


def file_reply(agent: Agent, message: str) -> dict[str, Any]:
    """The reply of a v0 file PUT (upload or delete)."""
    return {
        "message": message,
        "status": agent.status,
        "validation_message": agent.last_status_message,
    }
