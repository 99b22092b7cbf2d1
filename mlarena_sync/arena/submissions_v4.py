"""v4.6 handlers: the caller, challenges, the leaderboard, and submissions themselves.

Shapes follow ``mlarena-sdk==4.6.0`` (see ``shapes_v4``); files, deploys and runs are in
``files_v4``, the route table in ``routes_v4``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from mlarena_sync.arena import board_v4
from mlarena_sync.arena import shapes_v4 as shapes
from mlarena_sync.arena.access_v4 import (
    block,
    challenge_for,
    owner,
    participant,
    quota,
    reader,
    valid_name,
)
from mlarena_sync.arena.auth import require, viewer
from mlarena_sync.arena.errors import NotFound, Refused
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.http import json_response
from mlarena_sync.arena.model import DELETED, Agent
from mlarena_sync.arena.queries import games_for

# ---- account and challenges -----------------------------------------------------------


def current_user(host: ArenaHost, request: Request) -> Response:
    user = require(request, host.store.seed, None)
    return json_response(shapes.current_user(user))


def challenges(host: ArenaHost, request: Request) -> Response:
    user = viewer(request, host.store.seed)
    uid = user.id if user else None
    comps = [c for c in host.store.seed.competitions if c.is_public or c.owner_id == uid]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = min(100, max(1, request.args.get("per_page", 24, type=int) or 24))
    chunk = comps[(page - 1) * per_page : page * per_page]
    return json_response(
        {
            "items": [shapes.challenge_row(c) for c in chunk],
            "metadata": {
                "page": page,
                "per_page": per_page,
                "total": len(comps),
                "pages": max(1, -(-len(comps) // per_page)),
                "has_next": page * per_page < len(comps),
            },
        }
    )


def challenge(host: ArenaHost, request: Request, cid: int) -> Response:
    user = viewer(request, host.store.seed)
    comp = challenge_for(host, cid, user.id if user else None)
    return json_response(shapes.challenge_detail(comp, host.store.seed))


def leaderboard(host: ArenaHost, request: Request, cid: int) -> Response:
    user = viewer(request, host.store.seed)
    uid = user.id if user else None
    comp = challenge_for(host, cid, uid)
    return json_response(board_v4.envelope(host.store, comp, uid, request.args))


# ---- submissions ----------------------------------------------------------------------


def my_submissions(host: ArenaHost, request: Request) -> Response:
    user = participant(host, request)
    store = host.store
    with store.lock:
        mine = [a for a in store.agents.values() if a.owner_id == user.id and a.status != DELETED]
        rows = [_mine_row(host, a) for a in sorted(mine, key=lambda a: a.id, reverse=True)]
        limits = quota(host, user.id)
    return json_response(
        {"submissions": rows, "started_submissions_count": len(rows), "deployment_limits": limits}
    )


def _mine_row(host: ArenaHost, agent: Agent) -> dict[str, Any]:
    comp = host.store.seed.competition_of(agent)
    games = games_for(host.store, agent.id)
    return {
        "id": agent.id,
        "submission_name": agent.name,
        "challenge_id": comp.id,
        "challenge_name": comp.name,
        "rank": board_v4.rank_of(host.store, agent),
        "created_at_ts": shapes.ts(agent.created_at),
        "challenge_start_date_ts": None,
        "last_end_run_ts": shapes.ts(games[0].created_at) if games else None,
        **block(host, agent),
    }


def create_submission(host: ArenaHost, request: Request, cid: int) -> Response:
    user = participant(host, request)
    comp = challenge_for(host, cid, user.id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refused('Send a JSON body {"submission_name": ...}')
    name = valid_name(body.get("submission_name"))
    copy_from = body.get("copy_from_submission_id")
    if copy_from is not None:
        if not isinstance(copy_from, int) or isinstance(copy_from, bool):
            raise Refused("copy_from_submission_id must be an integer")
        source = host.store.agents.get(copy_from)
        if source is None or source.owner_id != user.id or source.status == DELETED:
            raise NotFound("Source submission not found")
    # v4.6 creates an empty submission: the template comes back as text, for the client
    agent = host.store.create_agent(user.id, comp, name, copy_from, with_template=False)
    template = None if copy_from is not None or comp.kind == "file" else comp.agent_template
    return json_response(
        {
            "message": "Submission created",
            "submission_id": agent.id,
            "submission_name": agent.name,
            "challenge_id": comp.id,
            "validation_message": agent.last_status_message,
            "template_source": template,
            **block(host, agent),
        },
        201,
    )


def set_agent_runtime(host: ArenaHost, request: Request, sid: int) -> Response:
    agent = owner(host, request, sid)
    seed = host.store.seed
    comp = seed.competition_of(agent)
    if comp.kind == "file":
        raise Refused("A file challenge runs no agent container: it takes no runtime")
    body = request.get_json(silent=True)
    rid = body.get("docker_image_agent_runtime_id") if isinstance(body, dict) else None
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise Refused('Send JSON {"docker_image_agent_runtime_id": <int>}')
    runtime = seed.runtime(rid)
    if runtime is None or runtime.engine != comp.engine:
        raise Refused(
            f"Runtime {rid} is not offered on this challenge: pick one of "
            "challenge()['runtime_options']"
        )
    with host.store.lock:
        agent.runtime_id = rid
        host.store.save()
    return json_response(shapes.runtime_json(runtime))


def submission(host: ArenaHost, request: Request, sid: int) -> Response:
    _, agent, role = reader(host, request, sid)
    return json_response(_detail(host, agent, role))


def _detail(host: ArenaHost, agent: Agent, role: str) -> dict[str, Any]:
    store = host.store
    seed = store.seed
    with store.lock:
        comp = seed.competition_of(agent)
        user = seed.user_by_id(agent.owner_id)
        team = seed.team_of(agent.owner_id, agent.competition_id)
        dep = store.deployments.get(agent.latest_deploy_id or -1)
        games = games_for(store, agent.id)
        runtime = seed.runtime(agent.runtime_id) if comp.kind != "file" else None
        failure = next((g for g in games[:1] if g.outcome == "error"), None)
        return {
            "id": agent.id,
            "challenge_id": agent.competition_id,
            "submission_name": agent.name,
            "created_at_ts": shapes.ts(agent.created_at),
            "is_public": agent.is_public,
            **block(host, agent),
            "owner": {
                "user_id": agent.owner_id,
                "username": user.username if user else None,
                "avatar_key": None,
            },
            "team": None
            if team is None
            else {
                "id": team.id,
                "name": team.name,
                "members": [
                    {"id": m["user_id"], "username": m["username"], "avatar_key": None}
                    for m in board_v4.members(seed, team.member_ids)
                ],
            },
            "viewer_role": role,
            "agent_runtime": None if runtime is None else shapes.runtime_json(runtime),
            "latest_deploy": None if dep is None else shapes.deploy_row(dep),
            "queue_info": shapes.queue_info(store, agent),
            "score": agent.mean_reward,
            "score_ci95": None,
            "metrics": None if agent.mean_reward is None else {comp.metric_key: agent.mean_reward},
            "metrics_window": None,
            "number_of_runs": len(games),
            "last_end_run_ts": shapes.ts(games[0].created_at) if games else None,
            "action_time_max_sec": None,
            "agent_metric_total_ram_max_bytes": None,
            "agent_metric_vram_max_bytes": None,
            "latest_run_failure": None
            if failure is None
            else {
                "simulation_result_id": failure.id,
                "created_at_ts": shapes.ts(failure.created_at),
                "job_status": "completed",
                "job_error_type": None,
                "env_error_type": None,
                "agent_error_type": shapes.AGENT_ERROR,
                "agent_error_message": (dep.failure_message if dep else None),
            },
        }


def update_submission(host: ArenaHost, request: Request, sid: int) -> Response:
    agent = owner(host, request, sid)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not ({"submission_name", "is_public"} & body.keys()):
        raise Refused("Send submission_name and/or is_public")
    name = valid_name(body["submission_name"]) if "submission_name" in body else None
    public = body.get("is_public")
    if "is_public" in body and not isinstance(public, bool):
        raise Refused("is_public must be true or false")
    with host.store.lock:
        if name is not None:
            agent.name = name
        if isinstance(public, bool):
            agent.is_public = public
        host.store.save()
    return json_response(_detail(host, agent, "owner"))


def copyable_submissions(host: ArenaHost, request: Request) -> Response:
    """Your submissions that can seed a new one (``copy_from_submission_id``)."""
    user = participant(host, request)
    store = host.store
    with store.lock:
        mine = [a for a in store.agents.values() if a.owner_id == user.id and a.status != DELETED]
        rows = [
            {
                "id": a.id,
                "submission_name": a.name,
                "challenge_id": a.competition_id,
                "challenge_name": store.seed.competition_of(a).name,
                **block(host, a),
            }
            for a in sorted(mine, key=lambda a: a.id, reverse=True)
        ]
    return json_response({"submissions": rows})
