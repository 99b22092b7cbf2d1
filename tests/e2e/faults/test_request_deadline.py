"""A total deadline per request (issue 15: 18), distinct from the per-read timeout.

A server that trickles its reply a few bytes at a time never lets a per-read timeout fire: before
the deadline, such a reply held a push for as long as the server liked (136 s in the review).
The fake arena's ``trickle_next`` knob sends a handled request's reply ``size`` bytes every
``every`` seconds, with its full Content-Length."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.arena import open_client, routes
from helpers.checks import assert_clear_error, assert_converged, assert_stable, pushed_project
from helpers.cli import Cli, push
from helpers.project import Project, small_tree

from mlarena_sync.api.client import Timeouts
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import TransportError

#: How slowly the arena answers: the file listing (a few hundred bytes) would take minutes.
EVERY, SIZE = 0.5, 8


def _set_deadline(project: Project, seconds: float) -> None:
    text = project.config.read_text(encoding="utf-8")
    assert "\nsync:\n" in text
    text = text.replace("\nsync:\n", f"\nsync:\n  request_deadline: {seconds:g}\n")
    project.config.write_text(text, encoding="utf-8")


def test_a_trickled_listing_stops_the_push_at_the_deadline(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    _set_deadline(project, 2)
    (project.root / "agent.py").write_text("# edited\n", encoding="utf-8")
    listing = routes(arena).listing
    before = arena.counters.get(listing, 0)
    arena.faults.trickle_next(1, route="list_files", every=EVERY, size=SIZE)
    started = time.monotonic()
    res = push(cli, project)
    elapsed = time.monotonic() - started
    assert_clear_error(res, 1, "request deadline", "sync.request_deadline")
    assert elapsed < 8.0, f"the push was held {elapsed:.1f}s by a trickled reply"
    assert arena.counters.get(listing, 0) == before + 1, "a passed deadline is not retried"
    # the next push (no trickle) finishes the edit
    assert push(cli, project).code == 0
    assert_converged(arena, project, aid, token=token)
    assert_stable(cli, project, arena)


def test_the_deadline_covers_retries_and_their_waits(arena: FakeArena, token: str) -> None:
    """A 503 storm announcing ``Retry-After: 30`` four times would hold a read for two minutes;
    the deadline cuts the wait."""
    arena.faults.fail_next(5, 503, retry_after=30, route=routes(arena).competition)
    try:
        with open_client(arena, token, timeouts=Timeouts(read=5, total=1.5)) as client:
            started = time.monotonic()
            with pytest.raises(TransportError, match="request deadline"):
                client.competition(1)
            elapsed = time.monotonic() - started
    finally:
        arena.faults.clear()
    assert elapsed < 4.0, f"a read with a 1.5 s deadline took {elapsed:.1f}s"


def test_a_read_slower_than_its_deadline_fails_while_a_quick_one_passes(
    arena: FakeArena, token: str
) -> None:
    with open_client(arena, token, timeouts=Timeouts(read=5, total=1.5)) as client:
        assert client.competition(1).id == 1
        arena.faults.trickle_next(1, route=routes(arena).competition, every=EVERY, size=SIZE)
        started = time.monotonic()
        with pytest.raises(TransportError, match="request deadline") as caught:
            client.competition(1)
        elapsed = time.monotonic() - started
        assert 1.4 <= elapsed < 4.0, elapsed
        assert "1.5 s request deadline" in str(caught.value)
        # the connection the deadline cut is not reused: the next call is answered
        assert client.competition(1).id == 1


def test_config_reads_request_deadline(tmp_path: Path) -> None:
    from mlarena_sync.config.model import load_config
    from mlarena_sync.engine.workspace import request_timeouts

    (tmp_path / "agent").mkdir()
    (tmp_path / "mlarena.yaml").write_text(
        "version: 1\nserver: http://127.0.0.1:1\ncompetition: 1\nagent:\n  name: a\n"
        "files:\n  root: agent\nsync:\n  request_deadline: 7.5\n",
        encoding="utf-8",
    )
    target = load_config(tmp_path / "mlarena.yaml").targets[0]
    assert target.sync.request_deadline == 7.5
    timeouts = request_timeouts(target.sync.request_deadline)
    assert timeouts.deadline() == 7.5  # shorter than the 30 s read timeout: it wins
    assert timeouts.deadline(transfer=True) == 7.5 * 15
