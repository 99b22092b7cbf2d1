"""What a push sends: a no-op push reads the listing and the status only; the competition detail
(upload limits) is read only when something is uploaded, and its errors still come before any
changing request, together with the name problems."""

from __future__ import annotations

import dataclasses

import pytest
from helpers.arena import API, mutations
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.models import Competition
from mlarena_sync.arena import FakeArena

LISTING = f"GET {API}/competition/{{cid}}/{{aid}}/file"
STATUS = f"GET {API}/competition/{{cid}}/{{aid}}/status"
COMPETITION = "GET /api/competitions/{cid}"


def _at_most(monkeypatch: pytest.MonkeyPatch, files: int) -> None:
    real = ArenaClient.competition

    def limited(self: ArenaClient, cid: int) -> Competition:
        return dataclasses.replace(real(self, cid), max_upload_files=files)

    monkeypatch.setattr(ArenaClient, "competition", limited)


def test_noop_push_reads_only_the_listing_and_the_status(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    push_ok(cli, project)
    arena.reset_counters()
    push_ok(cli, project)
    assert {k: v for k, v in arena.counters.items() if v} == {LISTING: 1, STATUS: 1}

    project.write("lib/more.py", "MORE = 1\n")
    arena.reset_counters()
    push_ok(cli, project)
    assert arena.counters.get(COMPETITION) == 1, "limits are checked when something is uploaded"


def test_limits_stop_an_upload_before_any_change_and_come_with_name_problems(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_ok(cli, project)
    _at_most(monkeypatch, 3)
    project.write("lib/extra.py", "EXTRA = 1\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 2, res.text
    assert "at most 3" in res.err
    assert mutations(arena.counters) == {}

    project.write("lib/bad name.py", "X = 1\n")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 2, res.text
    assert "at most 3" in res.err and "bad name.py" in res.err, "all problems in one error"
    assert mutations(arena.counters) == {}
