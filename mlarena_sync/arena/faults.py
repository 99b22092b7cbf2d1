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


@dataclass
class DropRule:
    count: int
    route: str | None


def route_matches(selector: str | None, key: str, endpoint: str) -> bool:
    """``selector`` names a route as ``"PUT /api/.../deploy"``, ``"/api/.../deploy"`` or
    its endpoint name (``"deploy"``); None matches every route."""
    if selector is None:
        return True
    template = key.split(" ", 1)[-1]
    return selector in (key, template, endpoint)


_Rule = TypeVar("_Rule", FailRule, DropRule)


def _take(rules: list[_Rule], key: str, endpoint: str) -> tuple[_Rule | None, list[_Rule]]:
    """Use up one count of the first rule matching the request: ``(that rule or None, the rules
    still to apply)``."""
    for rule in rules:
        if rule.count > 0 and route_matches(rule.route, key, endpoint):
            rule.count -= 1
            return rule, [r for r in rules if r.count > 0]
    return None, rules


class Faults:
    """Thread-safe fault settings of one fake arena (only ``/api`` routes are affected).

    - ``latency``: seconds added before every request is handled.
    - ``fail_next(n, status=503, retry_after=None, route=None)``: the next ``n`` matching
      requests answer ``status`` with ``{"error": "Injected fault"}`` (and ``Retry-After``).
    - ``hang_deploy``: seconds the deploy route sleeps *after* the deploy took effect.
    - ``drop_next(n, route=None)``: the next ``n`` matching requests get their connection
      closed without any reply.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0
        self.hang_deploy = 0.0
        self._fails: list[FailRule] = []
        self._drops: list[DropRule] = []

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        retry_after: float | None = None,
        route: str | None = None,
    ) -> None:
        with self._lock:
            self._fails.append(FailRule(count, status, retry_after, route))

    def drop_next(self, count: int, *, route: str | None = None) -> None:
        with self._lock:
            self._drops.append(DropRule(count, route))

    def clear(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.hang_deploy = 0.0
            self._fails.clear()
            self._drops.clear()

    def take_failure(self, key: str, endpoint: str) -> FailRule | None:
        """Consume one injected failure matching this request, if any."""
        with self._lock:
            rule, self._fails = _take(self._fails, key, endpoint)
            return rule

    def take_drop(self, key: str, endpoint: str) -> bool:
        """Consume one injected drop matching this request; True if there was one."""
        with self._lock:
            rule, self._drops = _take(self._drops, key, endpoint)
            return rule is not None

    def has_drops(self) -> bool:
        with self._lock:
            return bool(self._drops)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self.latency,
                "hang_deploy": self.hang_deploy,
                "fail_next": [vars(r).copy() for r in self._fails],
                "drop_next": [vars(r).copy() for r in self._drops],
            }

    def apply(self, spec: dict[str, Any]) -> None:
        """Set faults from a JSON object (the ``/_arena/faults`` control route).

        Keys: ``latency`` (s), ``hang_deploy`` (s), ``fail_next`` (``{"count", "status",
        "retry_after", "route"}``), ``drop_next`` (``{"count", "route"}``), ``clear`` (bool).
        """
        if spec.get("clear"):
            self.clear()
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
            )
        drop = spec.get("drop_next")
        if isinstance(drop, dict):
            self.drop_next(int(drop.get("count", 1)), route=drop.get("route"))


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
