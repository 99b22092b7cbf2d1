"""A pytest plugin: every event the code emits during the test session, checked against
``docs/events.md`` at the end (registered by the root conftest).

What is recorded: each event that reaches the CLI's :class:`~mlarena_sync.cli.output.Output`
(``emit``/``event``/``warning``/``result``/``json_line``, and the same methods of its test
subclasses such as ``helpers.events.EventRecorder``), and each structlog record of a configured
run (the ``--json`` lines of code that logs directly: ``api_request``, ``deploy_reply_lost``...),
through a processor put first in every ``structlog.configure`` call. Wrapped, never replaced:
the events go on as before.

Only events emitted by ``mlarena_sync`` code count: a test that feeds an Output an event of its
own (``out.event("x")``) is not the product speaking. At the end, an event the page does not
document, a field its table does not list, or a level its section does not name fails the run
(exit status 1) with a report listing each, with where it came from.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import pytest
import structlog

from helpers.events_doc import DOC, EventsDoc, load

__all__ = ["EventCatalog", "pytest_configure"]

#: Modules between the product's call and the recorder (skipped to find who emitted).
_RELAYS = (
    "structlog",
    "logging",
    "functools",
    "mlarena_sync.cli.output",
    "mlarena_sync.cli.human",
    "mlarena_sync.events",
    "helpers.events",
    "helpers.event_catalog",
)
_METHODS = ("emit", "event", "warning", "result")
_LEVEL_OF = {"event": "info", "warning": "warning", "result": "info", "warn": "warning"}
_NOT_FIELDS = {"event", "level", "timestamp"}
_WRAPPED = "__event_catalog_wrapped__"


def _origin(frame: FrameType | None) -> str | None:
    """``module:line`` of the first caller that is no relay, when it is product code."""
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(_RELAYS):
            if module.startswith("mlarena_sync"):
                return f"{module}:{frame.f_lineno}"
            return None
        frame = frame.f_back
    return None


@dataclass
class EventCatalog:
    """The events seen: (name, level, fields) → the first place that emitted it."""

    seen: dict[tuple[str, str, frozenset[str]], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    problems: list[str] = field(default_factory=list)

    def record(self, name: object, level: str, fields: Iterable[object]) -> None:
        if not isinstance(name, str):
            return
        origin = _origin(sys._getframe(1))
        if origin is None:
            return
        keys = frozenset(str(k) for k in fields) - _NOT_FIELDS if fields else frozenset()
        level = "info" if level == "result" else _LEVEL_OF.get(level, level)
        with self.lock:
            self.seen.setdefault((name, level, keys), origin)

    def check(self, doc: EventsDoc) -> list[str]:
        """What the page does not say about the events seen, one line each."""
        out: list[str] = []
        for (name, level, keys), origin in sorted(self.seen.items(), key=str):
            if name not in doc.events:
                out.append(f"event `{name}` ({origin}) has no section in {DOC.name}")
                continue
            extra = sorted(keys - doc.allowed(name))
            if extra:
                out.append(f"`{name}` ({origin}): fields {extra} not in its table")
            if level not in doc.events[name].levels:
                out.append(f"`{name}` ({origin}): level {level!r} not in its section")
        return sorted(set(out))

    # ------------------------------------------------------------------ hooks
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The test subclasses of Output exist now (their modules are imported): wrap them."""
        from mlarena_sync.cli.output import Output

        pending: list[type] = [Output]
        while pending:
            cls = pending.pop()
            self.wrap_class(cls)
            pending.extend(cls.__subclasses__())

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.seen:
            return
        self.problems = self.check(load())
        if self.problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.problems:
            return
        terminalreporter.section(f"events not documented in docs/{DOC.name}", red=True)
        for line in self.problems:
            terminalreporter.line(line, red=True)
        terminalreporter.line(
            f"{len(self.problems)} problem(s): document them in docs/{DOC.name} (the test run "
            "fails until then)",
            red=True,
        )

    # ------------------------------------------------------------------ wrapping
    def wrap_class(self, cls: type) -> None:
        for method in (*_METHODS, "json_line"):
            original = cls.__dict__.get(method)
            if original is None or getattr(original, _WRAPPED, False):
                continue
            wrapper = self._json_line(original) if method == "json_line" else None
            setattr(cls, method, wrapper or self._emitter(method, original))

    def _emitter(self, method: str, original: Callable[..., Any]) -> Callable[..., Any]:
        catalog = self

        @functools.wraps(original)
        def wrapper(out: Any, event: str, /, *args: Any, **fields: Any) -> Any:
            level = str(fields.get("level", "info")) if method == "emit" else method
            named = {k for k in fields if k != "level"} | ({"text"} if args else set())
            catalog.record(event, level, named)
            return original(out, event, *args, **fields)

        setattr(wrapper, _WRAPPED, True)
        return wrapper

    def _json_line(self, original: Callable[..., Any]) -> Callable[..., Any]:
        catalog = self

        @functools.wraps(original)
        def wrapper(out: Any, obj: dict[str, Any]) -> Any:
            catalog.record(obj.get("event"), str(obj.get("level", "info")), obj)
            return original(out, obj)

        setattr(wrapper, _WRAPPED, True)
        return wrapper

    def processor(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """First structlog processor of every configured run: records, changes nothing."""
        self.record(event_dict.get("event"), method, event_dict)
        return event_dict

    def wrap_structlog(self) -> None:
        original = structlog.configure
        if getattr(original, _WRAPPED, False):
            return
        catalog = self

        @functools.wraps(original)
        def configure(*args: Any, **kwargs: Any) -> None:
            processors = kwargs.get("processors")
            if processors is not None:
                kwargs["processors"] = [catalog.processor, *processors]
            original(*args, **kwargs)

        setattr(configure, _WRAPPED, True)
        structlog.configure = configure


def pytest_configure(config: pytest.Config) -> None:
    """Register the catalog (once per session) and wrap Output and structlog.configure."""
    if config.pluginmanager.has_plugin("event-catalog"):
        return
    catalog = EventCatalog()
    catalog.wrap_structlog()
    from mlarena_sync.cli.output import Output

    catalog.wrap_class(Output)
    config.pluginmanager.register(catalog, "event-catalog")
