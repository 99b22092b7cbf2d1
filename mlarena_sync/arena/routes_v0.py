"""The v0 generation's route table (``/api/direct_attache_agents``, ``/api/competitions``).

The v0 API as api-v0.md describes it; the agent routes live in ``agents_api``, the shapes
only v0 serves in ``views_v0``. Domain errors answer the statuses of ``errors.DEFAULT_STATUS``.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from mlarena_sync.arena import agents_api
from mlarena_sync.arena.auth import viewer
from mlarena_sync.arena.errors import DEFAULT_STATUS, DomainError
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.http import json_response, refuse
from mlarena_sync.arena.table import Route, RouteTable
from mlarena_sync.arena.views_v0 import leaderboard_rows

AGENTS = "/api/direct_attache_agents"
ONE_AGENT = AGENTS + "/competition/<int:cid>/<int:aid>"
STATUS: dict[type[DomainError], int] = dict(DEFAULT_STATUS)


# ---- public routes --------------------------------------------------------------------


def competitions(host: ArenaHost, request: Request) -> Response:
    args = request.args
    items = [c for c in host.store.seed.competitions if c.is_public]
    q = args.get("q", "").strip().lower()
    if q:
        items = [c for c in items if q in c.name.lower() or q in c.description.lower()]
    tags = {t for t in args.get("tags", "").split(",") if t}
    if tags:
        items = [c for c in items if tags & set(c.tags)]
    if args.get("status") and args["status"] != "started":
        items = []
    page = max(1, args.get("page", 1, type=int) or 1)
    per_page = min(100, max(1, args.get("per_page", 24, type=int) or 24))
    chunk = items[(page - 1) * per_page : page * per_page]
    return json_response(
        {
            "items": [c.summary() for c in chunk],
            "metadata": {
                "page": page,
                "per_page": per_page,
                "total": len(items),
                "pages": max(1, -(-len(items) // per_page)),
                "has_next": page * per_page < len(items),
            },
        }
    )


def competition(host: ArenaHost, request: Request, cid: int) -> Response:
    user = viewer(request, host.store.seed)
    comp = host.store.seed.visible_competition(cid, user.id if user else None)
    if comp is None:
        refuse(404, "Competition not found")
    return json_response(comp.detail())


def leaderboard(host: ArenaHost, request: Request, cid: int) -> Response:
    user = viewer(request, host.store.seed)
    viewer_id = user.id if user else None
    if host.store.seed.visible_competition(cid, viewer_id) is None:
        refuse(500, "Failed to fetch leaderboard")
    return json_response(leaderboard_rows(host.store, cid, viewer_id))


ROUTES: list[Route] = [
    ("/api/competitions/", "competitions", ("GET",), competitions),
    ("/api/competitions/<int:cid>", "competition", ("GET",), competition),
    ("/api/leaderboard/competition/<int:cid>", "leaderboard", ("GET",), leaderboard),
    (AGENTS + "/competition/<int:cid>", "create_agent", ("POST",), agents_api.create_agent),
    (ONE_AGENT, "delete_agent", ("DELETE",), agents_api.delete_agent),
    (ONE_AGENT + "/file", "list_files", ("GET",), agents_api.list_files),
    (ONE_AGENT + "/file", "put_file", ("PUT",), agents_api.put_file),
    (ONE_AGENT + "/file/<path:name>/content", "file_content", ("GET",), agents_api.file_content),
    (ONE_AGENT + "/deploy", "deploy", ("PUT",), agents_api.deploy),
    (ONE_AGENT + "/deploy", "deploy_status", ("GET",), agents_api.deploy_status),
    (ONE_AGENT + "/status", "status", ("GET",), agents_api.status),
    (AGENTS + "/agent/<int:aid>/games", "games", ("GET",), agents_api.games),
    (
        AGENTS + "/runtime_options/<int:cid>",
        "runtime_options",
        ("GET",),
        agents_api.runtime_options,
    ),
    (AGENTS + "/agent_runtime/<int:aid>", "agent_runtime", ("GET",), agents_api.agent_runtime),
    (
        AGENTS + "/agent_runtime/<int:aid>",
        "set_agent_runtime",
        ("PUT",),
        agents_api.set_agent_runtime,
    ),
]

TABLE = RouteTable("v0", ROUTES, STATUS)
