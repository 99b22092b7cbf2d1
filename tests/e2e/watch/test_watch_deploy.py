"""`watch` deploys: held edits during a deploy and one follow-up, reserve, quota, check."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.clock import ShiftedClock
from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena


@pytest.fixture
def slow_queue(arena: FakeArena) -> Iterator[FakeArena]:
    """Deploys wait 3 s in the queue (restored after the test)."""
    before = arena.simulator.queue_seconds
    arena.simulator.queue_seconds = 3.0
    yield arena
    arena.wait_deploys_idle(15)
    arena.simulator.queue_seconds = before


def test_edits_during_a_deploy_are_held_then_synced_with_one_redeploy(
    slow_queue: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena = slow_queue
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    run.out.expect("queue", 5)

    for i in range(3):  # edits while the deploy is queued: held, never uploaded
        project.write("helper.py", f"VALUE = {i + 1}\n")
        project.write(f"extra_{i}.py", "X = 1\n")
        run.out.expect("held", 5, count=i + 1)
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
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena.set_deploy_limit(1)
    project = make_project(tmp_path, arena.url, "watch", auto="true", reserve=1)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    assert run.out.expect("deploy_waiting", 10)["blocker"] == "reserve"
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    run.hold(0.6)  # the claim is "no deploy": two settle windows, in which one would be sent
    assert arena.deploy_count(aid) == 0
    assert len(run.out.named("deploy_waiting")) == 1  # said once
    assert run.finish() == 0


def test_used_up_quota_waits_for_the_next_slot_then_deploys_once(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena.set_deploy_limit(1)
    clock = ShiftedClock()
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena, clock=clock)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "it to settle")
    for i in range(3):
        project.write("helper.py", f"VALUE = {i + 1}\n")
        run.wait_remote("helper.py", f"VALUE = {i + 1}\n")
    assert run.out.expect("deploy_waiting", 10)["blocker"] == "quota"
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
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(
        tmp_path, arena.url, "watch", auto="true", check="\"python -c 'raise SystemExit(3)'\""
    )
    run = start_watch(project, arena)
    aid = run.wait_bound()
    assert run.out.expect("check_failed", 10)["returncode"] == 3
    assert arena.deploy_count(aid) == 0
    assert run.finish() == 0


def test_auto_false_never_deploys(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="false")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    run.hold(0.6)  # the claim is "no deploy": past the settle window, in which one would be sent
    assert arena.deploy_count(aid) == 0
    assert run.out.named("deploy_off")
    assert run.finish() == 0


def test_min_interval_holding_a_deploy_says_so_once(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true", min_interval=60)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "it to settle")
    for i in range(2):
        project.write("helper.py", f"VALUE = {i + 1}\n")
        run.wait_remote("helper.py", f"VALUE = {i + 1}\n")
        run.out.expect("deploy_waiting", 10)
    (line,) = run.out.named("deploy_waiting")  # once per hold, not once per edit
    assert line["blocker"] == "interval"
    assert re.fullmatch(
        r"deploy waits until \d\d:\d\d:\d\d \(deploy\.min_interval 60 s\)", line["text"]
    ), line
    assert arena.deploy_count(aid) == 1
    assert run.finish() == 0


def test_stopping_with_held_edits_says_they_were_not_synced(
    slow_queue: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    arena = slow_queue
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 10, "the first deploy")
    project.write("helper.py", "VALUE = 1\n")
    assert run.out.expect("held", 5)["text"] == "1 edit held while deploy runs"
    assert arena.agent_status(aid) in ("deploy_queue", "deploy_run")
    assert run.finish() == 0
    (stopped,) = run.out.named("watch_stopped")
    assert stopped["held_not_synced"] == 1
    assert stopped["text"].endswith("; 1 held edit not synced: run `mlarena-sync push`")
