"""``/_arena/...``: the fake arena's control routes (loopback clients only).

| request | effect |
|---|---|
| ``GET /_arena/faults`` | current faults |
| ``POST /_arena/faults`` JSON | set faults, maintenance, put_during_deploy (``Faults.apply``) |
| ``DELETE /_arena/faults`` | clear faults |
| ``GET /_arena/counters`` | ``{"counters": {route: n}, "connections": n}`` |
| ``POST /_arena/counters/reset`` | zero the counters |
| ``POST /_arena/reset`` | fresh seeded store, no faults, counters zeroed |
| ``POST /_arena/browser_edit`` JSON ``{"agent_id"|"submission_id", "name", "content"}`` | edit |
| ``POST /_arena/deploy_limit`` JSON ``{"limit"}`` | daily deploy limit |
| ``POST /_arena/clock`` JSON ``{"offset_seconds"}`` | shift the arena's clock |
| ``POST /_arena/wait_idle`` JSON ``{"timeout"}`` | wait until no deploy is queued/running |
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from mlarena_sync.arena.http import json_response, refuse

if TYPE_CHECKING:
    from mlarena_sync.arena.host import ArenaHost


def is_loopback(remote_addr: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; False for anything else."""
    if not remote_addr:
        return False
    try:
        addr = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def _body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        refuse(400, "Send a JSON object")
    return body


def handle(host: ArenaHost, request: Request, action: str) -> Response:
    if not is_loopback(request.remote_addr):
        refuse(403, "The control routes answer loopback clients only")
    method = request.method
    try:
        return _dispatch(host, request, action.strip("/"), method)
    except (KeyError, TypeError, ValueError) as exc:
        refuse(400, f"Bad control request: {exc}")


def _dispatch(host: ArenaHost, request: Request, action: str, method: str) -> Response:
    if action == "faults":
        if method == "POST":
            host.faults.apply(_body(request))
        elif method == "DELETE":
            host.faults.clear()
        return json_response({"faults": host.faults.snapshot()})
    if action == "counters" and method == "GET":
        return json_response(
            {
                "counters": host.request_counters.snapshot(),
                "connections": host.request_counters.connections,
            }
        )
    if method != "POST":
        refuse(405, f"Use POST for /_arena/{action}")
    body = _body(request)
    if action == "counters/reset":
        host.reset_counters()
    elif action == "reset":
        host.reset()
    elif action == "browser_edit":
        sid = body["submission_id"] if "submission_id" in body else body["agent_id"]
        host.browser_edit(int(sid), str(body["name"]), str(body["content"]))
    elif action == "deploy_limit":
        host.set_deploy_limit(int(body["limit"]))
    elif action == "clock":
        host.set_clock_offset(float(body["offset_seconds"]))
    elif action == "wait_idle":
        idle = host.wait_deploys_idle(float(body.get("timeout", 10.0)))
        return json_response({"ok": True, "idle": idle})
    else:
        refuse(404, f"Unknown control route /_arena/{action}")
    return json_response({"ok": True})
