"""Deploy-reply faults (issue 15, items 5-8): a deploy is never spent twice for one edit.

The deploy request is never retried; what happens to its reply decides nothing by itself: the
server's latest deploy id, read before the request (and journaled before it leaves), is compared
with the one read afterwards. Cases: a gateway's 502/504 or an unreadable 2xx *after* the server
took the deploy, a reply lost after the deploy took effect (with the arena's clock far behind),
a push killed with ``kill -9`` while its deploy reply is slow (2 s), and a watch stopped by a
signal within ``deploy.settle``. Each ends with exactly one deploy per edit.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest
from helpers.arena import hits, remote_text, routes
from helpers.checks import bound_agent_id
from helpers.cli import Cli, in_project
from helpers.processes import cli_env, spawn_cli
from helpers.project import Project, make_project, small_tree
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import load_config
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import StateStore, target_key


def _journal(project: Project) -> Journal:
    config = load_config(project.config)
    return Journal(StateStore.for_config(config.path).state_dir, target_key(config.target(None)))


def _bound(arena: FakeArena, cli: Cli, project: Project) -> int:
    """The project pushed without a deploy; its agent id."""
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    return bound_agent_id(project)


def _edit(project: Project, value: int) -> None:
    (project.root / "pkg0" / "helper_00.py").write_text(f"VALUE = {value}\n")


def _second_push_spends_nothing(arena: FakeArena, cli: Cli, project: Project, aid: int) -> None:
    assert arena.wait_deploys_idle(15)
    again = cli(*in_project(project, "push"))
    assert again.code == 0, again.text
    assert arena.deploy_count(aid) == 1, "the next push deployed the same edit again"
    assert not _journal(project).deploy_pending()
    assert _journal(project).deploy_request() is None


# ---------------------------------------------------------------- replies lost after the deploy


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, None), (504, None), (200, "<html>upstream says hello</html>")],
    ids=["502", "504", "unreadable-2xx"],
)
def test_deploy_taken_then_gateway_error_is_one_deploy(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, status: int, body: str | None
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    aid = _bound(arena, cli, project)
    _edit(project, 1)
    arena.reset_counters()
    arena.faults.fail_next(1, status, route="deploy", after=True, body=body)
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    assert "server took it" in res.text or "deploy requested" in res.text, res.text
    assert hits(arena.counters, routes(arena).deploy) == 1
    assert arena.deploy_count(aid) == 1
    _second_push_spends_nothing(arena, cli, project, aid)


def test_gateway_error_before_the_deploy_keeps_it_pending(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """A 504 that did nothing: no deploy seen, the push says so (exit 1), the next push deploys
    the edit once."""
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    aid = _bound(arena, cli, project)
    _edit(project, 1)
    arena.faults.fail_next(1, 504, route="deploy")
    res = cli(*in_project(project, "push"))
    assert res.code == 1, res.text
    assert "no new deploy" in res.text, res.text
    assert arena.deploy_count(aid) == 0
    assert _journal(project).deploy_pending()
    again = cli(*in_project(project, "push"))
    assert again.code == 0, again.text
    assert arena.deploy_count(aid) == 1
    _second_push_spends_nothing(arena, cli, project, aid)


@pytest.mark.parametrize("skew", [0, -3600], ids=["same-clock", "server-an-hour-behind"])
def test_lost_reply_after_the_deploy_is_one_deploy(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, skew: int
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    aid = _bound(arena, cli, project)
    _edit(project, 1)
    arena.set_clock_offset(skew)
    arena.faults.drop_next(1, route="deploy", after=True)
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    assert arena.deploy_count(aid) == 1
    _second_push_spends_nothing(arena, cli, project, aid)


# ---------------------------------------------------------------- kill -9 with a slow deploy reply

KILL_RUNS = 30
KILL_SEED = 15
HANG = 2.0  # seconds the deploy reply takes (the deploy takes effect first)


@pytest.mark.slow
def test_kill9_with_a_slow_deploy_reply_never_deploys_twice(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """Each run edits a file and starts ``push`` (deploys on); it is killed at a seeded random
    point (mostly while the deploy reply is awaited); a normal push follows. Every edit must be
    deployed exactly once."""
    rng = random.Random(KILL_SEED)
    arena.set_deploy_limit(1000)
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    aid = _bound(arena, cli, project)
    env = cli_env(token)
    figures = {"runs": 0, "killed": 0, "killed_awaiting_reply": 0, "double_deploys": 0}
    missing = 0
    deploys = arena.deploy_count(aid)
    for run in range(1, KILL_RUNS + 1):
        _edit(project, run)
        arena.faults.hang_deploy = HANG
        arena.reset_counters()
        proc = spawn_cli(*in_project(project, "push"), env=env)
        early = rng.random() < 0.2  # some kills land before the request leaves
        if not early:
            wait_until(
                lambda p=proc: hits(arena.counters, routes(arena).deploy) or p.poll() is not None,
                30,
                "the deploy request",
                interval=0.005,
            )
        try:
            proc.wait(rng.uniform(0.0, 0.6) if early else rng.uniform(0.0, HANG * 1.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            figures["killed"] += 1
            if hits(arena.counters, routes(arena).deploy):
                figures["killed_awaiting_reply"] += 1
        arena.faults.hang_deploy = 0.0
        assert arena.wait_deploys_idle(15)
        res = cli(*in_project(project, "push"))
        assert res.code == 0, f"run {run}: the push after the kill failed\n{res.text}"
        assert arena.wait_deploys_idle(15)
        deployed = arena.deploy_count(aid) - deploys
        deploys += deployed
        figures["double_deploys"] += max(0, deployed - 1)
        missing += deployed < 1
        figures["runs"] += 1
    line = "kill -9 with deploys: " + " ".join(f"{k}={v}" for k, v in figures.items())
    print("\n" + line)
    out = os.environ.get("FAULTS_FIGURES")
    if out:
        Path(out).with_suffix(".deploys.json").write_text(json.dumps(figures, indent=1) + "\n")
    assert figures["double_deploys"] == 0, line
    assert missing == 0, f"{missing} edit(s) never deployed: {line}"
    assert figures["killed_awaiting_reply"] >= KILL_RUNS // 3, f"too few kills mid-reply: {line}"


# ---------------------------------------------------------------- watch stopped within settle


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0), (signal.SIGHUP, 0)]
)
def test_watch_stopped_within_settle_leaves_the_deploy_pending(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true", settle=60)
    log = tmp_path / "watch.log"
    with log.open("wb") as out:
        proc = spawn_cli(*in_project(project, "watch"), env=cli_env(token), stdout=out, stderr=out)
    try:
        aid = wait_until(project.agent_id, 20, "the agent to be bound")
        project.write("helper.py", "VALUE = 7\n")
        wait_until(
            lambda: remote_text(arena, token, aid).get("helper.py") == "VALUE = 7\n",
            15,
            "the edit to sync",
        )
        wait_until(_journal(project).deploy_pending, 5, "the pending deploy")
        proc.send_signal(sig)
        assert proc.wait(15) == code, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    output = log.read_text()
    assert "Traceback" not in output, output
    said = {"SIGINT": "Ctrl-C", "SIGTERM": "terminated", "SIGHUP": "the terminal closed"}
    assert f"watch stopped ({said[signal.Signals(sig).name]})" in output, output
    assert "not deployed yet" in output, output
    assert arena.deploy_count(aid) == 0
    assert _journal(project).deploy_pending(), "the synced edit's deploy was forgotten"
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    assert arena.deploy_count(aid) == 1
