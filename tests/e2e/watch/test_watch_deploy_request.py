"""watch and the deploy request (issue 15, items 6 and 8): a gateway error after the server took
the deploy is one deploy, not one per retry; edits a stopped watch synced and did not deploy are
deployed by the next watch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import Cli, in_project
from helpers.project import Project, make_project, write_config
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import load_config
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import StateStore, target_key


def _journal(project: Project) -> Journal:
    config = load_config(project.config)
    return Journal(StateStore.for_config(config.path).state_dir, target_key(config.target(None)))


def test_watch_gateway_errors_after_the_deploy_are_one_deploy(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    """One edit, a 504 after the deploy was taken: watch reads the deploys, sees its deploy,
    and does not deploy again (it used to back off and redeploy on every retry)."""
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    arena.faults.fail_next(3, 504, route="deploy", after=True)
    run = start_watch(project, arena)
    aid = run.wait_bound()
    project.write("helper.py", "VALUE = 1\n")
    wait_until(lambda: arena.deploy_count(aid) >= 1, 15, "watch's deploy")
    assert arena.wait_deploys_idle(15)
    run.hold(1.5)  # a retry would come within the loop's backoff
    assert run.finish() == 0
    assert arena.deploy_count(aid) == 1
    (stopped,) = run.out.named("watch_stopped")
    assert stopped["deploys"] == 1
    assert not _journal(project).deploy_pending()


def test_a_restarted_watch_deploys_what_a_stopped_one_synced(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true", settle=60)
    first = start_watch(project, arena)
    aid = first.wait_bound()
    project.write("helper.py", "VALUE = 7\n")
    first.wait_remote("helper.py", "VALUE = 7\n")
    wait_until(_journal(project).deploy_pending, 5, "the pending deploy")
    assert first.finish() == 0
    assert arena.deploy_count(aid) == 0
    write_config(project.dir, arena.url, "watch", auto="true", settle=0.3)
    second = start_watch(project, arena)
    wait_until(lambda: arena.deploy_count(aid) == 1, 15, "the restarted watch's deploy")
    assert arena.wait_deploys_idle(15)
    second.hold(1.0)
    assert second.finish() == 0
    assert arena.deploy_count(aid) == 1
    assert not _journal(project).deploy_pending()


@pytest.mark.parametrize(
    "recorded",
    ["2099-01-01T00:00:00+00:00", "2099-01-01T00:00:00", "2026-01-01T00:00:00"],
    ids=["future", "future-naive", "naive"],
)
def test_a_strange_last_deploy_at_never_blocks_or_crashes_watch(
    arena: FakeArena, token: str, tmp_path: Path, start_watch: StartWatch, cli: Cli, recorded: str
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true", min_interval=1)
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    _journal(project).set_deploy_pending(False)  # only the edit below wants a deploy
    aid = project.agent_id()
    assert aid is not None
    state_file = project.state_dir / "state.json"
    state = json.loads(state_file.read_text())
    (entry,) = state["targets"].values()
    entry["last_deploy_at"] = recorded
    state_file.write_text(json.dumps(state))
    run = start_watch(project, arena)
    project.write("helper.py", "VALUE = 9\n")
    wait_until(lambda: arena.deploy_count(aid) >= 1, 15, "watch's deploy", tolerate=())
    assert arena.wait_deploys_idle(15)
    run.hold(1.5)
    assert run.finish() == 0
    assert arena.deploy_count(aid) == 1
