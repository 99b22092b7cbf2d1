"""The v4.6 leaderboard envelope ``{challenge, total, leaders, me, around, matches}``.

One row per participant by default (``aggregate=user``: a team's or a user's best active
submission), or per submission (``aggregate=submission``). ``is_my_submission`` is true on the
viewer's own rows and on their team's.
"""

from __future__ import annotations

from typing import Any

from mlarena_sync.arena.errors import Refused
from mlarena_sync.arena.model import Agent, Competition
from mlarena_sync.arena.queries import games_for, ranked
from mlarena_sync.arena.seed import Seed
from mlarena_sync.arena.shapes_v4 import metric_spec, ts
from mlarena_sync.arena.store import ArenaStore

MAX_WINDOW = 25
MAX_MATCHES = 50


def reads(seed: Seed, agent: Agent, user_id: int | None) -> str | None:
    """The viewer's role on a submission: ``owner``, ``teammate``, ``public`` or None."""
    if user_id is None:
        return "public" if agent.is_public else None
    if agent.owner_id == user_id:
        return "owner"
    team = seed.team_of(agent.owner_id, agent.competition_id)
    if team is not None and user_id in team.member_ids:
        return "teammate"
    return "public" if agent.is_public else None


def _participant(seed: Seed, agent: Agent) -> tuple[str, int]:
    team = seed.team_of(agent.owner_id, agent.competition_id)
    return ("team", team.id) if team is not None else ("user", agent.owner_id)


def ranked_agents(store: ArenaStore, cid: int, aggregate: str = "user") -> list[Agent]:
    """Board order; ``aggregate="user"`` keeps each participant's best submission."""
    if aggregate not in ("user", "submission"):
        raise Refused("aggregate must be 'user' or 'submission'")
    board = ranked(store, cid)
    if aggregate == "submission":
        return board
    seen: set[tuple[str, int]] = set()
    best = []
    for agent in board:
        key = _participant(store.seed, agent)
        if key not in seen:
            seen.add(key)
            best.append(agent)
    return best


def board_row(store: ArenaStore, agent: Agent, rank: int, viewer_id: int | None) -> dict[str, Any]:
    seed = store.seed
    comp = seed.competition_of(agent)
    owner = seed.user_by_id(agent.owner_id)
    team = seed.team_of(agent.owner_id, agent.competition_id)
    games = games_for(store, agent.id)
    role = reads(seed, agent, viewer_id)
    mine = role in ("owner", "teammate")
    return {
        "rank": rank,
        "username": owner.username if owner else None,
        "avatar_key": None,
        "submission_id": agent.id,
        "submission_name": agent.name,
        "score": agent.mean_reward,
        "score_ci95": None,
        "n_episodes_total": len(games),
        "elo_variance": None,
        "number_of_runs": len(games),
        "created_at_ts": ts(agent.created_at),
        "last_end_run_ts": ts(games[0].created_at) if games else None,
        "is_my_submission": mine,
        "can_open": role is not None,
        "team_id": team.id if team else None,
        "team_name": team.name if team else None,
        "team_members": members(seed, team.member_ids) if team else None,
        "action_time_max_sec": None,
        "agent_metric_total_ram_max_bytes": None,
        "agent_metric_vram_max_bytes": None,
        "is_public": agent.is_public if mine else None,
        "metrics": {comp.metric_key: agent.mean_reward},
        "metrics_window": None,
    }


def members(seed: Seed, ids: tuple[int, ...]) -> list[dict[str, Any]]:
    users = [seed.user_by_id(uid) for uid in ids]
    return [{"user_id": u.id, "username": u.username, "avatar_key": None} for u in users if u]


def _with_place(rows: list[dict[str, Any]], index: int, window: int | None) -> dict[str, Any]:
    """A row with its ``position``, ``percentile`` and (``window``) its neighbours."""
    row = dict(rows[index])
    row["position"] = index + 1
    row["percentile"] = round(100.0 * (len(rows) - index) / len(rows), 2)
    if window is not None:
        row["neighbours"] = rows[max(0, index - window) : index + window + 1]
    return row


def _int_arg(args: Any, name: str, default: int | None) -> int | None:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Refused(f"{name} must be an integer") from None
    if value < 0:
        raise Refused(f"{name} must be >= 0")
    return value


def envelope(
    store: ArenaStore, comp: Competition, viewer_id: int | None, args: Any
) -> dict[str, Any]:
    """``GET /api/leaderboard/challenge/{cid}`` with limit/offset/aggregate/me/around/q/window."""
    limit = _int_arg(args, "limit", None)
    offset = _int_arg(args, "offset", 0) or 0
    window = min(MAX_WINDOW, _int_arg(args, "window", 3) or 0)
    around = _int_arg(args, "around", None)
    with store.lock:
        agents = ranked_agents(store, comp.id, args.get("aggregate", "user"))
        rows = [board_row(store, a, i, viewer_id) for i, a in enumerate(agents, start=1)]
    page = rows[offset:] if limit is None else rows[offset : offset + limit]
    me = None
    if args.get("me") == "true":
        index = next((i for i, r in enumerate(rows) if r["is_my_submission"]), None)
        me = None if index is None else _with_place(rows, index, window)
    around_row = None
    if around is not None:
        index = next((i for i, r in enumerate(rows) if r["submission_id"] == around), None)
        around_row = None if index is None else _with_place(rows, index, window)
    q = (args.get("q") or "").strip().lower()
    matches = [r for r in rows if q and q in (r["username"] or "").lower()][:MAX_MATCHES]
    return {
        "challenge": {
            "challenge_id": comp.id,
            "metrics": [metric_spec(comp)],
            "window_days": None,
            "has_gpu": False,
            "kernel_version": comp.kernel_version,
        },
        "total": len(rows),
        "leaders": page,
        "me": me,
        "around": around_row,
        "matches": matches,
    }


def rank_of(store: ArenaStore, agent: Agent) -> int | None:
    """The submission's place on its challenge's per-participant board, None when off it."""
    for rank, row in enumerate(ranked_agents(store, agent.competition_id), start=1):
        if row.id == agent.id:
            return rank
    return None
