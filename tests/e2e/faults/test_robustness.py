"""Robustness found by the adversarial review (issue 15): a file deleted between the scan and its
upload (item 12); files the process itself writes (item 15)."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Cli, in_project, push_ok
from helpers.processes import cli_cmd, cli_env, spawn_cli, stop_process
from helpers.project import make_project
from helpers.wait import hold, wait_until
from helpers.watch import StartWatch, watch_starter

from mlarena_sync.arena import FakeArena
from mlarena_sync.engine.evidence import prove
from mlarena_sync.watch.notices import CHURN


@pytest.fixture
def start_watch() -> Iterator[StartWatch]:
    with watch_starter() as start:
        yield start


RECONCILE_PROVE = "mlarena_sync.engine.reconcile.prove"


def _server_text(arena: FakeArena, aid: int, name: str) -> str | None:
    path = arena.store.files.path(aid, name)
    return None if path is None else Path(path).read_text(encoding="utf-8")


def _delete_after_the_scan(monkeypatch: pytest.MonkeyPatch, *doomed: Path) -> None:
    """``doomed`` are deleted once the reconcile has scanned and listed, before it uploads."""

    def prove_then_delete(*args: Any, **kwargs: Any) -> Any:
        proven = prove(*args, **kwargs)
        for path in doomed:
            path.unlink(missing_ok=True)
        return proven

    monkeypatch.setattr(RECONCILE_PROVE, prove_then_delete)


def _delete_no_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RECONCILE_PROVE, prove)


# ---------------------------------------------------------------- item 12


def test_a_file_deleted_between_scan_and_upload_is_skipped_and_push_rescans(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    aid = push_ok(cli, project)
    new = project.write("doomed.py", "X = 1\n")
    edited = project.write("notes.txt", "edited, then deleted\n")
    project.write("lib/helper.py", "SIDE = 2\n")
    _delete_after_the_scan(monkeypatch, new, edited)

    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert "Traceback" not in res.text and "crash" not in res.text, res.text
    assert "doomed.py: deleted while syncing; skipped" in res.text, res.text
    assert _server_text(arena, aid, "helper.py") == "SIDE = 2\n"
    assert _server_text(arena, aid, "doomed.py") is None
    # the rescan saw notes.txt gone: the server's copy (the last synced one) is deleted too
    assert _server_text(arena, aid, "notes.txt") is None

    _delete_no_more(monkeypatch)
    again = cli(*in_project(project, "--json", "plan"))
    assert again.code == 0, again.text
    plan = next(line for line in again.json_lines() if line["event"] == "plan")
    assert plan["changes"] == 0 and plan["is_empty"], plan


def test_a_file_deleted_between_scan_and_upload_does_not_stop_watch(
    arena: FakeArena,
    tmp_path: Path,
    start_watch: StartWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena)
    run.wait_bound()
    run.wait_remote("helper.py", "VALUE = 0\n")
    doomed = project.root / "doomed.py"
    _delete_after_the_scan(monkeypatch, doomed)
    project.write("doomed.py", "X = 1\n")
    run.out.expect("changed_during_sync", 10)
    _delete_no_more(monkeypatch)

    project.write("helper.py", "VALUE = 1\n")
    run.wait_remote("helper.py", "VALUE = 1\n", timeout=10)
    assert "doomed.py" not in run.remote()
    assert run.finish() == 0


# ---------------------------------------------------------------- item 15


def test_push_never_syncs_the_file_its_own_output_goes_to(
    arena: FakeArena, token: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    log = project.root / "push.log"  # `mlarena-sync push > push.log` inside the agent folder
    with log.open("wb") as out:
        proc = subprocess.run(
            cli_cmd("-C", str(project.dir), "push", "--no-deploy"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(token),
            timeout=60,
            check=False,
        )
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "push.log: this process writes its output there; not synced" in text, text
    aid = project.agent_id()
    assert aid is not None
    assert _server_text(arena, aid, "push.log") is None
    assert _server_text(arena, aid, "notes.txt") == "keep calm\n"


def test_watch_says_once_that_a_file_changes_on_every_reconcile(
    arena: FakeArena, tmp_path: Path, start_watch: StartWatch
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    run = start_watch(project, arena)
    run.wait_bound()
    run.out.expect("synced", 10)
    log = project.root / "app.log"
    for i in range(CHURN + 1):
        with log.open("a") as fh:
            fh.write(f"line {i}\n")
        run.out.expect("synced", 10, count=2 + i)
    warned = run.out.expect("file_keeps_changing", 5)
    assert warned["file"] == "app.log" and warned["syncs"] == CHURN, warned
    assert "exclude it" in warned["text"]
    assert len(run.out.named("file_keeps_changing")) == 1  # said once, not on every sync
    assert run.finish() == 0


def test_watch_logging_into_the_folder_neither_syncs_nor_reacts_to_its_own_log(
    arena: FakeArena, token: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "watch")
    log = project.root / "watch.log"  # `mlarena-sync --json -v watch > watch.log 2>&1` in it
    with log.open("wb") as out:
        proc = spawn_cli(
            "--json",
            "-v",
            "-C",
            str(project.dir),
            "watch",
            env=cli_env(token),
            stdout=out,
            stderr=out,
        )
        try:
            bound = wait_until(project.agent_id, 20, "the agent to be bound")
            assert bound is not None
            aid = bound
            wait_until(lambda: _server_text(arena, aid, "helper.py"), 20, "the first sync")
            project.write("helper.py", "VALUE = 1\n")
            wait_until(
                lambda: _server_text(arena, aid, "helper.py") == "VALUE = 1\n", 20, "the edit"
            )
            hold(2.0, lambda: proc.poll() is None or pytest.fail("watch ended"))  # no edits
        finally:
            code = stop_process(proc, sig=signal.SIGTERM)
    text = log.read_text()
    assert code in (0, 130, 143), text
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    (skipped,) = [e for e in events if e["event"] == "own_output_skipped"]
    assert "watch.log: this process writes its output there; not synced" in skipped["text"]
    assert _server_text(arena, aid, "watch.log") is None
    (stopped,) = [e for e in events if e["event"] == "watch_stopped"]
    # the first sync and the edit (a rescan at most): its own debug lines are no edits
    assert stopped["reconciles"] <= 3, stopped
