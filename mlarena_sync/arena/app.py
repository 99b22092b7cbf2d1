"""The WSGI application: routing, counters, injected faults, public routes, game logs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mlarena_sync.arena import agents_api, control, seed
from mlarena_sync.arena.auth import viewer
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.store import json_response, refuse

log = structlog.get_logger(__name__)

Handler = Callable[..., Response]
AGENTS = "/api/direct_attache_agents"
ONE_AGENT = AGENTS + "/competition/<int:cid>/<int:aid>"


def competitions(host: ArenaHost, request: Request) -> Response:
    args = request.args
    items = [c for c in seed.COMPETITIONS if c.is_public]
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
    user = viewer(request)
    comp = seed.visible_competition(cid, user.id if user else None)
    if comp is None:
        refuse(404, "Competition not found")
    return json_response(comp.detail())


def leaderboard(host: ArenaHost, request: Request, cid: int) -> Response:
    user = viewer(request)
    viewer_id = user.id if user else None
    if seed.visible_competition(cid, viewer_id) is None:
        refuse(500, "Failed to fetch leaderboard")
    return json_response(host.store.leaderboard(cid, viewer_id))


def game_log(host: ArenaHost, request: Request, gid: int) -> Response:
    text = host.store.game_log(gid, request.args.get("sig", ""))
    if text is None:
        refuse(403, "Invalid or expired signature")
    return Response(text, mimetype="text/plain")


ROUTES: list[tuple[str, str, tuple[str, ...], Handler]] = [
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
    ("/_games/<int:gid>/log", "game_log", ("GET",), game_log),
    ("/_arena/<path:action>", "control", ("GET", "POST", "DELETE"), control.handle),
]


def route_key(rule: str, method: str) -> str:
    """``"PUT /api/direct_attache_agents/competition/{cid}/{aid}/deploy"``."""
    return f"{method} " + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


class ArenaApp:
    """WSGI entry point; every request is counted by route and logged (without secrets)."""

    def __init__(self, host: ArenaHost) -> None:
        self.host = host
        self.handlers: dict[str, Handler] = {}
        self.keys: dict[str, str] = {}
        rules = []
        for path, endpoint, methods, handler in ROUTES:
            rules.append(Rule(path, endpoint=endpoint, methods=list(methods)))
            self.handlers[endpoint] = handler
            self.keys[endpoint] = route_key(path, methods[0])
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def route_of(self, method: str, path: str) -> tuple[str, str] | None:
        """``(key, endpoint)`` of the route a request goes to, None when unrouted."""
        try:
            endpoint, _ = self.url_map.bind("arena").match(path, method=method)
        except HTTPException:
            return None
        return self.key_for(str(endpoint), method), str(endpoint)

    def key_for(self, endpoint: str, method: str) -> str:
        key = self.keys[endpoint]
        if endpoint == "control":
            return f"{method} {key.split(' ', 1)[1]}"
        return key

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        try:
            response = self.dispatch(request)
        finally:
            request.close()  # uploaded parts live in temp files: release them now
        ms = (time.monotonic() - started) * 1000
        line = (
            f'{request.remote_addr} "{request.method} {request.path}" '
            f"{response.status_code} {ms:.0f}ms"
        )
        self.host.log_request(line)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            endpoint = str(endpoint)
            key = self.key_for(endpoint, request.method)
            if endpoint != "control":
                self.host.request_counters.hit(key)
            if request.path.startswith("/api/"):
                injected = self.inject(key, endpoint)
                if injected is not None:
                    return injected
            return self.handlers[endpoint](self.host, request, **values)
        except NotFound:
            return json_response({"error": "Not Found"}, 404)
        except MethodNotAllowed:
            return json_response({"error": "Method Not Allowed"}, 405)
        except HTTPException as exc:
            response = exc.get_response()
            if exc.response is None:  # a Werkzeug error (e.g. a bad form): JSON it
                return json_response({"error": exc.name}, exc.code or 500)
            return response
        except Exception:  # the emulator's own bug: answer like a server would
            log.exception("fake_arena_handler_crashed", path=request.path)
            return json_response({"error": "Internal Server Error"}, 500)

    def inject(self, key: str, endpoint: str) -> Response | None:
        faults = self.host.faults
        if faults.latency > 0:
            self.host.stopping.wait(faults.latency)
        rule = faults.take_failure(key, endpoint)
        if rule is None:
            return None
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        return json_response({"error": "Injected fault"}, rule.status, headers)
