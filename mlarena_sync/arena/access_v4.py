"""Who may read or change a v4.6 submission, and the pieces every v4.6 handler shares.

Readers of a submission are its owner and the owner's teammates on the challenge
(``viewer_role`` ``owner`` / ``teammate``; ``public`` when it is published). Only the owner
writes: anyone else gets the 404 of a submission that is not theirs, as the SDK documents for
``update_submission``. A deleted submission is readable by them, never changed (409).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from mlarena_sync.arena import board_v4
from mlarena_sync.arena import shapes_v4 as shapes
from mlarena_sync.arena.auth import V4_SCOPE_ERROR, require
from mlarena_sync.arena.errors import Conflict, NotFound, Refused
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.model import DELETED, Agent, Competition, User
from mlarena_sync.arena.quotas import deployment_limits

MAX_NAME = 40


def participant(host: ArenaHost, request: Request) -> User:
    """The caller of a participant route: a ``user``-scope key."""
    return require(request, host.store.seed, "user", scope_error=V4_SCOPE_ERROR)


def challenge_for(host: ArenaHost, cid: int, user_id: int | None) -> Competition:
    comp = host.store.seed.visible_competition(cid, user_id)
    if comp is None:
        raise NotFound("Challenge not found")
    return comp


def reader(
    host: ArenaHost, request: Request, sid: int, cid: int | None = None
) -> tuple[User, Agent, str]:
    """``(caller, submission, viewer_role)``; 404 when the caller may not read it."""
    user = participant(host, request)
    agent = host.store.agents.get(sid)
    role = None if agent is None else board_v4.reads(host.store.seed, agent, user.id)
    if agent is None or role is None:
        raise NotFound("Submission not found")
    if cid is not None and agent.competition_id != cid:
        raise NotFound("Submission not found in this challenge")
    return user, agent, role


def owner(host: ArenaHost, request: Request, sid: int, cid: int | None = None) -> Agent:
    """The caller's own, not deleted, submission: the only one they may change."""
    _, agent, role = reader(host, request, sid, cid)
    if role != "owner":
        raise NotFound("Submission not found")
    if agent.status == DELETED:
        raise Conflict("Cannot change a deleted submission")
    return agent


def block(host: ArenaHost, agent: Agent) -> dict[str, Any]:
    return shapes.status_block(agent, host.put_during_deploy_policy())


def valid_name(value: Any) -> str:
    """A submission name: 1 to 40 characters on one line, without ``<`` or ``>``."""
    if not isinstance(value, str) or not value.strip():
        raise Refused("submission_name is required (a non-empty string)")
    name = value.strip()
    if len(name) > MAX_NAME or any(c in name for c in "<>\r\n"):
        raise Refused(f"submission_name must be 1 to {MAX_NAME} characters, one line, no < >")
    return name


def quota(host: ArenaHost, user_id: int) -> dict[str, Any]:
    """The caller's ``deployment_limits`` block (snake_case in v0 already)."""
    store = host.store
    return deployment_limits(store.deployments.values(), user_id, store.clock(), host.deploy_limit)
