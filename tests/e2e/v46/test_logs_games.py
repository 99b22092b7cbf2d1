"""``logs --games`` on v4.6: the agent's stdout, read from its own row of each run's results."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli

from mlarena_sync.arena import FakeArena

from .kit import MARKER, RUNS, code_project, writes

SID = 101


def test_logs_games_shows_what_the_agent_printed(
    cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    project = code_project(tmp_path, arena46.url, extra="deploy:\n  check: null\n")
    pushed = cli("-C", str(project.dir), "push", "--wait")
    assert pushed.code == 0, pushed.text
    arena46.reset_counters()

    res = cli("-C", str(project.dir), "logs", "--games")

    assert res.code == 0, res.text
    lines = res.out.splitlines()
    headers = [i for i, ln in enumerate(lines) if ln.startswith("=== game")]
    assert [lines[i].split(":")[0] for i in headers] == [f"=== game {n}" for n in (3, 2, 1)]
    game1 = lines[headers[-1] :]  # newest first: the first game comes last
    assert lines.count(f"{MARKER} (init)") == 1 and f"{MARKER} (init)" in game1, res.out
    for start, end in zip(headers, [*headers[1:], len(lines)], strict=True):
        assert MARKER in lines[start:end], res.out  # every game shows the agent's prints
    assert "Traceback" not in res.text
    assert arena46.counters == {RUNS: 1}  # one read of the runs, nothing else
    assert writes(arena46.counters) == {}

    newest = cli("-C", str(project.dir), "logs", "--games", "--limit", "1")
    assert newest.code == 0, newest.text
    assert [ln for ln in newest.out.splitlines() if ln.startswith("=== game")] == [
        lines[headers[0]]
    ]
    assert MARKER in newest.out.splitlines(), newest.out
