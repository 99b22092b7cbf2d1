"""The status and plan tables: their rows keep their text; at a terminal each is coloured by
what it says (green fine, cyan sent, red deleted or failed, yellow needs a look); off a terminal
or with NO_COLOR not one escape sequence; ISO times in a row become relative."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from helpers.terminal import TerminalStream

from mlarena_sync.cli.human.tables import row_kind
from mlarena_sync.cli.output import configure

ESC = "\x1b["
STATUS = (
    "agent 101 (demo, challenge 1): live · mean reward 9\n"
    "deploys today: 1 of 5 used, 4 left\n"
    "last deploy: deploy #1 in history, succeeded at {at}\n"
    "files: not in sync (2 to upload, 1 to delete, 0 unchanged)"
)


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        ("agent 101 (demo, challenge 1): live · mean reward 9", "ok"),
        ("agent 101 (demo, challenge 1): deploy failed (off the leaderboard) · Boom", "error"),
        ("agent 101 (demo, challenge 1): synced, not deployed (off the leaderboard)", "warning"),
        ("agent 101 (demo, challenge 1): queued", "info"),
        ("agent 101: upload_validated", "warning"),  # plan's line
        ("  upload    agent.py       70 B  changed", "up"),
        ("  delete    weights.bin             deleted locally", "delete"),
        ("  conflict  agent.py: changed here and on the server", "warning"),
        ("deploy: yes (files changed and passed the checks)", "ok"),
        ("deploy: no (nothing changed: no deploy needed)", "detail"),
        ("deploy: no (no deploy left today; next slot in 3 h)", "warning"),
        ("files: in sync (2 files)", "ok"),
        ("files: not in sync (2 to upload)", "warning"),
        ("last deploy: deploy #1 in history, succeeded 5 min ago", "ok"),
        ("last deploy: deployment 2, failed 1 h ago: Boom", "error"),
        ("deploys today: 1 of 5 used, 4 left", None),
        ("2 to upload, 1 to delete, 0 unchanged", None),
    ],
)
def test_each_row_has_the_kind_of_what_it_says(row: str, kind: str | None) -> None:
    assert row_kind(row) == kind


def _status_through(stream: io.StringIO, **kw: object) -> str:
    at = (datetime.now(timezone.utc) - timedelta(minutes=5, seconds=30)).isoformat()
    out = configure(stream=stream, err=io.StringIO(), **kw)  # type: ignore[arg-type]
    out.result("status", STATUS.format(at=at), agent_id=101)
    out.close()
    return stream.getvalue()


def test_at_a_terminal_the_status_table_is_coloured_row_by_row() -> None:
    text = _status_through(TerminalStream(), color=True)
    coloured = [row for row in text.splitlines() if ESC in row]
    assert len(coloured) == 3  # agent (green), last deploy (green), files (yellow); quota plain
    assert "\x1b[32magent 101 (demo, challenge 1): live" in text
    assert "\x1b[33mfiles: not in sync" in text
    assert re.search(r"succeeded 5 min \d+ s ago", text)  # the ISO time made relative


@pytest.mark.parametrize("stream", [io.StringIO(), TerminalStream()], ids=["pipe", "no-color"])
def test_off_a_terminal_or_without_colour_the_rows_are_plain(stream: io.StringIO) -> None:
    text = _status_through(stream, color=False)
    assert ESC not in text
    assert text.splitlines()[0] == "agent 101 (demo, challenge 1): live · mean reward 9"
