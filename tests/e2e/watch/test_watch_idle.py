"""An idle watch costs (almost) nothing: the periodic rescan is local-first (stat only; the
server is asked only when something differs, or every ``remote_every`` seconds), and a stop
request wakes the blocked loop at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch
from structlog.testing import capture_logs

from mlarena_sync.arena import FakeArena
from mlarena_sync.watch.source import QueueChangeSource


@pytest.fixture
def logs() -> Iterator[list[dict[str, object]]]:
    with capture_logs() as captured:
        yield captured


def _local_rescans(logs: list[dict[str, object]]) -> int:
    return sum(1 for e in list(logs) if e.get("event") == "rescan_unchanged")


def test_rescan_of_an_unchanged_folder_sends_nothing_and_a_change_is_still_found(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch, logs: list[dict[str, object]]
) -> None:
    project = make_project(tmp_path, arena.url, "watch", rescan=0.1)
    run = start_watch(project, arena, source=QueueChangeSource())  # no events, ever
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    wait_until(lambda: _local_rescans(logs) >= 1, 10, "a first local rescan")
    arena.reset_counters()
    seen = _local_rescans(logs)
    wait_until(lambda: _local_rescans(logs) >= seen + 3, 10, "three more local rescans")
    assert not {k: v for k, v in arena.counters.items() if v}, "an unchanged rescan asks nothing"

    # Same size, new content (only the mtime tells), then a file in a new folder.
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    project.write("pkg/new.py", "NEW = 1\n")
    run.wait_remote("new.py", "NEW = 1\n")
    assert run.finish() == 0


def test_the_server_is_still_asked_every_remote_every_seconds(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", rescan=0.1)
    run = start_watch(project, arena, source=QueueChangeSource(), remote_every=0.3)
    aid = run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    arena.browser_edit(aid, "helper.py", "VALUE = 7  # browser\n")
    run.out.expect("remote_changed", 10)
    assert run.finish() == 0


def test_a_stop_wakes_an_idle_watch_at_once(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")  # rescan off: nothing due for an hour
    run = start_watch(project, arena, source=QueueChangeSource())
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    started = time.monotonic()
    assert run.finish(timeout=10) == 0
    assert time.monotonic() - started < 5
