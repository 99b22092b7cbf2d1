"""v4.6 handlers: a submission's files, deploys, runs, and its deletion.

The file PUT honours ``Faults.put_during_deploy``: refused with 409 while a deploy is in
flight (the v4.6 default; the status block then says ``is_uploadable`` false), or taken
and the deploy cancelled (v0's behaviour). It answers 200 even when validation rejects the
submission: the verdict is in ``status`` / ``validation_message``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from mlarena_sync.arena import shapes_v4 as shapes
from mlarena_sync.arena.access_v4 import block, owner, quota, reader
from mlarena_sync.arena.errors import Conflict, NotFound, Refused, TooLarge
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.http import json_response
from mlarena_sync.arena.model import DELETED, DEPLOYABLE, Agent
from mlarena_sync.arena.queries import games_for
from mlarena_sync.arena.quotas import active_limits
from mlarena_sync.arena.storage import unsafe_name_reason

MAX_RUNS_PAGE = 100


def list_files(host: ArenaHost, request: Request, cid: int, sid: int) -> Response:
    _, agent, _ = reader(host, request, sid, cid)
    comp = host.store.seed.competition_of(agent)
    return json_response({"files": shapes.file_rows(host.store, agent, comp)})


def file_content(host: ArenaHost, request: Request, cid: int, sid: int, name: str) -> Response:
    _, agent, _ = reader(host, request, sid, cid)
    found, text = (False, None)
    if unsafe_name_reason(name) is None:
        found, text = host.store.files.text(agent.id, name)  # under the store's lock
    if not found:
        raise NotFound(f"File '{name}' not found")
    if name.lower().endswith(".pdf"):
        text = None
    if text is None:
        raise Refused(f"File '{name}' is not served as text: download it instead")
    return json_response({"content": text})


def file_raw(host: ArenaHost, request: Request, cid: int, sid: int, name: str) -> Response:
    """The stored bytes as they are: the way to hash a remote binary."""
    _, agent, _ = reader(host, request, sid, cid)
    stored = host.store.files.open(agent.id, name) if unsafe_name_reason(name) is None else None
    if stored is None:
        raise NotFound(f"File '{name}' not found")
    return send_file(
        stored,
        request.environ,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=name,
        conditional=False,
        etag=False,
    )


def _check_put(host: ArenaHost, agent: Agent) -> None:
    """Refuse a file change the policy does not allow (409 with the status block)."""
    if host.put_during_deploy_policy() != "refuse":
        return
    try:
        host.store.check_uploadable(agent)
    except Conflict as exc:
        raise Conflict(exc.message, **block(host, agent)) from None


def _delete_file(host: ArenaHost, agent: Agent, name: str) -> str:
    if unsafe_name_reason(name) is not None or not host.store.files.delete(agent.id, name):
        raise NotFound(f"File '{name}' not found")
    return f"File '{name}' deleted"


def put_file(host: ArenaHost, request: Request, cid: int, sid: int) -> Response:
    agent = owner(host, request, sid, cid)
    store = host.store
    comp = store.seed.competition_of(agent)
    _check_put(host, agent)
    upload = request.files.get("file")
    if upload is None:
        name = request.form.get("delete_file")
        if not name:
            raise Refused("Send a multipart part named 'file', or the form field delete_file")
        message = _delete_file(host, agent, name)
    else:
        name = upload.filename or ""
        reason = unsafe_name_reason(name)
        if reason is not None:
            raise Refused(f"Refused file name {name!r}: {reason}")
        stream = upload.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > comp.max_upload_size_bytes:
            raise TooLarge(
                f"File '{name}' is {size} bytes: the challenge allows at most "
                f"{comp.max_upload_size_bytes} bytes per file"
            )
        files = store.files
        if not files.has(agent.id, name) and files.count(agent.id) + 1 > comp.max_upload_files:
            raise Refused(
                f"Too many files: the challenge allows at most {comp.max_upload_files} files "
                "per submission; delete one first"
            )
        files.write_stream(agent.id, name, stream)
        message = f"File '{name}' uploaded"
    store.after_file_change(agent, comp)
    return json_response(
        {
            "message": message,
            "submission_id": agent.id,
            "validation_message": agent.last_status_message,
            **block(host, agent),
        }
    )


def _active(host: ArenaHost, agent: Agent, exclude: int | None) -> dict[str, Any]:
    store = host.store
    comp = store.seed.competition_of(agent)
    return active_limits(
        store.agents.values(),
        agent.owner_id,
        comp.id,
        comp.max_active_agents_per_participant,
        exclude=exclude,
    )


def _limits(host: ArenaHost, agent: Agent) -> dict[str, Any]:
    """Both quota blocks; the count includes this submission when it holds a slot."""
    return {
        "deployment_limits": quota(host, agent.owner_id),
        "active_submission_limits": shapes.active_block(_active(host, agent, None)),
    }


def deploy(host: ArenaHost, request: Request, cid: int, sid: int) -> Response:
    agent = owner(host, request, sid, cid)
    store = host.store
    with store.lock:
        limits = _limits(host, agent)
        if agent.status not in DEPLOYABLE:
            raise Conflict(f"Cannot deploy a submission in '{agent.status}' state", **limits)
        quota_block = limits["deployment_limits"]
        if not quota_block["can_deploy"]:
            raise Conflict(
                f"Daily deployment limit ({quota_block['daily_deploy_limit']}) reached", **limits
            )
        # a redeploy keeps the slot this submission already holds
        if not _active(host, agent, agent.id)["can_activate"]:
            active = limits["active_submission_limits"]
            raise Conflict(
                f"Active submission limit ({active['max_active_submissions']}) reached for "
                "this challenge: delete or replace one of your submissions",
                **limits,
            )
        dep = store.enqueue_deploy(agent, agent.owner_id)
        reply = {"message": "Deployment queued", "deployment_id": dep.id, **block(host, agent)}
    hang = host.faults.hang_deploy
    if hang > 0:
        host.stopping.wait(hang)
    return json_response(reply, 202)


def deploy_status(host: ArenaHost, request: Request, cid: int, sid: int) -> Response:
    _, agent, _ = reader(host, request, sid, cid)
    with host.store.lock:
        return json_response(_limits(host, agent))


def deploys(host: ArenaHost, request: Request, sid: int) -> Response:
    _, agent, _ = reader(host, request, sid)
    with host.store.lock:
        rows = [d for d in host.store.deployments.values() if d.agent_id == agent.id]
        rows.sort(key=lambda d: d.id, reverse=True)
        return json_response({"deploys": [shapes.deploy_row(d) for d in rows]})


def _page_args(request: Request) -> tuple[int, int, int | None, bool | None]:
    """``(offset, limit, deploy_id, is_test)`` of ``/runs``; 400 when malformed."""
    args = request.args
    try:
        offset = int(args.get("offset", "0"))
        limit = int(args.get("limit", "20"))
        deploy_id = int(args["deploy_id"]) if "deploy_id" in args else None
    except ValueError:
        raise Refused("offset, limit and deploy_id must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_RUNS_PAGE:
        raise Refused(f"offset must be >= 0 and limit 1..{MAX_RUNS_PAGE}")
    raw_test = args.get("is_test")
    if raw_test not in (None, "true", "false"):
        raise Refused("is_test must be true or false")
    return offset, limit, deploy_id, None if raw_test is None else raw_test == "true"


def runs(host: ArenaHost, request: Request, sid: int) -> Response:
    """Newest first; this submission's row carries its ``agent_stdout_logs``."""
    _, agent, role = reader(host, request, sid)
    offset, limit, deploy_id, is_test = _page_args(request)
    store = host.store
    with store.lock:
        if deploy_id is not None:
            dep = store.deployments.get(deploy_id)
            if dep is None or dep.agent_id != agent.id:
                raise NotFound("Deploy attempt not found for this submission")
        games = [g for g in games_for(store, agent.id) if deploy_id in (None, g.deployment_id)]
        if is_test:  # every fake run is a deployment run: none are validation runs
            games = []
        comp = store.seed.competition_of(agent)
        user = store.seed.user_by_id(agent.owner_id)
        page = [shapes.game_run(g, agent, user, comp) for g in games[offset : offset + limit]]
    if role == "public":
        for run in page:
            for row in run["submission_results"]:
                row["agent_stdout_logs"] = row["agent_error_message"] = None
    return json_response(
        {
            "runs": page,
            "total": len(games),
            "retention_days": shapes.RETENTION_DAYS,
            "challenge_context": shapes.runs_context(comp),
        }
    )


def delete_submission(host: ArenaHost, request: Request, cid: int, sid: int) -> Response:
    _, agent, role = reader(host, request, sid, cid)
    if role != "owner" or agent.status == DELETED:
        raise NotFound("Submission not found")
    host.store.delete_agent(agent)
    return json_response({"message": "Submission deleted", "submission_id": agent.id})
