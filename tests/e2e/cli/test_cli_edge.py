"""The command line's edge (issue 13): ``--no-color`` and ``NO_COLOR``, JSON for every error
(usage errors included) with a ``timestamp``, and "did you mean" for a mistyped command, flag or
choice."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Cli, in_project, run_cli
from helpers.project import Project
from helpers.terminal import run_in_terminal

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli import output

ESC = "\x1b["


def terminal_env(token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env.update(
        MLARENA_API_KEY=token,
        TERM="xterm-256color",
        COLUMNS="100",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    env.update(extra)
    return env


def test_no_color_and_NO_COLOR_print_no_escape_at_a_terminal(
    arena: FakeArena, token: str, project: Project
) -> None:
    """At a pseudo-terminal a push is in colour; ``NO_COLOR=1`` or ``--no-color`` print none."""
    runs = {
        "colour": ([], {}),
        "NO_COLOR=1": ([], {"NO_COLOR": "1"}),
        "--no-color": (["--no-color"], {}),
    }
    seen: dict[str, str] = {}
    for version, (flags, extra) in enumerate(runs.values()):
        project.write("agent.py", f"VERSION = {version}\n")  # an upload every time
        code, text = run_in_terminal(
            [*flags, *in_project(project, "push", "--no-deploy")], terminal_env(token, **extra)
        )
        assert code == 0, text
        seen[list(runs)[version]] = text
    assert ESC in seen["colour"], seen["colour"]
    assert ESC not in seen["NO_COLOR=1"], seen["NO_COLOR=1"]
    assert ESC not in seen["--no-color"], seen["--no-color"]
    assert "agent.py" in seen["NO_COLOR=1"] and "agent.py" in seen["--no-color"]


@pytest.mark.parametrize(
    ("flags", "env", "color"),
    [
        ([], {}, None),
        ([], {"NO_COLOR": "1"}, False),
        ([], {"NO_COLOR": ""}, None),  # no-color.org: set *and not empty*
        (["--no-color"], {}, False),
        (["--json", "--no-color"], {}, False),
    ],
)
def test_the_colour_choice_reaches_the_renderer(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    flags: list[str],
    env: dict[str, str],
    color: bool | None,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    asked: list[Any] = []
    real = output.configure

    def configure(**kwargs: Any) -> output.Output:
        asked.append(kwargs.get("color"))
        return real(**kwargs)

    monkeypatch.setattr(output, "configure", configure)
    res = run_cli(capsys, *flags, "-C", str(tmp_path), "status")  # no mlarena.yaml: exit 2
    assert res.code == 2, res.err
    assert asked == [color]
    if "--json" in flags:
        (line,) = res.json_lines()  # --json untouched: still one object, no escape
        assert line["event"] == "error" and ESC not in res.out


def assert_timestamp(line: dict[str, Any]) -> None:
    """ISO-8601 in UTC, as structlog's TimeStamper(fmt="iso", utc=True) writes it."""
    stamp = str(line["timestamp"])
    assert stamp.endswith("Z"), stamp
    when = datetime.fromisoformat(stamp.removesuffix("Z") + "+00:00")
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60


USAGE_ERRORS = {
    "unknown command": ["--json", "psuh"],
    "bad flag": ["push", "--wiat", "--json"],
    "bad value": ["--json", "--api", "v5", "status"],
    "bad int": ["logs", "--json", "--limit", "many"],
    "no command": ["--json"],
    "extra argument": ["--json", "status", "now"],
}


@pytest.mark.parametrize("argv", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_usage_error_with_json_is_one_json_object(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    res = run_cli(capsys, *argv)
    assert res.code == 2
    (line,) = res.json_lines()  # stdout: that one object and nothing else
    assert set(line) == {"event", "level", "timestamp", "message", "usage", "exit_code"}
    assert (line["event"], line["level"], line["exit_code"]) == ("usage_error", "error", 2)
    assert_timestamp(line)
    assert line["usage"].startswith("mlarena-sync ") and "\n" not in line["usage"]
    # stderr keeps the usual text for a person (a typo with a suggestion: no usage block)
    assert res.err.startswith("usage: mlarena-sync") != ("did you mean" in line["message"])
    assert f"error: {line['message']}\n" in res.err


def test_without_json_a_usage_error_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    res = run_cli(capsys, "push", "--wiat")
    assert (res.code, res.out) == (2, "")
    assert "mlarena-sync push: error: unrecognized arguments: --wiat" in res.err


def test_an_error_line_has_a_timestamp_and_its_hint_apart(cli: Cli, project: Project) -> None:
    project.config.write_text(
        project.config.read_text(encoding="utf-8").replace("competition: 1\n", "competition: 999\n")
    )
    res = cli("--json", *in_project(project, "push", "--no-deploy"))
    assert res.code == 2, res.err
    line = res.json_lines()[-1]
    assert (line["event"], line["level"], line["exit_code"]) == ("error", "error", 2)
    assert_timestamp(line)
    assert "challenge 999 was not found" in line["message"]
    error_line, *hint_line = res.err.strip().splitlines()[-2:]
    if "hint" in line:  # what to do: apart in JSON, on a `hint:` line under it for a person
        assert line["hint"] not in line["message"]
        assert hint_line == [f"  hint: {line['hint']}"]
    else:
        error_line = hint_line[0]
    assert error_line == f"mlarena-sync: error: {line['message']}"


def test_a_hint_is_its_own_json_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    res = run_cli(capsys, "--json", "-C", str(tmp_path), "status")  # no mlarena.yaml
    assert res.code == 2
    (line,) = res.json_lines()
    assert "no mlarena.yaml" in line["message"] and "mlarena-sync init" in line["hint"]
    assert "mlarena-sync init" not in line["message"]
    assert f"error: {line['message']}\n  hint: {line['hint']}\n" in res.err


DID_YOU_MEAN = {
    "command": (["psuh"], "mlarena-sync: error: unknown command 'psuh'; did you mean 'push'?"),
    "flag": (["push", "--wiat"], "unrecognized arguments: --wiat; did you mean '--wait'?"),
    "flag=value": (
        ["logs", "--limt=3"],
        "unrecognized arguments: --limt=3; did you mean '--limit'?",
    ),
    "common flag": (["status", "--jsn"], "did you mean '--json'?"),
    "choice": (
        ["--api", "v46", "status"],
        "invalid choice: 'v46' (choose from 'auto', 'v0', 'v4.6'); did you mean 'v4.6'?",
    ),
}


@pytest.mark.parametrize(("argv", "said"), DID_YOU_MEAN.values(), ids=DID_YOU_MEAN.keys())
def test_did_you_mean(capsys: pytest.CaptureFixture[str], argv: list[str], said: str) -> None:
    """Only the line that fixes the typo and where to look, as git and cargo do: no usage."""
    res = run_cli(capsys, *argv)
    assert res.code == 2
    error, hint = res.err.splitlines()
    assert said in error, res.err
    assert hint.startswith("  hint: run 'mlarena-sync") and "--help' for " in hint, res.err


def test_nothing_close_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli(capsys, "xyzzy")
    assert res.code == 2
    last = res.err.splitlines()[-1]
    assert "unknown command 'xyzzy' (commands: init, plan, push," in last
    assert "did you mean" not in last


def test_a_token_given_as_an_argument_is_not_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pasted = "mlk_user_abcd1234_fake_alice_0123456789abcdef"
    res = run_cli(capsys, "--json", "push", pasted)
    assert res.code == 2
    assert "0123456789abcdef" not in res.text
