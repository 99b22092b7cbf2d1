"""events.py: the one EventSink protocol, its Null/Recording sinks, and who implements it."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from mlarena_sync.cli.output import Output, configure
from mlarena_sync.events import EventSink, NullSink, RecordingSink, as_callback
from mlarena_sync.store.journal import Journal, recover_pending
from mlarena_sync.store.state import BaseEntry, StateDir, TargetState


def test_recording_sink_keeps_names_levels_and_fields() -> None:
    sink = RecordingSink()
    sink.emit("upload", file="a.py", bytes=3)
    sink.emit("state_reset", level="warning", reason="not JSON")
    assert sink.names() == ["upload", "state_reset"]
    assert sink.names(level="warning") == ["state_reset"]
    assert sink.of("upload")[0]["file"] == "a.py"
    sink.clear()
    assert sink.names() == []


def test_wait_for_waits_on_the_events_not_on_a_sleep() -> None:
    sink = RecordingSink()
    timer = threading.Timer(0.05, lambda: sink.emit("synced", uploaded=1))
    timer.start()
    try:
        assert sink.wait_for("synced", timeout=5)[0]["uploaded"] == 1
    finally:
        timer.join()
    with pytest.raises(TimeoutError, match="synced"):
        sink.wait_for("synced", timeout=0.01, count=2)


def test_null_sink_and_the_callback_adapter() -> None:
    NullSink().emit("anything", level="error", x=1)
    sink = RecordingSink()
    as_callback(sink, level="debug")("api_request", status=200)
    assert [(e.name, e.level, e.fields) for e in sink] == [
        ("api_request", "debug", {"status": 200})
    ]


def _output(*, json_mode: bool, verbosity: int = 0) -> tuple[Output, io.StringIO]:
    stream = io.StringIO()
    return configure(json_mode=json_mode, verbosity=verbosity, stream=stream, color=False), stream


def test_output_is_an_event_sink_json() -> None:
    out, stream = _output(json_mode=True)
    sink: EventSink = out
    sink.emit("upload", file="a.py")
    sink.emit("state_reset", level="warning", reason="x")
    sink.emit("push_done", level="result", text="pushed", status="active")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["event"], e["level"]) for e in lines] == [
        ("upload", "info"),
        ("state_reset", "warning"),
        ("push_done", "info"),
    ]
    assert lines[2]["status"] == "active" and all("timestamp" in e for e in lines)


def test_output_result_reaches_a_person_even_when_quiet() -> None:
    out, stream = _output(json_mode=False, verbosity=-1)
    out.emit("upload", file="a.py")  # info: hidden by -q
    out.emit("push_done", level="result", text="pushed to agent 3", status="active")
    assert stream.getvalue() == "✓ pushed to agent 3\n"


def test_store_warnings_go_to_the_sink_it_was_given(tmp_path: Path) -> None:
    sink = RecordingSink()
    (tmp_path / "state.json").write_text("{not json", encoding="utf-8")
    assert StateDir(tmp_path, sink=sink).load("t") == TargetState()
    assert sink.names(level="warning") == ["state_reset"]


def test_journal_recovery_reports_to_the_state_dir_sink(tmp_path: Path) -> None:
    sink = RecordingSink()
    store = StateDir(tmp_path, sink=sink)
    journal = Journal(store, "t")
    assert journal.sink is sink
    journal.add_many({}, deletes=["gone.py"])
    state = TargetState(files={"gone.py": BaseEntry("gone.py", "0" * 64, 1)})
    assert recover_pending(journal, state, {})
    assert sink.names() == ["pending_delete_recovered"]
