"""An interrupted ``push --wait`` and ``live`` (review M4, both API generations): the deploy
request is in the ledger before it leaves, so the deployment the server made of it is this
folder's record (not "made from the browser or another machine"); ``live`` is the newest deploy
that succeeded, never one in flight; an older record the server no longer describes (v0 lists
only the latest attempt) is "outcome unknown", not "in flight"."""

from __future__ import annotations

import signal
from typing import Any

from helpers.arena import hits, routes
from helpers.cli import Cli, in_project
from helpers.processes import cli_env, spawn_cli
from helpers.project import Project
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.ledger import SUCCEEDED


def _records(cli: Cli, project: Project) -> list[dict[str, Any]]:
    res = cli(*in_project(project, "--json", "history"))
    assert res.code == 0, res.text
    return [e for e in res.json_lines() if e["event"] == "deploy_record"]


def test_ctrl_c_before_the_deploy_reply_keeps_the_deployment_this_folders(
    arena: FakeArena, token: str, project: Project, cli: Cli
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    project.write("notes.txt", "second\n")
    arena.faults.hang_deploy = 8.0  # the deploy takes effect, its reply is late
    proc = spawn_cli("-C", str(project.dir), "push", "--wait", env=cli_env(token))
    try:
        wait_until(lambda: hits(arena.counters, routes(arena).deploy) >= 2, 30, "the request")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    arena.faults.hang_deploy = 0.0

    def settled() -> list[dict[str, Any]] | None:
        records = _records(cli, project)
        return records if records[0]["status"] else None

    records = wait_until(settled, 40, "the interrupted deploy to settle")
    assert [(r["id"], r["known"]) for r in records] == [(2, True), (1, True)], records
    assert records[0]["deployment_id"] not in (None, records[1]["deployment_id"])
    live = [r["id"] for r in records if r["live"]]
    assert live == ([2] if records[0]["status"] in SUCCEEDED else [1]), records


def test_live_is_never_in_flight_and_older_open_records_are_not(
    arena: FakeArena, project: Project, cli: Cli
) -> None:
    assert cli(*in_project(project, "push")).code == 0
    project.write("notes.txt", "second\n")
    assert cli(*in_project(project, "push")).code == 0  # waits out the first deploy
    records = _records(cli, project)
    assert [r["id"] for r in records] == [2, 1]
    assert records[1]["outcome"] != "in flight", records[1]
    for rec in records:
        if rec["live"]:
            assert rec["status"] in SUCCEEDED, rec
        if rec["outcome"] == "in flight":
            assert not rec["live"], rec
    text = cli(*in_project(project, "history")).out
    header, *rows = text.splitlines()
    assert header.split()[:3] == ["#", "server", "when"], text
    assert [row.split()[0] for row in rows] == ["#2", "#1"], text
