"""`watch` deploys: held edits during a deploy and one follow-up, reserve, quota, check."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mlarena_sync.arena import FakeArena

from ._harness import WatchRun, make_project, wait_until

Start = Callable[..., WatchRun]


@pytest.fixture
def slow_queue(arena: FakeArena) -> Iterator[FakeArena]:
    """Deploys wait 3 s in the queue (restored after the test)."""
    before = arena.simulator.queue_seconds
    arena.simulator.queue_seconds = 3.0
    yield arena
    arena.wait_deploys_idle(15)
    arena.simulator.queue_seconds = before


def test_edits_during_a_deploy_are_held_then_synced_with_one_redeploy(
    slow_queue: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    arena = slow_queue
    project = make_project(tmp_path, arena.url, auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    wait_until(lambda: run.out.named("queue") != [], 5, "the queue position line")

    for i in range(3):  # edits while the deploy is queued: held, never uploaded
        project.write("helper.py", f"VALUE = {i + 1}\n")
        project.write(f"extra_{i}.py", "X = 1\n")
        wait_until(lambda n=i: len(run.out.named("held")) > n, 5, f"held edits ({i + 1})")
    assert run.remote().get("helper.py") == "VALUE = 0\n"
    assert arena.agent_status(aid) in ("deploy_queue", "deploy_run")
    held = run.out.named("held")
    assert held[-1]["text"].endswith("edits held while deploy runs"), held

    run.wait_remote("helper.py", "VALUE = 3\n", timeout=15)
    wait_until(lambda: arena.deploy_count(aid) == 2, 10, "one follow-up deploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "the follow-up deploy to settle")
    wait_until(lambda: arena.agent_status(aid) == "active", 5, "active")
    assert set(run.remote()) >= {f"extra_{i}.py" for i in range(3)}
    assert arena.deploy_count(aid) == 2
    # the status stream: each line once (no line repeated back to back)
    lines = [f.get("text") for e, f in run.out.events if e in ("agent_status", "queue", "run")]
    assert lines and all(a != b for a, b in itertools.pairwise(lines)), lines
    assert any("active" in str(t) for t in lines), lines
    assert run.finish() == 0


def test_reserve_keeps_the_last_deploy(
    arena: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    arena.set_deploy_limit(1)
    project = make_project(tmp_path, arena.url, auto="true", reserve=1)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: run.out.named("deploy_waiting") != [], 10, "the reserve to hold")
    assert run.out.named("deploy_waiting")[0]["blocker"] == "reserve"
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    deadline = time.monotonic() + 0.6  # two settle windows: a deploy would have been sent
    while time.monotonic() < deadline:
        run.check_alive()
        time.sleep(0.05)
    assert arena.deploy_count(aid) == 0
    assert len(run.out.named("deploy_waiting")) == 1  # said once
    assert run.finish() == 0


class ShiftedClock:
    """The real clock, with a wall-clock offset a test can move (monotonic is untouched)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def test_used_up_quota_waits_for_the_next_slot_then_deploys_once(
    arena: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    arena.set_deploy_limit(1)
    clock = ShiftedClock()
    project = make_project(tmp_path, arena.url, auto="true")
    run = start_watch(project, arena, clock=clock)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "it to settle")
    for i in range(3):
        project.write("helper.py", f"VALUE = {i + 1}\n")
        run.wait_remote("helper.py", f"VALUE = {i + 1}\n")
    wait_until(lambda: run.out.named("deploy_waiting") != [], 10, "the quota wait")
    assert run.out.named("deploy_waiting")[0]["blocker"] == "quota"
    assert arena.deploy_count(aid) == 1

    day = 24 * 3600
    arena.set_clock_offset(day)  # the next UTC day: a fresh quota
    clock.offset = timedelta(seconds=day)
    wait_until(lambda: arena.deploy_count(aid) == 2, 10, "the deploy at the next slot")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "it to settle")
    assert arena.deploy_count(aid) == 2
    assert len(run.out.named("deploy_waiting")) == 1
    assert run.finish() == 0


def test_failing_check_gates_the_deploy(
    arena: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    project = make_project(
        tmp_path, arena.url, auto="true", check="\"python -c 'raise SystemExit(3)'\""
    )
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: run.out.named("check_failed") != [], 10, "the check to fail")
    assert run.out.named("check_failed")[0]["returncode"] == 3
    assert arena.deploy_count(aid) == 0
    assert run.finish() == 0


def test_auto_false_never_deploys(arena: FakeArena, tmp_path: Path, start_watch: Start) -> None:
    project = make_project(tmp_path, arena.url, auto="false")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    deadline = time.monotonic() + 0.6  # past the settle window
    while time.monotonic() < deadline:
        run.check_alive()
        time.sleep(0.05)
    assert arena.deploy_count(aid) == 0
    assert run.out.named("deploy_off")
    assert run.finish() == 0


def test_min_interval_holding_a_deploy_says_so_once(
    arena: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    project = make_project(tmp_path, arena.url, auto="true", min_interval=60)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "it to settle")
    for i in range(2):
        project.write("helper.py", f"VALUE = {i + 1}\n")
        run.wait_remote("helper.py", f"VALUE = {i + 1}\n")
        wait_until(lambda: run.out.named("deploy_waiting") != [], 10, "the interval line")
    (line,) = run.out.named("deploy_waiting")  # once per hold, not once per edit
    assert line["blocker"] == "interval"
    assert re.fullmatch(
        r"deploy waits until \d\d:\d\d:\d\d \(deploy\.min_interval 60 s\)", line["text"]
    ), line
    assert arena.deploy_count(aid) == 1
    assert run.finish() == 0


def test_stopping_with_held_edits_says_they_were_not_synced(
    slow_queue: FakeArena, tmp_path: Path, start_watch: Start
) -> None:
    arena = slow_queue
    project = make_project(tmp_path, arena.url, auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    project.write("helper.py", "VALUE = 1\n")
    wait_until(lambda: run.out.named("held") != [], 5, "the held edit")
    assert run.out.named("held")[0]["text"] == "1 edit held while deploy runs"
    assert arena.agent_status(aid) in ("deploy_queue", "deploy_run")
    assert run.finish() == 0
    (stopped,) = run.out.named("watch_stopped")
    assert stopped["held_not_synced"] == 1
    assert stopped["text"].endswith("; 1 held edit not synced: run `mlarena-sync push`")
