"""What a person sees: the real CLI in a pseudo-terminal (``os.openpty``) and through a pipe,
against the fake arena over HTTP on both API generations (issue 13, "Done when").

At a terminal ``push --wait`` prints no log-record line (no ``[info``, no ``key=value`` tail, no
ISO time) and uses colour; with ``NO_COLOR=1`` not one escape sequence; through a pipe the same
lines, plain.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from helpers.processes import cli_env, run_process, spawn_cli, stop_process
from helpers.project import Project
from helpers.terminal import run_in_terminal
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena

ESC = "\x1b"
LOG_RECORD = re.compile(r"\[(info|warning|debug|error)\s*\]|\b[a-z_]+=\S")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
SYMBOLS = ("↑", "↓", "✓", "✗", "!", "·", "▶", " ")


def _env(arena: FakeArena, **extra: str) -> dict[str, str]:
    env = cli_env(arena.user_token, TERM="xterm-256color", COLUMNS="100", **extra)
    if "NO_COLOR" not in extra:
        env.pop("NO_COLOR", None)
    return env


def _visible_lines(text: str) -> list[str]:
    """What stays on the screen: escape sequences out, a redrawn line (``\\r``) by its last
    state."""
    plain = ANSI.sub("", text).replace("\r\n", "\n")
    return [line.split("\r")[-1] for line in plain.split("\n") if line.split("\r")[-1].strip()]


def _for_people(lines: list[str], arena: FakeArena) -> None:
    assert lines, "nothing printed"
    for line in lines:
        assert not LOG_RECORD.search(line), f"a log-record line: {line!r}"
        assert not ISO_TIME.search(line), f"an ISO time: {line!r}"
    assert arena.user_token not in "\n".join(lines)


def _big_project(project: Project) -> Path:
    project.write("weights.bin", os.urandom(300_000))
    return project.dir


def test_push_wait_at_a_terminal_uses_colour_and_prints_no_log_record(
    arena: FakeArena, project: Project
) -> None:
    code, text = run_in_terminal(["-C", str(_big_project(project)), "push", "--wait"], _env(arena))
    assert code == 0, text
    assert ESC + "[" in text, "colour at a terminal"
    lines = _visible_lines(text)
    _for_people(lines, arena)
    assert any(line.startswith("↑ weights.bin  300.0 kB") for line in lines), lines
    (done,) = [line for line in lines if "pushed to agent" in line]
    assert done.startswith("✓ ") and "deployed: live · " in done and "took " in done, lines
    assert not [line for line in lines if "status:" in line], "the live line said it, once"


def test_no_color_at_a_terminal_prints_no_escape_sequence(
    arena: FakeArena, project: Project
) -> None:
    code, text = run_in_terminal(
        ["-C", str(_big_project(project)), "push", "--wait"], _env(arena, NO_COLOR="1")
    )
    assert code == 0, text
    assert ESC not in text, repr(text)
    lines = _visible_lines(text)
    _for_people(lines, arena)
    assert "\r" not in text.replace("\r\n", "\n"), "no redraws without colour"
    assert any("pushed to agent" in line and "deployed: live" in line for line in lines)


def test_through_a_pipe_the_same_lines_plain(arena: FakeArena, project: Project) -> None:
    res = run_process(["-C", str(_big_project(project)), "push", "--wait"], _env(arena))
    assert res.code == 0, res.text
    assert ESC not in res.out and "\r" not in res.out
    lines = res.out.splitlines()
    _for_people(lines, arena)
    assert all(line.startswith(SYMBOLS) for line in lines), lines
    assert "↑ weights.bin  300.0 kB  new" in lines
    assert any(line.startswith("· status:") and "→ live" in line for line in lines), lines
    assert lines[-1].startswith("✓ pushed to agent") and "took " in lines[-1], lines


def test_verbose_diagnostics_go_to_stderr(arena: FakeArena, project: Project) -> None:
    res = run_process(["-C", str(project.dir), "-v", "push", "--no-deploy"], _env(arena))
    assert res.code == 0, res.text
    assert "GET /api/" in res.err and "GET /api/" not in res.out
    _for_people(res.err.splitlines(), arena)


def test_json_stays_json_at_a_terminal(arena: FakeArena, project: Project) -> None:
    import json

    code, text = run_in_terminal(["-C", str(project.dir), "--json", "push", "--wait"], _env(arena))
    assert code == 0, text
    assert ESC not in text
    events = [json.loads(line) for line in text.replace("\r\n", "\n").splitlines() if line]
    assert events[-1]["event"] == "push_done" and all("timestamp" in e for e in events)


def test_watch_names_agent_challenge_server_quota_and_rules_then_one_line_per_save(
    arena: FakeArena, project: Project, tmp_path: Path
) -> None:
    assert run_process(["-C", str(project.dir), "push", "--no-deploy"], _env(arena)).code == 0
    aid = project.agent_id()
    log = tmp_path / "watch.log"
    with log.open("wb") as out:
        proc = spawn_cli("-C", str(project.dir), "watch", env=_env(arena), stdout=out)
        try:
            wait_until(lambda: "synced after" in log.read_text(), 30, "the banner")
            project.write("notes.txt", "edited while watching\n")
            wait_until(lambda: "↑ notes.txt" in log.read_text(), 30, "the save's line")
        finally:
            stop_process(proc)
    lines = log.read_text().splitlines()
    _for_people(lines, arena)
    assert lines[0] == f"▶ watching {project.root}  Ctrl-C stops", lines
    banner = "\n".join(lines[1:8])
    assert f"agent      {aid} " in banner
    assert "challenge  1 " in banner and f"server     {arena.url} (API " in banner
    assert re.search(r"deploys    \d+ of \d+ left today", banner), banner
    assert "deploy     " in banner and "after the last save" in banner
    (save,) = [line for line in lines if line.startswith("↑ notes.txt")]
    assert save.startswith("↑ notes.txt  22 B  changed"), save
    assert f"✓ synced 1 file to agent {aid}" in lines
    assert ESC not in log.read_text()
