"""An in-process ``watch`` session in a thread, reporting to an :class:`EventRecorder` (the
``start_watch`` fixture of ``tests/e2e/watch``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlarena_sync.arena import FakeArena
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.commands.common import Workspace
from mlarena_sync.config.model import load_config
from mlarena_sync.store.state import StateStore
from mlarena_sync.watch.loop import WatchOptions
from mlarena_sync.watch.session import watch
from mlarena_sync.watch.source import ChangeSource

from .arena import remote_text
from .events import EventRecorder
from .project import Project
from .wait import hold, wait_until

COMPETITION = 1


@dataclass
class WatchRun:
    project: Project
    arena: FakeArena
    out: EventRecorder
    stop: threading.Event
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)
    code: list[int] = field(default_factory=list)

    def remote(self) -> dict[str, str | None]:
        aid = self.project.agent_id()
        assert aid is not None
        return remote_text(self.arena, self.arena.user_token, aid, COMPETITION)

    def wait_bound(self, timeout: float = 10) -> int:
        def bound() -> int | None:
            self.check_alive()
            return self.project.agent_id()

        aid: int = wait_until(bound, timeout, "the agent to be bound", tolerate=())
        return aid

    def wait_remote(self, name: str, content: str | None, timeout: float = 10) -> None:
        def ok() -> bool:
            self.check_alive()
            return self.remote().get(name, "<absent>") == content

        wait_until(ok, timeout, f"{name} to be {content!r} remotely", tolerate=())

    def hold(self, seconds: float) -> None:
        """Let ``seconds`` pass with the watch alive (for "nothing happens meanwhile")."""
        hold(seconds, self.check_alive)

    def check_alive(self) -> None:
        if self.errors:
            raise AssertionError(f"watch failed: {self.errors[0]!r}") from self.errors[0]

    def finish(self, timeout: float = 15) -> int:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the watch did not stop"
        self.check_alive()
        return self.code[0]


#: The ``start_watch`` fixture: ``start_watch(project, arena, token=, clock=, source=, **opts)``.
StartWatch = Callable[..., WatchRun]


@contextmanager
def watch_starter() -> Iterator[StartWatch]:
    """A ``start_watch`` function; every watch it started is stopped when the block ends."""
    runs: list[WatchRun] = []

    def start(
        project: Project,
        arena: FakeArena,
        token: str | None = None,
        clock: Clock | None = None,
        source: ChangeSource | None = None,
        **opts: Any,
    ) -> WatchRun:
        config = load_config(project.config)
        target = config.target(None)
        out = EventRecorder()
        ws = Workspace(
            config,
            target,
            token or arena.user_token,
            StateStore.for_config(config.path),
            out,
            clock or SYSTEM_CLOCK,
        )
        options = WatchOptions(**{"poll": 0.1, "backoff_base": 0.1, "backoff_cap": 0.5, **opts})
        stop = threading.Event()
        run = WatchRun(project, arena, out, stop, threading.Thread())
        out.check = run.check_alive

        def target_fn() -> None:
            try:
                run.code.append(watch(ws, stop=stop, options=options, source=source))
            except BaseException as exc:  # reported by check_alive / finish
                run.errors.append(exc)

        run.thread = threading.Thread(target=target_fn, name="watch-under-test", daemon=True)
        run.thread.start()
        runs.append(run)
        return run

    try:
        yield start
    finally:
        for run in runs:
            run.stop.set()
            run.thread.join(15)
