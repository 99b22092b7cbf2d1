"""The WSGI application: one generation's route table, counters, injected faults, game logs.

The generation (``table.RouteTable``) decides which routes exist and which status each domain
error answers; everything else (faults, maintenance, counting, logging) is shared, so every
knob works the same in both generations.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import structlog
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from mlarena_sync.arena import control
from mlarena_sync.arena.errors import DomainError, status_for
from mlarena_sync.arena.faults import FailRule, TrickleRule
from mlarena_sync.arena.host import ArenaHost
from mlarena_sync.arena.http import json_response, refuse
from mlarena_sync.arena.table import Handler, Route, RouteTable

log = structlog.get_logger(__name__)


def game_log(host: ArenaHost, request: Request, gid: int) -> Response:
    text = host.store.game_log(gid, request.args.get("sig", ""))
    if text is None:
        refuse(403, "Invalid or expired signature")
    return Response(text, mimetype="text/plain")


SHARED_ROUTES: list[Route] = [
    ("/_games/<int:gid>/log", "game_log", ("GET",), game_log),
    ("/_arena/<path:action>", "control", ("GET", "POST", "DELETE"), control.handle),
]


def route_key(rule: str, method: str) -> str:
    """``"PUT /api/direct_attache_agents/competition/{cid}/{aid}/deploy"``."""
    return f"{method} " + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


class ArenaApp:
    """WSGI entry point; every request is counted by route and logged (without secrets)."""

    def __init__(self, host: ArenaHost, table: RouteTable) -> None:
        self.host = host
        self.table = table
        self.handlers: dict[str, Handler] = {}
        self.keys: dict[str, str] = {}
        rules = []
        for path, endpoint, methods, handler in table.routes + SHARED_ROUTES:
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
            response = self.handlers[endpoint](self.host, request, **values)
            if request.path.startswith("/api/"):
                late = self.host.faults.take_failure(key, endpoint, after=True)
                if late is not None:  # handled (it took effect); the reply is replaced
                    return _injected(late)
                slow = self.host.faults.take_trickle(key, endpoint)
                if slow is not None:
                    return _trickled(response, slow, self.host.stopping)
            return response
        except DomainError as exc:
            status = status_for(exc, self.table.status)
            return json_response({"error": exc.message, **exc.extra}, status)
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
        """Injected latency, maintenance (503 on every route), then ``fail_next`` rules."""
        faults = self.host.faults
        if faults.latency > 0:
            self.host.stopping.wait(faults.latency)
        message = faults.maintenance
        if message is not None:
            return json_response({"error": message, "maintenance_mode": True}, 503)
        rule = faults.take_failure(key, endpoint)
        return None if rule is None else _injected(rule)


def _trickled(response: Response, rule: TrickleRule, stopping: threading.Event) -> Response:
    """``response`` with its body sent ``rule.size`` bytes every ``rule.every`` seconds (its
    Content-Length kept: the client waits for the rest). Stops when the arena stops."""
    body = response.get_data()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), rule.size):
            if start and stopping.wait(rule.every):
                return
            yield body[start : start + rule.size]

    slow = Response(chunks(), status=response.status_code, headers=list(response.headers.items()))
    slow.direct_passthrough = True
    slow.headers["Content-Length"] = str(len(body))
    return slow


def _injected(rule: FailRule) -> Response:
    """The reply of an injected failure: ``{"error": "Injected fault"}``, or the rule's body."""
    headers = {}
    if rule.retry_after is not None:
        headers["Retry-After"] = f"{rule.retry_after:g}"
    if rule.body is not None:
        return Response(rule.body, status=rule.status, headers=headers, mimetype="text/html")
    return json_response({"error": "Injected fault"}, rule.status, headers)
