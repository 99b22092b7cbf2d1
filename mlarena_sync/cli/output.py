"""What the user sees: structlog configuration, and the human/JSON split for command output.

Configured once per run by the CLI (:func:`configure`), nowhere else. Three renderings of the
same events, all on **stdout** (stderr is kept for the one line of an error, printed by the CLI):

* ``--json``: one JSON object per line, stable keys (``event``, ``level``, ``timestamp``, then
  the event's own: ``file``, ``bytes``, ``status``, ...). Human-only text (tables) is not printed;
  commands emit the same facts as events instead.
* a TTY: structlog's console renderer, with colours.
* anything else (CI logs, pipes) without ``--json``: the same console layout without colours,
  i.e. ``time [level] event key=value ...``: readable in a CI log and still greppable.

``-q`` shows warnings and errors only, ``-v`` adds debug events (every HTTP request). A redaction
processor runs last, on the rendered line, as a final guard: whatever a code path let slip, the
API token never reaches the terminal or a log file.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from mlarena_sync.events import Level
from mlarena_sync.tokens import Redactor

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


class HumanRenderer:
    """structlog's console renderer, made for people: an event's ``text`` is its message (not an
    echo in ``text='...'``), datetimes are ISO, and multi-line values are printed as real lines
    under the event's line (not a repr with ``\\n``). ``--json`` is untouched by this."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = dict(event_dict)
        tail: list[str] = []
        text = fields.pop("text", None)
        if isinstance(text, str) and text.strip():
            first, *rest = text.rstrip().splitlines()
            fields["event"] = first
            tail.extend(rest)
        for key, value in list(fields.items()):
            if key == "event":
                continue
            isoformat = getattr(value, "isoformat", None)
            if callable(isoformat):
                fields[key] = _iso(value)
            elif isinstance(value, str) and "\n" in value.strip():
                del fields[key]
                head, *more = value.strip().splitlines()
                tail.append(f"  {key}: {head}")
                tail.extend(f"    {line}" for line in more)
        line = str(self.inner(logger, method, fields))
        return "\n".join([line, *tail])


def _iso(value: Any) -> str:
    try:
        return str(value.isoformat(timespec="seconds"))
    except TypeError:  # a date: no timespec
        return str(value.isoformat())


def _dumps(obj: Any, **kw: Any) -> str:
    return json.dumps(obj, default=_json_default, ensure_ascii=False, **kw)


class Output:
    """The command-facing side: events (through structlog) and human-only text. An
    :class:`~mlarena_sync.events.EventSink` (:meth:`emit`): the core reports to it."""

    def __init__(
        self,
        *,
        json_mode: bool,
        verbosity: int,
        stream: TextIO,
        color: bool,
        redactor: Redactor,
    ) -> None:
        self.json_mode = json_mode
        self.verbosity = verbosity
        self.stream = stream
        self.color = color
        self.redactor = redactor
        self.log = structlog.get_logger("mlarena_sync")

    @property
    def interactive(self) -> bool:
        return self.color

    def add_secret(self, secret: str | None) -> None:
        self.redactor.add(secret)

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        """One event at its level; a ``result`` is :meth:`result` (its ``text`` for a person)."""
        if level == "result":
            text = fields.pop("text", None)
            self.result(event, text if isinstance(text, str) else event, **fields)
        else:
            getattr(self.log, level)(event, **fields)

    def event(self, event: str, **fields: Any) -> None:
        """An info event: JSON line with ``--json``, a console line otherwise."""
        self.log.info(event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log.warning(event, **fields)

    def text(self, text: str = "") -> None:
        """Human-only text (tables, summaries); silent with ``--json`` or ``-q``."""
        if self.json_mode or self.verbosity < 0:
            return
        self.stream.write(self.redactor.text(text) + "\n")
        self.stream.flush()

    def result(self, event: str, text: str, **fields: Any) -> None:
        """A command's outcome: ``text`` for humans (even with ``-q``), an event for scripts."""
        if self.json_mode:
            self.log.info(event, **fields)
        else:
            self.stream.write(self.redactor.text(text) + "\n")
            self.stream.flush()

    def json_line(self, obj: dict[str, Any]) -> None:
        """A raw JSON object on its own line (``--json`` only)."""
        if self.json_mode:
            self.stream.write(self.redactor.text(_dumps(obj)) + "\n")
            self.stream.flush()


def configure(
    *,
    json_mode: bool = False,
    verbosity: int = 0,
    stream: TextIO | None = None,
    color: bool | None = None,
    redactor: Redactor | None = None,
) -> Output:
    """Configure structlog (and quiet the stdlib loggers of our dependencies); the Output."""
    out = stream if stream is not None else sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    use_color = (tty if color is None else color) and not json_mode
    redactor = redactor or Redactor()
    renderer: Any
    if json_mode:
        renderer = structlog.processors.JSONRenderer(default=_json_default, ensure_ascii=False)
        stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    else:
        renderer = HumanRenderer(
            structlog.dev.ConsoleRenderer(
                colors=use_color, exception_formatter=structlog.dev.plain_traceback
            )
        )
        stamp = structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            redactor,
            renderer,
            redactor,  # last line of defence, on the rendered text
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_for(verbosity)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    for name in ("urllib3", "requests", "watchdog", "cheroot"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return Output(
        json_mode=json_mode, verbosity=verbosity, stream=out, color=use_color, redactor=redactor
    )
