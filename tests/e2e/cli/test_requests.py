"""What a push sends: a no-op push reads the listing and the status only; the competition detail
(upload limits) is read only when something is uploaded, and its errors still come before any
changing request, together with the name problems."""

from __future__ import annotations

import dataclasses

import pytest
from helpers.arena import adapter_class, mutations, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import Competition
from mlarena_sync.arena import FakeArena


def _at_most(monkeypatch: pytest.MonkeyPatch, arena: FakeArena, files: int) -> None:
    adapter = adapter_class(arena)
    real = adapter.competition

    def limited(self: Arena, cid: int) -> Competition:
        return dataclasses.replace(real(self, cid), max_upload_files=files)  # type: ignore[arg-type]

    monkeypatch.setattr(adapter, "competition", limited)


def test_noop_push_reads_only_the_listing_and_the_status(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    push_ok(cli, project)
    arena.reset_counters()
    push_ok(cli, project)
    route = routes(arena)
    assert {k: v for k, v in arena.counters.items() if v} == {route.listing: 1, route.status: 1}

    project.write("lib/more.py", "MORE = 1\n")
    arena.reset_counters()
    push_ok(cli, project)
    assert arena.counters.get(route.competition) == 1, "limits are read when something is uploaded"


def test_limits_stop_an_upload_before_any_change_and_come_with_name_problems(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_ok(cli, project)
    _at_most(monkeypatch, arena, 3)
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
