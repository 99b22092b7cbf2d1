"""Output and error contract: JSON lines, the token never shown, exit codes, crash logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import Cli, in_project
from helpers.processes import cli_env
from helpers.project import Project

import mlarena_sync
from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import EXIT_CODES, exit_code_for, main
from mlarena_sync.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DeployFailedError,
    LockedError,
    NotFoundError,
    QuotaError,
    SelectionError,
    ServerError,
    WaitTimeoutError,
)


def test_json_output_parses_line_by_line_and_never_holds_the_token(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    secret = token.split("_", 3)[3]
    runs = [
        cli(*in_project(project, "--json", "-v", "push", "--wait")),
        cli(*in_project(project, "--json", "plan")),
        cli(*in_project(project, "--json", "status")),
        cli(*in_project(project, "--json", "logs", "--games", "--limit", "1")),
    ]
    project.write("agent.py", "this is not python(\n")
    runs.append(cli(*in_project(project, "--json", "push", "--wait")))
    for res in runs:
        assert token not in res.text and secret not in res.text
        events = res.json_lines()  # every stdout line is one JSON object
        assert events, res.text
        for event in events:
            assert isinstance(event["event"], str)
    push_events = {e["event"] for e in runs[0].json_lines()}
    assert {"agent_created", "upload", "synced", "deploy_requested", "push_done"} <= push_events
    uploads = [e for e in runs[0].json_lines() if e["event"] == "upload"]
    assert all({"file", "bytes", "name"} <= set(e) for e in uploads)
    assert any(e["event"] == "api_request" for e in runs[0].json_lines()), "-v shows requests"
    (plan,) = runs[1].json_lines()
    assert plan["is_empty"] is True and plan["deploy"] is False
    failed = runs[-1]
    assert failed.code == 5
    assert failed.json_lines()[-1]["event"] == "error"
    assert failed.json_lines()[-1]["exit_code"] == 5


def test_token_in_a_file_name_of_an_error_is_redacted(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    res = cli(*in_project(project, "--config", f"missing-{token}.yaml", "push"))
    assert res.code == 2
    assert token not in res.text
    assert "mlk_user_" in res.err  # masked, scope and lookup kept


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigError("x"), 2),
        (SelectionError(["a", "b"]), 2),
        (LockedError("x"), 2),
        (AuthError("x"), 4),
        (ConflictError("x"), 3),
        (QuotaError("x"), 5),
        (DeployFailedError("x", status="deploy_failed"), 6),
        (WaitTimeoutError("x"), 7),
        (NotFoundError("x"), 1),
        (ServerError("x"), 1),
        (KeyboardInterrupt(), 130),
    ],
)
def test_exit_code_table(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code
    assert set(EXIT_CODES.values()) == {1, 2, 3, 4, 5, 6, 7, 130}


def test_missing_token_is_exit_2_in_an_error_line_and_a_hint(
    arena: FakeArena, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(in_project(project, "push")) == 2
    error, hint = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("mlarena-sync: error: no API token") and "MLARENA_API_KEY" in error
    assert hint.startswith("  hint: ") and "--api-key-file" in hint


def test_wrong_scope_token_is_exit_4(
    arena: FakeArena,
    project: Project,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLARENA_API_KEY", arena.creator_token)
    assert main(in_project(project, "push")) == 4
    assert arena.creator_token not in capsys.readouterr().err


def test_unexpected_error_writes_a_redacted_crash_log(
    arena: FakeArena, token: str, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(inv: object, args: object) -> int:
        raise RuntimeError(f"kaput with {token}")

    monkeypatch.setattr("mlarena_sync.commands.status.run", boom)
    res = cli(*in_project(project, "status"))
    assert res.code == 1
    assert "Traceback" not in res.err
    assert token not in res.text
    path = Path(res.err.split("details in ")[1].split(" ")[0])
    try:
        log = path.read_text()
        assert "RuntimeError" in log and "Traceback" in log
        assert mlarena_sync.__version__ in log
        assert token not in log
    finally:
        path.unlink()


def test_ctrl_c_is_exit_130(cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(inv: object, args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlarena_sync.commands.push.run", interrupted)
    res = cli(*in_project(project, "push"))
    assert res.code == 130
    assert "interrupted" in res.err


def test_bad_flag_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--no-such-flag"]) == 2
    assert main(["push", "--deploy", "--no-deploy"]) == 2


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "push" in capsys.readouterr().out


def test_a_real_subprocess_push(arena: FakeArena, project: Project) -> None:
    env = cli_env(arena.user_token)
    proc = subprocess.run(
        [sys.executable, "-m", "mlarena_sync", "-C", str(project.dir), "--json", "push", "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["event"] == "push_done"
    assert events[-1]["status"] == "active"
    assert arena.user_token not in proc.stdout + proc.stderr
    assert proc.stderr == ""


def test_a_command_not_shipped_yet_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlarena_sync.cli import main as cli_module

    entry = ("mlarena_sync.commands.not_there_yet", "help", "mlarena-sync watch")
    monkeypatch.setitem(cli_module.COMMANDS, "watch", entry)
    assert main(["watch"]) == 1
    assert "not available yet" in capsys.readouterr().err


def test_redactor_masks_nested_values_and_rendered_lines() -> None:
    from mlarena_sync.cli.output import Redactor

    token = "mlk_user_abc123_s3cr3t_with_underscores"
    red = Redactor([token])
    event = red(None, "info", {"event": "x", "nested": {"list": [f"Bearer {token}"]}})
    assert token not in json.dumps(event)
    assert "s3cr3t_with_underscores" not in json.dumps(event)
    assert "mlk_user_abc123_***" in json.dumps(event)
    assert red(None, "info", f"line with {token}") == "line with mlk_user_abc123_***"


def test_a_crash_log_goes_to_the_state_folder_when_there_is_one(
    arena: FakeArena, cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def boom(inv: object, args: object) -> int:
        raise RuntimeError("kaput")

    monkeypatch.setattr("mlarena_sync.commands.status.run", boom)
    before = cli(*in_project(project, "status"))  # no .mlarena-sync/ yet: the temp folder
    first = Path(before.err.split("details in ")[1].split(" ")[0])
    assert first.parent == Path(tempfile.gettempdir()) and first.is_file()
    assert cli(*in_project(project, "push", "--no-deploy")).code == 0
    after = cli(*in_project(project, "status"))
    second = Path(after.err.split("details in ")[1].split(" ")[0])
    assert second.parent == project.dir / ".mlarena-sync" and second.is_file()
    assert "kaput" in second.read_text()


def test_ctrl_c_ends_logs_follow_quietly_and_push_wait_says_the_deploy_goes_on(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(inv: object, args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlarena_sync.commands.logs.run", interrupted)
    monkeypatch.setattr("mlarena_sync.commands.push.run", interrupted)
    follow = cli(*in_project(project, "logs", "--follow"))
    assert (follow.code, follow.err) == (130, "")
    wait = cli(*in_project(project, "push", "--wait"))
    assert wait.code == 130
    assert "it continues on the server" in wait.err
    assert "mlarena-sync logs --follow" in wait.err
    plain = cli(*in_project(project, "logs"))
    assert plain.code == 130 and "interrupted" in plain.err


def test_console_lines_are_for_people() -> None:
    """n1/n2: the text is the message (no key=value tail, no text='...' echo), relative times,
    real lines (see tests/unit/test_human_*.py for each formatter)."""
    import io
    from datetime import datetime, timedelta, timezone

    from mlarena_sync.cli.output import configure

    stream = io.StringIO()
    out = configure(stream=stream, color=False)
    out.event("synced", agent_id=7, uploaded=1, deleted=0, text="synced: 1 uploaded, 0 deleted")
    when = datetime.now(timezone.utc) + timedelta(hours=2, minutes=1)
    stamp = when.isoformat(timespec="seconds")
    out.warning("deploy_waiting", blocker="reserve", until=when, text=f"next slot at {stamp}")
    out.warning("deletes_paused", max_delete=5, text="7 deletes paused:\n  h1.py\n  h2.py")
    out.warning("sync_blocked", message="1 file problem(s):\n  tok.txt: a secret")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "✓ synced 1 file to agent 7"
    assert lines[1] in ("! next slot in 2 h 1 min", "! next slot in 2 h"), lines[1]
    assert lines[2:5] == ["! 7 deletes paused:", "    h1.py", "    h2.py"]
    assert lines[5:7] == ["! sync blocked: 1 file problem:", "    tok.txt: a secret"]
    text = stream.getvalue()
    assert "text=" not in text and "agent_id" not in text and "[info" not in text
    assert "\\n" not in text and stamp not in text


@pytest.mark.parametrize(
    "argv",
    [
        ("push", "--wait", "--timeout", "-5"),
        ("push", "--timeout", "0"),
        ("logs", "--games", "--limit", "0"),
        ("logs", "--follow", "--timeout", "nope"),
    ],
)
def test_out_of_range_flags_are_usage_errors(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert f"argument {argv[-2]}:" in err and ("give" in err or "is not a number" in err), err
