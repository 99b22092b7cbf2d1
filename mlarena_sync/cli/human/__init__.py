"""The renderer for people: each event becomes what a person reads (see ``docs/events.md`` for
what scripts get instead, with ``--json``).

* :mod:`.fmt`: sizes, durations, relative times, a sentence tidied;
* :mod:`.words`: the server's status names in words (``active`` → ``live``), the one mapping
  (the ``status`` table uses it too);
* :mod:`.lines`: one event → one :class:`~.lines.Line` (a formatter per common event, the
  event's ``text``, or a generic line: never a log record);
* :mod:`.banner`: the ``watch`` banner;
* :mod:`.console`: colour or not, and writing a line;
* :mod:`.live`: what is redrawn in place at a terminal (upload bars, the live deploy line);
* :class:`HumanConsole` (here): the one place that decides what each event does to the screen.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TextIO

from mlarena_sync.cli.human.console import PlainWriter, RichWriter, Writer
from mlarena_sync.cli.human.fmt import tidy
from mlarena_sync.cli.human.line import Line
from mlarena_sync.cli.human.lines import FORMATTERS, format_event
from mlarena_sync.cli.human.live import Board, DeployLine
from mlarena_sync.cli.human.tables import row_kind
from mlarena_sync.tokens import Redactor

__all__ = ["HumanConsole"]

#: Events that start following a deploy (the live line at a terminal).
_DEPLOY_STARTS = frozenset({"deploy_requested", "waiting_for_deploy"})
_DEPLOY_LINES = frozenset({"agent_status", "queue", "run"})
#: Results written as a table, tidied line by line (relative times, no nested parentheses) and
#: coloured by row (:mod:`.tables`); the others (a game log, a diff) are printed as written.
_TABLES = frozenset({"status", "plan"})


def _not_waited_for(facts: Mapping[str, Any]) -> bool:
    """A push's result with a deploy requested and not followed (no ``--wait``): no status."""
    return bool(facts.get("deployed")) and facts.get("status") is None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class HumanConsole:
    """Writes events for a person on ``stream`` (diagnostics on ``err``), with colour and
    redraws when ``color`` (a terminal) or as plain lines written once."""

    def __init__(
        self,
        *,
        stream: TextIO,
        err: TextIO,
        color: bool,
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.redactor = redactor
        self.clock = clock
        self.now = now
        self.writer: Writer
        self.board: Board | None = None
        if color:
            rich_writer = RichWriter(stream, redactor.text)
            self.writer = rich_writer
            self.board = Board(rich_writer.console, clock)
            atexit.register(self.close)
        else:
            self.writer = PlainWriter(stream, redactor.text)
        self.err = PlainWriter(err, redactor.text)
        self.deploy: DeployLine | None = None
        self._deploy_by_push = False
        self._deferred: DeployLine | None = None  # a deploy the push_done after it sums up
        self.watching = False

    # ---------------------------------------------------------------- events
    def show(self, name: str, level: str, fields: Mapping[str, Any]) -> None:
        """One event (already filtered by verbosity)."""
        facts: dict[str, Any] = self.redactor.value(dict(fields))
        if name == "upload_progress":
            if self.board is not None:
                self.board.upload(
                    str(facts.get("file")), facts.get("bytes") or 0, facts.get("total") or 0
                )
            return
        if self._deferred is not None and name != "push_done":
            self._say_deployed(self._deferred)
        if name == "watching":
            self.watching = True
        if name == "upload" and self.board is not None:
            self.board.uploaded(str(facts.get("file")))
        if name == "push_done" and self.deploy is not None:
            self._settle_quietly()
        if name in _DEPLOY_STARTS:
            self._start_deploy(name, facts.get("agent_id"))
        elif self.deploy is not None and name in _DEPLOY_LINES and self._follow(name, level, facts):
            return
        line = format_event(name, level, facts, self.now())
        if line is None:
            return
        if name == "push_done" and self._deferred is not None:
            if not _not_waited_for(facts):  # how it ended, how long it took
                note = self._deferred.summary(self.clock(), said=line.text)
                line = Line(line.kind, line.text, note, line.more)
            self._deferred = None  # not waited for: still going (the line says where to look)
        (self.err if level == "debug" else self.writer).line(line)

    def _start_deploy(self, name: str, agent_id: object) -> None:
        self.deploy = DeployLine(self.clock(), agent_id)
        self._deploy_by_push = name == "deploy_requested" and not self.watching
        if self.board is not None:
            self.board.follow(self.deploy)

    def _follow(self, name: str, level: str, facts: dict[str, Any]) -> bool:
        """A status line of the deploy followed; True when it is absorbed (not printed)."""
        deploy = self.deploy
        assert deploy is not None
        deploy.feed(name, facts, self.clock())
        if not deploy.ended:
            return self.board is not None  # a terminal: the live line says it
        self.deploy = None
        if self.board is not None:
            self.board.unfollow()
            if self._deploy_by_push and not deploy.failed:
                self._deferred = deploy  # the push_done line after it says it
            else:
                self._say_deployed(deploy)
            return True
        if self._deploy_by_push and not deploy.failed:
            self._deferred = deploy
            return False
        line = format_event(name, level, facts, self.now())
        if line is not None:
            summary = deploy.summary(self.clock(), said=line.text)
            self.writer.line(Line(line.kind, line.text, summary, line.more))
        return True

    def _settle_quietly(self) -> None:
        """The push's result came while its deploy was still followed: the result says it."""
        deploy, self.deploy = self.deploy, None
        assert deploy is not None
        deploy.end(self.clock())
        if self.board is not None:
            self.board.unfollow()
        self._deferred = deploy

    def _say_deployed(self, deploy: DeployLine) -> None:
        self._deferred = None
        line = deploy.result(self.clock())
        self.writer.line(Line("error" if deploy.failed else "result", line))

    # ---------------------------------------------------------------- text
    def result(self, name: str, text: str, fields: Mapping[str, Any]) -> None:
        """A command's outcome: its own formatter when it has one, else ``text`` as written
        (a table, a game log: never reflowed)."""
        if name in FORMATTERS:
            self.show(name, "result", {**fields, "text": text})
        elif name in _TABLES:
            now = self.now()
            rows = [tidy(row, now) for row in text.splitlines()]
            self._flush_deferred()
            self.writer.rows([(row, row_kind(row)) for row in rows])
        else:
            self.text(text)

    def text(self, text: str) -> None:
        """Human-only text, as written."""
        self._flush_deferred()
        self.writer.plain(text)

    def _flush_deferred(self) -> None:
        if self._deferred is not None:
            self._say_deployed(self._deferred)

    def close(self) -> None:
        """Stop what is redrawn; say a deploy's result no line said yet."""
        if self.board is not None:
            self.board.stop()
        if self._deferred is not None:
            self._say_deployed(self._deferred)
