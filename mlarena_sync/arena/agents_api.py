"""Handlers of ``/api/direct_attache_agents/...`` (user scope): agents, files, deploys."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from mlarena_sync.arena.auth import require
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.http import json_response, refuse
from mlarena_sync.arena.model import DELETED, DEPLOY_QUEUE, DEPLOYABLE, Agent
from mlarena_sync.arena.quotas import active_limits, deployment_limits
from mlarena_sync.arena.storage import unsafe_name_reason
from mlarena_sync.arena.views_v0 import agent_status, file_reply, games_of, latest_deploy


def _agent(host: ArenaHost, request: Request, cid: int | None, aid: int) -> tuple[int, Agent]:
    user = require(request, host.store.seed)
    return user.id, host.store.agent_of(user.id, aid, cid)


def create_agent(host: ArenaHost, request: Request, cid: int) -> Response:
    user = require(request, host.store.seed)
    comp = host.store.seed.visible_competition(cid, user.id)
    if comp is None:
        refuse(404, "Competition not found")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        refuse(400, 'Send a JSON body {"agent_name": ...}')
    name = body.get("agent_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        refuse(400, "agent_name is required (a non-empty string of at most 100 characters)")
    copy_from = body.get("copy_from_agent_id")
    if copy_from is not None and not isinstance(copy_from, int):
        refuse(400, "copy_from_agent_id must be an integer")
    agent = host.store.create_agent(user.id, comp, name.strip(), copy_from)
    return json_response(
        {
            "message": "Agent created",
            "attache_agent_id": agent.id,
            "agent_name": agent.name,
            "competition_id": comp.id,
            "status": agent.status,
        },
        201,
    )


def delete_agent(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    _, agent = _agent(host, request, cid, aid)
    if agent.status == DELETED:
        refuse(404, "Agent not found")
    host.store.delete_agent(agent)
    return json_response({"message": "Agent deleted", "attache_agent_id": agent.id})


def list_files(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    _, agent = _agent(host, request, cid, aid)
    return json_response({"files": host.store.files.listing(agent.id)})


def file_content(host: ArenaHost, request: Request, cid: int, aid: int, name: str) -> Response:
    _, agent = _agent(host, request, cid, aid)
    found, text = (False, None)
    if unsafe_name_reason(name) is None:
        found, text = host.store.files.text(agent.id, name)
    if not found:
        refuse(404, f"File '{name}' not found")
    if text is None:
        refuse(400, f"File '{name}' is binary (or over 1 MB): it has no text content")
    return json_response({"content": text})


def put_file(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    _, agent = _agent(host, request, cid, aid)
    comp = host.store.seed.competition_of(agent)
    store = host.store
    store.check_writable(agent)
    if host.put_during_deploy_policy() == "refuse":
        store.check_uploadable(agent, "an agent")
    upload = request.files.get("file")
    if upload is None:
        name = request.form.get("delete_file")
        if not name:
            refuse(400, "Send a multipart part named 'file', or the form field delete_file=<name>")
        if unsafe_name_reason(name) is not None or not store.files.delete(agent.id, name):
            refuse(404, f"File '{name}' not found")
        store.after_file_change(agent, comp)
        return json_response(file_reply(agent, f"File '{name}' deleted"))
    name = upload.filename or ""
    reason = unsafe_name_reason(name)
    if reason is not None:
        refuse(400, f"Refused file name {name!r}: {reason}")
    stream = upload.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size > comp.max_upload_size_bytes:
        refuse(
            413,
            f"File '{name}' is {size} bytes: the competition allows at most "
            f"{comp.max_upload_size_bytes} bytes per file",
        )
    files = store.files
    if not files.has(agent.id, name) and files.count(agent.id) + 1 > comp.max_upload_files:
        refuse(
            400,
            f"Too many files: the competition allows at most {comp.max_upload_files} files "
            "per agent; delete one first",
        )
    store.files.write_stream(agent.id, name, stream)
    store.after_file_change(agent, comp)
    return json_response(file_reply(agent, f"File '{name}' uploaded"))


def _limits(host: ArenaHost, agent: Agent, user_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    comp = host.store.seed.competition_of(agent)
    store = host.store
    limits = deployment_limits(
        store.deployments.values(), user_id, store.clock(), host.deploy_limit
    )
    active = active_limits(
        store.agents.values(),
        user_id,
        comp.id,
        comp.max_active_agents_per_participant,
        exclude=agent.id,
    )
    return limits, active


def deploy(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    user_id, agent = _agent(host, request, cid, aid)
    store = host.store
    with store.lock:
        if agent.status not in DEPLOYABLE:
            refuse(409, f"Cannot deploy agent in '{agent.status}' state")
        limits, active = _limits(host, agent, user_id)
        if not limits["can_deploy"]:
            refuse(
                409,
                f"Daily deployment limit ({limits['daily_deploy_limit']}) reached",
                deployment_limits=limits,
                active_submission_limits=active,
            )
        if not active["can_activate"]:
            refuse(
                409,
                f"Active agent limit ({active['max_active_agents_per_participant']}) reached "
                "for this competition: delete or replace one of your agents",
                deployment_limits=limits,
                active_submission_limits=active,
            )
        dep = store.enqueue_deploy(agent, user_id)
    hang = host.faults.hang_deploy
    if hang > 0:
        host.stopping.wait(hang)
    return json_response(
        {"message": "Deployment queued", "deployment_id": dep.id, "status": DEPLOY_QUEUE}, 202
    )


def deploy_status(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    user_id, agent = _agent(host, request, cid, aid)
    with host.store.lock:
        limits, active = _limits(host, agent, user_id)
        latest = latest_deploy(host.store, agent)
    return json_response(
        {"deploymentLimits": limits, "latestDeploy": latest, "activeSubmissionLimits": active}
    )


def status(host: ArenaHost, request: Request, cid: int, aid: int) -> Response:
    _, agent = _agent(host, request, cid, aid)
    return json_response(agent_status(host.store, agent))


def games(host: ArenaHost, request: Request, aid: int) -> Response:
    _, agent = _agent(host, request, None, aid)
    comp = host.store.seed.competition_of(agent)
    base = request.host_url.rstrip("/")
    return json_response(
        {
            "games": games_of(host.store, agent, base),
            "competition_context": {
                "competition_id": comp.id,
                "competition_name": comp.name,
                "engine": comp.engine,
                "agent_id": agent.id,
                "agent_name": agent.name,
            },
        }
    )


def runtime_options(host: ArenaHost, request: Request, cid: int) -> Response:
    user = require(request, host.store.seed)
    comp = host.store.seed.visible_competition(cid, user.id)
    if comp is None:
        refuse(500, "Failed to fetch runtime options")
    return json_response(
        [rt.to_json() for rt in host.store.seed.runtimes if rt.engine == comp.engine]
    )


def agent_runtime(host: ArenaHost, request: Request, aid: int) -> Response:
    _, agent = _agent(host, request, None, aid)
    runtime = host.store.seed.runtime(agent.runtime_id)
    assert runtime is not None
    return json_response({**runtime.to_json(), "attache_agent_id": agent.id})


def set_agent_runtime(host: ArenaHost, request: Request, aid: int) -> Response:
    _, agent = _agent(host, request, None, aid)
    body = request.get_json(silent=True)
    rid = body.get("docker_image_agent_runtime_id") if isinstance(body, dict) else None
    if not isinstance(rid, int) or isinstance(rid, bool):
        refuse(400, 'Send JSON {"docker_image_agent_runtime_id": <int>}')
    runtime = host.store.seed.runtime(rid)
    if runtime is None:
        refuse(404, f"Runtime {rid} not found")
    comp = host.store.seed.competition_of(agent)
    if runtime.engine != comp.engine:
        refuse(
            400,
            f"Runtime {rid} ({runtime.language}/{runtime.framework}) is for the "
            f"'{runtime.engine}' engine; this competition runs '{comp.engine}': "
            "pick one from runtime_options",
        )
    with host.store.lock:
        agent.runtime_id = rid
        host.store.save()
    return json_response({**runtime.to_json(), "attache_agent_id": agent.id})
