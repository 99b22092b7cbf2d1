"""Fault injection and request counters: the knobs tests and benchmarks turn."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass
class FailRule:
    count: int
    status: int
    retry_after: float | None
    route: str | None
    #: True: the request is handled (it takes effect), then its reply is replaced.
    after: bool = False
    #: The body sent instead of ``{"error": "Injected fault"}`` (e.g. an unreadable 2xx).
    body: str | None = None


@dataclass
class DropRule:
    count: int
    route: str | None
    #: True: the request is handled (it takes effect), then the connection closed unanswered.
    after: bool = False


def route_matches(selector: str | None, key: str, endpoint: str) -> bool:
    """``selector`` names a route as ``"PUT /api/.../deploy"``, ``"/api/.../deploy"`` or
    its endpoint name (``"deploy"``); None matches every route."""
    if selector is None:
        return True
    template = key.split(" ", 1)[-1]
    return selector in (key, template, endpoint)


@dataclass
class TrickleRule:
    count: int
    route: str | None
    #: The reply's body is sent ``size`` bytes at a time, ``every`` seconds apart (after the
    #: status and headers, with its full Content-Length: the client keeps waiting for more).
    every: float = 5.0
    size: int = 8
    #: Always True: the request is handled (it takes effect) before its reply trickles.
    after: bool = True


_Rule = TypeVar("_Rule", FailRule, DropRule, TrickleRule)


def _take(
    rules: list[_Rule], key: str, endpoint: str, after: bool | None = False
) -> tuple[_Rule | None, list[_Rule]]:
    """Use up one count of the first rule matching the request (and ``after``, unless None):
    ``(that rule or None, the rules still to apply)``."""
    for rule in rules:
        if (
            rule.count > 0
            and (after is None or rule.after == after)
            and route_matches(rule.route, key, endpoint)
        ):
            rule.count -= 1
            return rule, [r for r in rules if r.count > 0]
    return None, rules


class Faults:
    """Thread-safe fault settings of one fake arena (only ``/api`` routes are affected).

    - ``latency``: seconds added before every request is handled.
    - ``fail_next(n, status=503, retry_after=None, route=None)``: the next ``n`` matching
      requests answer ``status`` with ``{"error": "Injected fault"}`` (and ``Retry-After``).
    - ``fail_next(..., after=True, body=None)``: the request is handled first (a deploy takes
      effect), then answered ``status`` (``body``, when given, instead of the JSON error: a
      gateway's 502/504 after the server took the request, or an unreadable 2xx).
    - ``hang_deploy``: seconds the deploy route sleeps *after* the deploy took effect.
    - ``drop_next(n, route=None)``: the next ``n`` matching requests get their connection
      closed without any reply; ``after=True``: handled first, then closed unanswered (a lost
      reply).
    - ``trickle_next(n, route=None, every=5.0, size=8)``: the next ``n`` matching requests are
      handled, then their reply's body is sent ``size`` bytes every ``every`` seconds (a server
      that never stalls long enough for a per-read timeout, yet never finishes).
    - ``maintenance``: None, or the admin's message: every ``/api`` route then answers 503
      ``{"error": message, "maintenance_mode": true}`` (the v4.6 SDK's ``MaintenanceError``).
    - ``put_during_deploy``: what a file PUT (or delete) gets while a deploy is queued or
      running: ``"cancel"`` (the deploy is cancelled, the file taken: v0), ``"refuse"`` (409,
      the status block says ``is_uploadable`` false), or None for the generation's default
      (v0: cancel, v4.6: refuse).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0
        self.hang_deploy = 0.0
        self.maintenance: str | None = None
        self.put_during_deploy: str | None = None
        self._fails: list[FailRule] = []
        self._drops: list[DropRule] = []
        self._trickles: list[TrickleRule] = []

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        retry_after: float | None = None,
        route: str | None = None,
        after: bool = False,
        body: str | None = None,
    ) -> None:
        with self._lock:
            self._fails.append(FailRule(count, status, retry_after, route, after, body))

    def drop_next(self, count: int, *, route: str | None = None, after: bool = False) -> None:
        with self._lock:
            self._drops.append(DropRule(count, route, after))

    def trickle_next(
        self, count: int, *, route: str | None = None, every: float = 5.0, size: int = 8
    ) -> None:
        if every <= 0 or size <= 0:
            raise ValueError("trickle_next: every and size must be positive")
        with self._lock:
            self._trickles.append(TrickleRule(count, route, float(every), int(size)))

    def take_trickle(self, key: str, endpoint: str) -> TrickleRule | None:
        """Consume one trickle rule matching this request; the rule, if there was one."""
        with self._lock:
            rule, self._trickles = _take(self._trickles, key, endpoint, None)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.hang_deploy = 0.0
            self.maintenance = None
            self.put_during_deploy = None
            self._fails.clear()
            self._drops.clear()
            self._trickles.clear()

    def take_failure(self, key: str, endpoint: str, *, after: bool = False) -> FailRule | None:
        """Consume one injected failure matching this request (before or after it is handled),
        if any."""
        with self._lock:
            rule, self._fails = _take(self._fails, key, endpoint, after)
            return rule

    def take_drop(self, key: str, endpoint: str) -> DropRule | None:
        """Consume one injected drop matching this request; the rule, if there was one."""
        with self._lock:
            rule, self._drops = _take(self._drops, key, endpoint, None)
            return rule

    def has_drops(self) -> bool:
        with self._lock:
            return bool(self._drops)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self.latency,
                "hang_deploy": self.hang_deploy,
                "maintenance": self.maintenance,
                "put_during_deploy": self.put_during_deploy,
                "fail_next": [vars(r).copy() for r in self._fails],
                "drop_next": [vars(r).copy() for r in self._drops],
                "trickle_next": [vars(r).copy() for r in self._trickles],
            }

    def apply(self, spec: dict[str, Any]) -> None:
        """Set faults from a JSON object (the ``/_arena/faults`` control route).

        Keys: ``latency`` (s), ``hang_deploy`` (s), ``fail_next`` (``{"count", "status",
        "retry_after", "route", "after", "body"}``), ``drop_next`` (``{"count", "route",
        "after"}``), ``trickle_next`` (``{"count", "route", "every", "size"}``), ``maintenance``
        (the message; ``true`` for a default one; ``null``/``false`` ends it),
        ``put_during_deploy`` (``"cancel"``, ``"refuse"`` or ``null``), ``clear`` (bool).
        """
        if spec.get("clear"):
            self.clear()
        if "maintenance" in spec:
            self.maintenance = _maintenance_message(spec["maintenance"])
        if "put_during_deploy" in spec:
            self.put_during_deploy = put_policy(spec["put_during_deploy"])
        if "latency" in spec:
            self.latency = float(spec["latency"])
        if "hang_deploy" in spec:
            self.hang_deploy = float(spec["hang_deploy"])
        fail = spec.get("fail_next")
        if isinstance(fail, dict):
            retry = fail.get("retry_after")
            self.fail_next(
                int(fail.get("count", 1)),
                int(fail.get("status", 503)),
                retry_after=None if retry is None else float(retry),
                route=fail.get("route"),
                after=bool(fail.get("after", False)),
                body=None if fail.get("body") is None else str(fail["body"]),
            )
        drop = spec.get("drop_next")
        if isinstance(drop, dict):
            self.drop_next(
                int(drop.get("count", 1)),
                route=drop.get("route"),
                after=bool(drop.get("after", False)),
            )
        trickle = spec.get("trickle_next")
        if isinstance(trickle, dict):
            self.trickle_next(
                int(trickle.get("count", 1)),
                route=trickle.get("route"),
                every=float(trickle.get("every", 5.0)),
                size=int(trickle.get("size", 8)),
            )


DEFAULT_MAINTENANCE = "ML Arena is under maintenance: back soon"
PUT_POLICIES = ("cancel", "refuse")


def _maintenance_message(value: Any) -> str | None:
    if value is None or value is False:
        return None
    if value is True:
        return DEFAULT_MAINTENANCE
    return str(value)


def put_policy(value: Any) -> str | None:
    """A valid ``put_during_deploy`` value; ValueError (a 400 on the control route) if not."""
    if value is None or value in PUT_POLICIES:
        return None if value is None else str(value)
    raise ValueError(f"put_during_deploy must be one of {PUT_POLICIES} or null, not {value!r}")


class Counters:
    """Requests seen per route (``"METHOD /template"`` → count), plus accepted connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self.connections = 0

    def hit(self, key: str) -> None:
        with self._lock:
            self._routes[key] += 1

    def connection(self) -> None:
        with self._lock:
            self.connections += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._routes)

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self.connections = 0
