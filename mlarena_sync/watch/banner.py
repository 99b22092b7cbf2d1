"""The facts of the ``watching`` event (the banner a person reads when ``watch`` starts).

Which agent (id and name, or none yet: a new agent on the first save), which challenge, which
server and API generation, how many deploys are left today, and the rules in force (``deploy:``,
``watch:``, ``sync.live``). One read of its own at most (the agent's daily quota; the
challenge's detail is the one the first reconcile reads anyway); a server that does not answer
leaves those facts out: the first reconcile says the rest.
"""

from __future__ import annotations

import contextlib
from typing import Any

from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.errors import MlarenaSyncError

__all__ = ["banner_facts"]


def _server_facts(rec: Reconciler, agent_id: int | None) -> dict[str, Any]:
    target, client = rec.target, rec.client
    facts: dict[str, Any] = {}
    with contextlib.suppress(MlarenaSyncError):  # unreachable, unknown: the reconcile says so
        facts["challenge"] = rec.competition().name  # kept: the first reconcile reads it anyway
    if agent_id is not None:
        try:
            limits = client.deploy_limits(target.competition, agent_id)
        except MlarenaSyncError:
            return facts
        facts["deploys_left"] = limits.remaining
        facts["deploys_limit"] = limits.daily_limit
    return facts


def banner_facts(rec: Reconciler) -> dict[str, Any]:
    """The ``watching`` event's fields, but ``root`` and ``text``."""
    target = rec.target
    agent_id = rec.store.load(rec.key).agent_id or target.agent.id
    deploy, watch = target.deploy, target.watch
    return {
        "agent_id": agent_id,
        "agent_name": target.agent.name,
        "competition": target.competition,
        "server": target.server,
        "api": rec.client.capabilities.generation,
        **_server_facts(rec, agent_id),
        "deploy_auto": deploy.auto,
        "settle": deploy.settle,
        "min_interval": deploy.min_interval,
        "reserve": deploy.reserve,
        "check": deploy.check,
        "live": target.sync.live,
        "quiet": watch.quiet,
        "max_wait": watch.max_wait,
    }
