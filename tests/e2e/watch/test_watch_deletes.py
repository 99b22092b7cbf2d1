"""Deletes over ``sync.max_delete``: the engine's ``over_delete_cap`` option, and ``watch``
pausing those deletes (one warning) while every other change keeps syncing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.arena import open_client, remote_text
from helpers.project import make_project
from helpers.wait import wait_until
from helpers.watch import COMPETITION, StartWatch

from mlarena_sync.arena import FakeArena
from mlarena_sync.config.model import load_config
from mlarena_sync.engine.reconcile import ReconcileOptions, Reconciler
from mlarena_sync.errors import ConflictError
from mlarena_sync.store.state import StateStore

FILES = {"a.py": "A = 1\n", "b.py": "B = 1\n", "c.py": "C = 1\n", "helper.py": "VALUE = 0\n"}


def test_skip_deletes_over_the_cap_applies_everything_else(
    arena: FakeArena, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "watch", files=FILES, max_delete=2)
    target = load_config(project.config).target(None)
    store = StateStore.for_config(project.config)
    token = arena.user_token
    with open_client(arena) as c:
        rec = Reconciler(target, c, store, token=token)
        rec.reconcile()
        for name in ("a.py", "b.py", "c.py"):
            (project.root / name).unlink()
        project.write("helper.py", "VALUE = 1\n")
        with pytest.raises(ConflictError, match="max_delete"):
            rec.reconcile()  # the default: stop, nothing applied
        aid = rec.bound_id()
        assert aid is not None
        assert remote_text(arena, token, aid, COMPETITION)["helper.py"] == "VALUE = 0\n"

        result = rec.reconcile(ReconcileOptions(over_delete_cap="skip_deletes"))
        assert result.deletes_skipped == ("a.py", "b.py", "c.py")
        assert result.uploaded == ("helper.py",) and result.deleted == ()
        assert result.plan.delete_cap_hit and result.plan.deletes == []
        remote = remote_text(arena, token, aid, COMPETITION)
        assert remote["helper.py"] == "VALUE = 1\n"
        assert {"a.py", "b.py", "c.py"} <= set(remote)
        assert rec.target is target

        again = rec.reconcile(ReconcileOptions(over_delete_cap="skip_deletes"))
        assert again.deletes_skipped == ("a.py", "b.py", "c.py") and not again.changed


def test_watch_pauses_deletes_over_the_cap_with_one_warning(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch", files=FILES, max_delete=2)
    run = start_watch(project, arena)
    run.wait_bound()
    run.wait_remote("c.py", "C = 1\n")

    for name in ("a.py", "b.py", "c.py"):
        (project.root / name).unlink()
    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n")
    project.write("helper.py", "VALUE = 2\n")
    run.wait_remote("helper.py", "VALUE = 2\n")

    (warning,) = run.out.named("deletes_paused")
    assert warning["max_delete"] == 2 and warning["files"] == ["a.py", "b.py", "c.py"]
    assert "sync.max_delete = 2" in warning["text"] and "--force" in warning["text"]
    assert {"a.py", "b.py", "c.py"} <= set(run.remote())
    assert not run.out.named("sync_blocked")

    # Back under the cap (one file restored): the two other deletes go through, no new warning.
    project.write("a.py", "A = 1\n")
    wait_until(lambda: not {"b.py", "c.py"} & set(run.remote()), 10, "the deletes under the cap")
    assert run.remote()["a.py"] == "A = 1\n"
    assert len(run.out.named("deletes_paused")) == 1
    assert run.finish() == 0
