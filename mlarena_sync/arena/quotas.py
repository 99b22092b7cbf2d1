"""Deploy quotas: daily deploys per user (UTC day) and active agents per competition."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from mlarena_sync.arena.model import HOLDS_SLOT, Agent, Deployment


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with an explicit ``+00:00`` offset."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def next_utc_midnight(now: datetime) -> datetime:
    day = now.astimezone(timezone.utc).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def deploys_used(deployments: Iterable[Deployment], user_id: int, now: datetime) -> int:
    today = now.astimezone(timezone.utc).date()
    return sum(
        1
        for dep in deployments
        if dep.user_id == user_id and parse_iso(dep.created_at).date() == today
    )


def deployment_limits(
    deployments: Iterable[Deployment], user_id: int, now: datetime, limit: int
) -> dict[str, Any]:
    used = deploys_used(deployments, user_id, now)
    remaining = max(0, limit - used)
    return {
        "daily_deploy_limit": limit,
        "daily_deploys_used": used,
        "daily_deploys_remaining": remaining,
        "next_deploy_available_at": iso(next_utc_midnight(now)),
        "can_deploy": remaining > 0,
    }


def active_limits(
    agents: Iterable[Agent], user_id: int, competition_id: int, limit: int, exclude: int | None
) -> dict[str, Any]:
    active = sum(
        1
        for agent in agents
        if agent.owner_id == user_id
        and agent.competition_id == competition_id
        and agent.status in HOLDS_SLOT
        and agent.id != exclude
    )
    return {
        "max_active_agents_per_participant": limit,
        "active_agents": active,
        "remaining": max(0, limit - active),
        "can_activate": active < limit,
    }
