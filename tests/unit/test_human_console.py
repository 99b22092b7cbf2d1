"""The renderer end to end, in-process: colour only at a terminal (never with NO_COLOR), no
progress lines off a terminal, ``-v`` on stderr, ``-q`` keeping warnings and results, structlog
records rendered as lines, secrets masked, and a followed deploy ending in one result line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
import structlog
from helpers.terminal import TerminalStream

from mlarena_sync.cli.human import HumanConsole
from mlarena_sync.cli.output import Output, configure
from mlarena_sync.events import LogSink
from mlarena_sync.tokens import Redactor

TOKEN = "mlk_user_abc123_s3cr3tvalue_0123456789"
ESC = "\x1b["


@pytest.fixture(autouse=True)
def _reset_structlog() -> object:
    yield None
    structlog.reset_defaults()


def _push_wait(out: Output) -> None:
    out.emit("upload_progress", file="big.pt", bytes=6_000_000, total=60_000_000, percent=10)
    out.emit("upload", file="big.pt", name="big.pt", bytes=60_000_000, reason="new")
    out.emit("synced", agent_id=101, uploaded=1, deleted=0, unchanged=1, status="upload_validated")
    out.emit("deploy_requested", agent_id=101, deployment_id=7, status="deploy_queue")
    out.emit("agent_status", level="result", status="deploy_queue", text="status: deploy_queue")
    out.emit("queue", level="result", position="1/2", queue_position=1, queue_total=2)
    out.emit("run", level="result", run=1, status="finished", reward=190.0, text="run 1: finished")
    out.emit("run", level="result", run=2, status="finished", reward=200.0, text="run 2: finished")
    out.emit(
        "agent_status",
        level="result",
        status="active",
        previous="deploy_queue",
        text="status: deploy_queue → active",
    )
    out.emit(
        "push_done",
        level="result",
        text="pushed to agent 101: deployed: active",
        deployed=True,
        status="active",
    )


def test_off_a_terminal_plain_lines_no_escape_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    out = configure(stream=stream, err=io.StringIO())
    _push_wait(out)
    text = stream.getvalue()
    assert ESC not in text and "\r" not in text
    assert "10 %" not in text and "big.pt  60.0 MB  new" in text
    assert text.count("big.pt") == 1, "no progress line"
    lines = text.splitlines()
    assert "· queued: position 1 of 2" in lines
    assert "· status: queued → live" in lines, "status names in words"
    assert lines[-1].startswith("✓ pushed to agent 101: deployed: live  mean reward 195 over 2")
    assert "took" in lines[-1]


def test_at_a_terminal_colour_a_live_line_and_one_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    stream = TerminalStream()
    out = configure(stream=stream, err=io.StringIO())
    assert out.color
    _push_wait(out)
    out.close()
    text = stream.getvalue()
    assert ESC in text
    assert "pushed to agent 101: deployed: live" in text and "mean reward 195 over 2 runs" in text
    assert "status: deploy_queue → active" not in text, "the live line said it, redrawn"
    assert "[info" not in text and "agent_id=" not in text


def test_no_color_at_a_terminal_means_no_escape_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    stream = TerminalStream()
    out = configure(stream=stream, err=io.StringIO())
    assert not out.color
    _push_wait(out)
    out.close()
    assert ESC not in stream.getvalue()
    assert configure(stream=TerminalStream(), color=False).color is False  # --no-color
    monkeypatch.setenv("NO_COLOR", "")  # empty: not set (no-color.org)
    monkeypatch.setenv("TERM", "dumb")
    assert configure(stream=TerminalStream()).color is False


def test_verbose_diagnostics_go_to_stderr_and_quiet_keeps_warnings_and_results() -> None:
    stream, err = io.StringIO(), io.StringIO()
    out = configure(stream=stream, err=err, verbosity=1, color=False)
    out.emit("api_request", level="debug", method="GET", route="/api/x", status=200, elapsed_ms=3)
    structlog.get_logger("mlarena_sync.api").debug("api_retry", method="GET", route="/y", attempt=1)
    assert stream.getvalue() == ""
    assert err.getvalue().splitlines() == ["· GET /api/x → 200  3 ms", "· retrying GET /y"]
    quiet = io.StringIO()
    out = configure(stream=quiet, err=err, verbosity=-1, color=False)
    out.emit("upload", file="a.py", bytes=3, reason="new")
    out.warning("remote_changed", name="b.py", text="changed on the server")
    out.emit("push_done", level="result", text="pushed")
    out.text("a table")
    assert quiet.getvalue().splitlines() == ["! changed on the server", "✓ pushed"]


def test_structlog_records_and_the_log_sink_end_as_lines_for_people() -> None:
    stream = io.StringIO()
    configure(stream=stream, color=False)
    LogSink().emit("upload", file="w.bin", name="w.bin", bytes=3_000_000, reason="new")
    structlog.get_logger("mlarena_sync.engine").warning("deploy_reply_lost", reason="timeout")
    assert stream.getvalue().splitlines() == [
        "↑ w.bin  3.0 MB  new",
        "! deploy reply lost: timeout",
    ]


def test_secrets_are_masked_in_fields_and_in_sentences() -> None:
    stream = io.StringIO()
    out = configure(stream=stream, color=False, redactor=Redactor([TOKEN]))
    out.warning("sync_failed", message=f"refused: Bearer {TOKEN}")
    out.emit("held", text=f"token {TOKEN} in a sentence")
    out.text(f"a table with {TOKEN}")
    assert TOKEN not in stream.getvalue() and "s3cr3tvalue" not in stream.getvalue()
    assert stream.getvalue().count("mlk_user_abc123_***") == 3


def test_the_json_lines_are_untouched_and_load_no_rich() -> None:
    probe = (
        "import io, json, sys\n"
        "from mlarena_sync.cli.output import configure\n"
        "s = io.StringIO()\n"
        "out = configure(json_mode=True, stream=s)\n"
        "out.emit('upload', file='a.py', name='a.py', bytes=3, reason='new')\n"
        "print(json.dumps({'line': s.getvalue(), 'rich': 'rich' in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(proc.stdout)
    assert result["rich"] is False
    event = json.loads(result["line"])
    assert list(event) == ["file", "name", "bytes", "reason", "event", "level", "timestamp"]


def test_plain_output_loads_no_rich() -> None:
    probe = (
        "import io, sys\n"
        "from mlarena_sync.cli.output import configure\n"
        "out = configure(stream=io.StringIO(), color=False)\n"
        "out.emit('upload', file='a.py', bytes=3, reason='new')\n"
        "print('rich' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "False"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _console(stream: io.StringIO, clock: Clock, *, color: bool) -> HumanConsole:
    return HumanConsole(
        stream=stream, err=io.StringIO(), color=color, redactor=Redactor(), clock=clock
    )


@pytest.mark.parametrize("color", [False, True], ids=["plain", "terminal"])
def test_a_watch_deploy_ends_in_one_result_line(color: bool) -> None:
    stream, clock = (TerminalStream() if color else io.StringIO()), Clock()
    human = _console(stream, clock, color=color)
    human.show("watching", "info", {"root": "/w"})
    human.show("deploy_requested", "info", {"agent_id": 101, "deployment_id": 2})
    human.show("agent_status", "result", {"status": "deploy_queue", "text": "status: deploy_queue"})
    clock.now += 42
    human.show(
        "agent_status",
        "result",
        {"status": "active", "previous": "deploy_queue", "score": 47.3333, "text": "status: x"},
    )
    human.close()
    lines = _visible(stream.getvalue())
    if color:
        assert lines[-1] == "✓ agent 101 deployed: live · score 47.3 · took 42 s", lines
        assert not [line for line in lines if "status:" in line]
    else:
        assert lines[-1] == "· status: queued → live · score 47.3  took 42 s", lines


def test_a_stale_verdict_first_does_not_end_the_deploy_and_the_result_does() -> None:
    stream, clock = io.StringIO(), Clock()
    human = _console(stream, clock, color=False)
    human.show("deploy_requested", "info", {"agent_id": 5})
    human.show("agent_status", "result", {"status": "active", "text": "status: active"})
    assert human.deploy is not None, "the previous deploy's verdict: still following"
    clock.now += 3
    said = {"text": "pushed to agent 5; deployed: active", "deployed": True, "status": "active"}
    human.show("push_done", "result", said)
    assert human.deploy is None
    assert stream.getvalue().splitlines()[-1] == "✓ pushed to agent 5; deployed: live  took 3 s"


def test_a_failed_deploy_says_so_in_red_and_is_not_held_back() -> None:
    stream, clock = TerminalStream(), Clock()
    human = _console(stream, clock, color=True)
    human.show("deploy_requested", "info", {"agent_id": 5})
    human.show("agent_status", "result", {"status": "deploy_queue", "text": "q"})
    human.show("agent_status", "result", {"status": "deploy_failed", "previous": "deploy_queue"})
    human.show("agent_error", "result", {"status": "deploy_failed", "message": "Boom\nTrace"})
    human.close()
    lines = _visible(stream.getvalue())
    assert lines[-3:] == [
        "✗ agent 5: deploy failed · took 0 s",
        "✗ deploy failed: Boom",
        "    Trace",
    ]
    assert "\x1b[1;31m" in stream.getvalue()  # bold red


@pytest.mark.parametrize("color", [False, True], ids=["plain", "terminal"])
def test_a_v0_deploy_says_the_reward_its_message_names(color: bool) -> None:
    """v0 sends no score: the result line takes the reward from the server's message."""
    stream, clock = (TerminalStream() if color else io.StringIO()), Clock()
    human = _console(stream, clock, color=color)
    human.show("watching", "info", {"root": "/w"})
    human.show("deploy_requested", "info", {"agent_id": 103})
    human.show("agent_status", "result", {"status": "deploy_queue", "message": "Deploy queued"})
    clock.now += 2
    message = "Deployed: mean reward 42.3333"
    fields = {"status": "active", "previous": "deploy_queue", "message": message, "score": None}
    human.show("agent_status", "result", fields)
    human.close()
    lines = _visible(stream.getvalue())
    if color:
        assert lines[-1] == "✓ agent 103 deployed: live · mean reward 42.3 · took 2 s", lines
    else:
        assert lines[-2:] == [
            "· status: queued",
            "· status: queued → live · mean reward 42.3  took 2 s",
        ], lines


