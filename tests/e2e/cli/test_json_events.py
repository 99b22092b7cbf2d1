"""``--json`` against docs/events.md, end to end on both API generations: every stdout line of
push (deploying, ``--wait``), status, plan, pull, logs, history, diff, watch, a failing command
and a usage error is one JSON object with ``event`` and ``timestamp``, and its event, fields and
level are the page's. The same event has the same fields in push and watch."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Cli, Result, in_project
from helpers.events_doc import EventsDoc, load
from helpers.processes import cli_env, spawn_cli, stop_process
from helpers.project import Project
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena

#: structlog's ``TimeStamper(fmt="iso", utc=True)``: ISO-8601 in UTC, with a ``Z``.
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(scope="module")
def doc() -> EventsDoc:
    return load()


def documented(res: Result, doc: EventsDoc) -> list[dict[str, Any]]:
    """``res``'s stdout, each line checked: one JSON object, ``event`` and ``timestamp``, an
    event the page documents, with only its fields, at one of its levels. The objects."""
    assert res.out.strip(), f"no output at all: {res.text}"
    return lines_of(res.out, doc)


def lines_of(out: str, doc: EventsDoc) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for line in out.splitlines():
        obj = json.loads(line)  # every line is JSON ...
        assert isinstance(obj, dict), line  # ... one object
        name = obj.get("event")
        assert isinstance(name, str) and name in doc.events, f"undocumented event: {line}"
        assert TIMESTAMP.match(str(obj.get("timestamp", ""))), f"no ISO UTC timestamp: {line}"
        extra = set(obj) - doc.allowed(name)
        assert not extra, f"`{name}`: fields {sorted(extra)} not in docs/events.md: {line}"
        assert obj.get("level") in doc.events[name].levels, f"`{name}`: level: {line}"
        objects.append(obj)
    return objects


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["event"] for o in objects]


def test_every_command_prints_documented_json_lines(
    arena: FakeArena, cli: Cli, project: Project, doc: EventsDoc
) -> None:
    pushed = cli(*in_project(project, "--json", "-v", "push", "--wait"))
    assert pushed.code == 0, pushed.text
    push = documented(pushed, doc)
    assert {"agent_created", "upload", "synced", "deploy_requested", "agent_status"} <= set(
        names(push)
    )
    assert {"api_request"} <= set(names(push)), "-v adds the requests, documented too"
    (done,) = [o for o in push if o["event"] == "push_done"]
    assert done is [o for o in push if o["level"] != "debug"][-1] and done["deployed"] is True
    runs = {
        "status": ["status"],
        "plan": ["plan"],
        "pull": ["pull"],
        "logs": ["logs"],
        "games": ["logs", "--games", "--limit", "1"],
        "history": ["history"],
        "diff": ["diff"],
    }
    seen: dict[str, list[str]] = {}
    for label, args in runs.items():
        res = cli(*in_project(project, "--json", *args))
        assert res.code == 0, (label, res.text)
        seen[label] = names(documented(res, doc))
    assert seen["status"] == ["status"] and seen["plan"] == ["plan"]
    assert seen["pull"][-1] == "pull_done" and "agent_status" in seen["logs"]
    assert "game_log" in seen["games"] and "deploy_record" in seen["history"]
    assert seen["diff"] == ["diff"]


def test_a_failing_command_ends_with_a_documented_error_line(
    arena: FakeArena, cli: Cli, project: Project, doc: EventsDoc
) -> None:
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    project.write("agent.py", "this is not python(\n")
    res = cli(*in_project(project, "--json", "push", "--wait"))
    assert res.code == 5, res.text
    objects = documented(res, doc)
    assert "validation_failed" in names(objects)
    error = objects[-1]
    assert error["event"] == "error" and error["level"] == "error"
    assert error["exit_code"] == 5 and "validation" in error["message"]
    assert "hint" in error  # held apart from the message


def test_an_error_before_any_request_is_a_documented_error_line(
    cli: Cli, project: Project, doc: EventsDoc
) -> None:
    res = cli(*in_project(project, "--json", "logs"))  # no agent bound yet
    assert res.code == 2, res.text
    (error,) = documented(res, doc)
    assert error["event"] == "error" and error["exit_code"] == 2


@pytest.mark.parametrize(
    "argv",
    [["--json", "bogus"], ["push", "--json", "--no-such-flag"], ["--json", "logs", "--limit", "x"]],
    ids=["unknown-command", "unknown-flag", "bad-value"],
)
def test_a_usage_error_is_one_documented_json_object(
    cli: Cli, project: Project, doc: EventsDoc, argv: list[str]
) -> None:
    res = cli(*in_project(project, *argv))
    assert res.code == 2, res.text
    (usage,) = documented(res, doc)
    assert usage["event"] == "usage_error" and usage["exit_code"] == 2
    assert usage["message"] and usage["usage"].startswith("mlarena-sync")
    assert re.search(r"^mlarena-sync( \w+)?: error: ", res.err, re.M)  # and people, on stderr


def _synced_keys(objects: list[dict[str, Any]]) -> set[str]:
    keys = [set(o) - {"timestamp"} for o in objects if o["event"] == "synced"]
    assert keys, names(objects)
    assert all(k == keys[0] for k in keys), keys
    return keys[0]


def test_push_and_watch_emit_the_same_fields_for_the_same_event(
    arena: FakeArena, token: str, cli: Cli, project: Project, doc: EventsDoc, tmp_path: Path
) -> None:
    pushed = cli(*in_project(project, "--json", "push", "--no-deploy"))
    assert pushed.code == 0, pushed.text
    push = documented(pushed, doc)
    log = tmp_path / "watch.jsonl"
    with log.open("wb") as out:
        proc = spawn_cli(
            *in_project(project, "--json", "watch"),
            env=cli_env(token),
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: '"watching"' in log.read_text(), 20, "the watch banner")
        project.write("notes.txt", "edited while watching\n")
        wait_until(lambda: '"synced"' in log.read_text(), 20, "the watch to sync the edit")
    finally:
        code = stop_process(proc)
    assert code == 130, log.read_text()
    watch = lines_of(log.read_text(), doc)
    assert names(watch)[0] == "watching" and names(watch)[-1] == "watch_stopped"
    assert _synced_keys(watch) == _synced_keys(push)
    assert {"agent_id", "created", "uploaded", "deleted", "unchanged", "status", "text"} <= (
        _synced_keys(push)
    )
