"""Fixtures of the watch tests (helpers in ``_harness``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlarena_sync.arena import FakeArena
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.commands.common import Workspace
from mlarena_sync.commands.watch import watch
from mlarena_sync.config.model import load_config
from mlarena_sync.store.state import StateStore
from mlarena_sync.watch.loop import WatchOptions
from mlarena_sync.watch.source import ChangeSource

from ._harness import Project, RecordingOutput, WatchRun


@pytest.fixture
def start_watch() -> Iterator[Callable[..., WatchRun]]:
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
        out = RecordingOutput()
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

        def target_fn() -> None:
            try:
                run.code.append(watch(ws, stop=stop, options=options, source=source))
            except BaseException as exc:  # reported by check_alive / finish
                run.errors.append(exc)

        run.thread = threading.Thread(target=target_fn, name="watch-under-test", daemon=True)
        run.thread.start()
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop.set()
        run.thread.join(15)
