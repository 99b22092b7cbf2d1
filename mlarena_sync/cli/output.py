"""What the user sees: the human/JSON split for command output, and structlog's configuration.

Configured once per run by the CLI (:func:`configure`), nowhere else. Two renderings of the
same events, on **stdout** (stderr is kept for the one line of an error, printed by the CLI, and
for ``-v`` diagnostics):

* ``--json``: one JSON object per line, stable keys (``event``, ``level``, ``timestamp``, then
  the event's own: ``file``, ``bytes``, ``status``, ...). Human-only text (tables) is not printed;
  commands emit the same facts as events instead.
* for people (:mod:`mlarena_sync.cli.human`): one line per event with a symbol, human sizes and
  relative times; colour, progress bars and a live deploy line at a terminal; the same lines
  without colour or redraws elsewhere (CI logs, pipes, ``NO_COLOR``, ``--no-color``). Events
  logged through structlog (:class:`~mlarena_sync.events.LogSink`, a module's ``log``) end in
  the same renderer: never a log-record line.

``-q`` shows warnings, errors and results only, ``-v`` adds debug events (every HTTP request) on
stderr. The redactor runs on every event's fields and on every rendered line, as a final guard:
whatever a code path let slip, the API token never reaches the terminal or a log file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import MutableMapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO


def _import_structlog() -> ModuleType:
    """structlog, imported without rich: ``structlog.dev`` imports rich whenever it is installed
    (for the tracebacks of its ConsoleRenderer, which is not used here), ~50 ms that ``--json``
    and plain output never need. rich is imported later, by the renderer, only with colour."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        import structlog as module

        return module
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` fails: not installed
    try:
        import structlog as module
    finally:
        del sys.modules["rich"]
    return module


if TYPE_CHECKING:
    import structlog
else:
    structlog = _import_structlog()

from mlarena_sync.events import Level  # noqa: E402
from mlarena_sync.tokens import Redactor  # noqa: E402

if TYPE_CHECKING:
    from mlarena_sync.cli.human import HumanConsole

__all__ = ["Output", "Redactor", "configure", "level_for"]


def level_for(verbosity: int) -> int:
    """``-q`` (−1) → WARNING, ``-qq`` → ERROR, default → INFO, ``-v`` → DEBUG."""
    if verbosity >= 1:
        return logging.DEBUG
    if verbosity == 0:
        return logging.INFO
    if verbosity == -1:
        return logging.WARNING
    return logging.ERROR


def _json_default(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    return str(value)


def _dumps(obj: Any, **kw: Any) -> str:
    return json.dumps(obj, default=_json_default, ensure_ascii=False, **kw)


_LEVEL_NUMBERS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class HumanProcessor:
    """The last structlog processor for people: hands the event to the
    :class:`~mlarena_sync.cli.human.HumanConsole` (which writes it) and drops the record."""

    def __init__(self, console: HumanConsole) -> None:
        self.console = console

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        fields = dict(event_dict)
        name = str(fields.pop("event", ""))
        level = str(fields.pop("level", method))
        fields.pop("timestamp", None)
        self.console.show(name, "warning" if level == "warn" else level, fields)
        raise structlog.DropEvent


class Output:
    """The command-facing side: events and human-only text. An
    :class:`~mlarena_sync.events.EventSink` (:meth:`emit`): the core reports to it."""

    def __init__(
        self,
        *,
        json_mode: bool,
        verbosity: int,
        stream: TextIO,
        color: bool,
        redactor: Redactor,
        human: HumanConsole | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.verbosity = verbosity
        self.stream = stream
        self.color = color
        self.redactor = redactor
        self.human = human
        self.log = structlog.get_logger("mlarena_sync")

    @property
    def interactive(self) -> bool:
        return self.color

    def add_secret(self, secret: str | None) -> None:
        self.redactor.add(secret)

    def _shown(self, level: str) -> bool:
        return _LEVEL_NUMBERS.get(level, logging.ERROR) >= level_for(self.verbosity)

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        """One event at its level; a ``result`` is :meth:`result` (its ``text`` for a person)."""
        if level == "result":
            text = fields.pop("text", None)
            self.result(event, text if isinstance(text, str) else event, **fields)
        elif self.human is None:
            getattr(self.log, level)(event, **fields)
        elif self._shown(level):
            self.human.show(event, level, fields)

    def event(self, event: str, **fields: Any) -> None:
        """An info event: JSON line with ``--json``, a line for a person otherwise."""
        self.emit(event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.emit(event, level="warning", **fields)

    def text(self, text: str = "") -> None:
        """Human-only text (tables, summaries); silent with ``--json`` or ``-q``."""
        if self.json_mode or self.verbosity < 0:
            return
        if self.human is not None:
            self.human.text(text)
            return
        self.stream.write(self.redactor.text(text) + "\n")
        self.stream.flush()

    def result(self, event: str, text: str, **fields: Any) -> None:
        """A command's outcome: ``text`` for humans (even with ``-q``), an event for scripts."""
        if self.json_mode:
            self.log.info(event, **fields)
        elif self.human is not None:
            self.human.result(event, text, fields)
        else:
            self.stream.write(self.redactor.text(text) + "\n")
            self.stream.flush()

    def json_line(self, obj: dict[str, Any]) -> None:
        """A raw JSON object on its own line (``--json`` only)."""
        if self.json_mode:
            self.stream.write(self.redactor.text(_dumps(obj)) + "\n")
            self.stream.flush()

    def for_person(self, text: str) -> str:
        """``text`` as a person reads it (an error line): ISO times made relative, no nested
        parentheses, counts that agree (:func:`~mlarena_sync.cli.human.fmt.tidy`)."""
        from datetime import datetime, timezone

        from mlarena_sync.cli.human.fmt import tidy

        return tidy(text, datetime.now(timezone.utc))

    def close(self) -> None:
        """Stop what is redrawn at a terminal (a progress bar, the live deploy line); to call
        before an error line is printed, and at the end (also done at exit)."""
        if self.human is not None:
            self.human.close()


def configure(
    *,
    json_mode: bool = False,
    verbosity: int = 0,
    stream: TextIO | None = None,
    color: bool | None = None,
    redactor: Redactor | None = None,
    err: TextIO | None = None,
) -> Output:
    """Configure structlog (and quiet the stdlib loggers of our dependencies); the Output.

    ``color``: None is auto (a terminal, ``TERM`` not ``dumb``, ``NO_COLOR`` unset or empty);
    never with ``--json``. ``err`` (default stderr) takes the ``-v`` diagnostics."""
    out = stream if stream is not None else sys.stdout
    redactor = redactor or Redactor()
    human: HumanConsole | None = None
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
    ]
    if json_mode:
        use_color = False
        processors += [
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redactor,
            structlog.processors.JSONRenderer(default=_json_default, ensure_ascii=False),
            redactor,  # last line of defence, on the rendered text
        ]
    else:
        from mlarena_sync.cli.human import HumanConsole
        from mlarena_sync.cli.human.console import wants_color

        use_color = wants_color(out, color, os.environ)
        human = HumanConsole(
            stream=out,
            err=err if err is not None else sys.stderr,
            color=use_color,
            redactor=redactor,
        )
        processors += [redactor, HumanProcessor(human)]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level_for(verbosity)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    for name in ("urllib3", "requests", "watchdog", "cheroot"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return Output(
        json_mode=json_mode,
        verbosity=verbosity,
        stream=out,
        color=use_color,
        redactor=redactor,
        human=human,
    )