@pytest.mark.parametrize("color", [False, True], ids=["plain", "terminal"])
def test_a_push_that_did_not_wait_says_where_to_follow_not_how_long(color: bool) -> None:
    stream, clock = (TerminalStream() if color else io.StringIO()), Clock()
    human = _console(stream, clock, color=color)
    human.show("deploy_requested", "info", {"agent_id": 101, "deployment_id": 1})
    human.show(
        "push_done",
        "result",
        {
            "text": "pushed to agent 101: 1 uploaded; deploy requested (deployment 1)",
            "deployed": True,
            "deployment_id": 1,
        },
    )
    human.close()
    last = _visible(stream.getvalue())[-1]
    assert last == (
        "✓ pushed to agent 101: 1 uploaded; deploy requested (deployment 1)"
        "  follow it: `mlarena-sync logs --follow`"
    )


def _visible(text: str) -> list[str]:
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r\n", "\n")
    return [line.split("\r")[-1] for line in plain.split("\n") if line.split("\r")[-1].strip()]


def test_the_status_table_gets_relative_times_and_other_results_stay_as_written() -> None:
    from datetime import datetime, timedelta, timezone

    stream = io.StringIO()
    out = configure(stream=stream, color=False)
    slot = (datetime.now(timezone.utc) + timedelta(hours=3, seconds=30)).isoformat()
    out.result("status", f"deploys today: 5 of 5 used (next slot at {slot})\nfiles: in sync")
    out.result("game_log", f"=== game 1 at {slot} (seed (7))")
    assert stream.getvalue().splitlines() == [
        "deploys today: 5 of 5 used (next slot in 3 h)",
        "files: in sync",
        f"=== game 1 at {slot} (seed (7))",
    ]
