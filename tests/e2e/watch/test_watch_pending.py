"""`watch` and the deploy a push left pending; one wording of the queued status (n9)."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli, push_args
from helpers.project import Project, make_project
from helpers.wait import wait_until
from helpers.watch import StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import load_config
from mlarena_sync.store.journal import Journal
from mlarena_sync.store.state import StateStore, target_key


def _journal(project: Project) -> Journal:
    config = load_config(project.config)
    return Journal(StateStore.for_config(config.path).state_dir, target_key(config.target(None)))


def test_a_watch_deploy_clears_the_pending_deploy_and_says_deploy_queued(
    arena: FakeArena,
    token: str,
    tmp_path: Path,
    start_watch: StartWatch,
    cli: Cli,
) -> None:
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    assert cli(*push_args(project)).code == 0
    assert _journal(project).deploy_pending()
    before = arena.simulator.queue_seconds
    arena.simulator.queue_seconds = 1.0  # the queued state lasts long enough to be seen
    try:
        run = start_watch(project, arena)
        aid = run.wait_bound()
        project.write("helper.py", "VALUE = 1\n")
        wait_until(lambda: arena.deploy_count(aid) == 1, 10, "watch's deploy")
        wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "the deploy to settle")
        assert run.finish() == 0
    finally:
        arena.simulator.queue_seconds = before
    assert not _journal(project).deploy_pending(), "an accepted deploy clears it"
    texts = [str(f.get("text")) for f in run.out.named("agent_status")]
    assert any("deploy_queue (Deploy queued)" in t for t in texts), texts
    assert not any("Deployment queued" in t for t in texts), texts


def test_a_fresh_watch_deploys_what_push_no_deploy_synced_without_a_new_edit(
    arena: FakeArena,
    token: str,
    tmp_path: Path,
    start_watch: StartWatch,
    cli: Cli,
) -> None:
    """Issue 12, "Done when": an edit synced with `push --no-deploy` is deployed by a freshly
    started watch, with no edit made while it runs."""
    project = make_project(tmp_path, arena.url, "watch", auto="true")
    assert cli(*push_args(project)).code == 0  # push --no-deploy
    assert _journal(project).deploy_pending()
    run = start_watch(project, arena)
    aid = run.wait_bound()
    wait_until(lambda: arena.deploy_count(aid) == 1, 15, "watch deploying the pending sync")
    wait_until(lambda: arena.wait_deploys_idle(0.1), 15, "the deploy to settle")
    assert run.finish() == 0
    assert arena.deploy_count(aid) == 1, "once"
    assert not _journal(project).deploy_pending()
