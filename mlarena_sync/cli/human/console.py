"""Colour and terminal decisions, and writing a :class:`~.lines.Line` with or without colour.

* colour: on at a terminal (``TERM`` not ``dumb``) unless ``NO_COLOR`` is set non-empty
  (https://no-color.org) or the CLI says no (``--no-color``); never with ``--json``.
* redraws (a progress bar, the live deploy line): only with colour at a terminal; elsewhere the
  same lines, plain, each written once.

rich (https://rich.readthedocs.io) is imported only by :class:`RichWriter`, i.e. only when colour
is on: ``--json``, pipes and CI logs never load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from mlarena_sync.cli.human.line import Line

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "SYMBOLS",
    "PlainWriter",
    "RichWriter",
    "Writer",
    "is_terminal",
    "no_color_asked",
    "wants_color",
]

SYMBOLS = {
    "ok": "✓",
    "start": "▶",
    "result": "✓",
    "up": "↑",
    "down": "↓",
    "delete": "✗",
    "info": "·",
    "detail": "·",
    "warning": "!",
    "error": "✗",
    "debug": "·",
}
#: Colour that means something: green done, yellow warning or held, red failure, dim detail.
STYLES = {
    "ok": "green",
    "start": "bold green",
    "result": "bold green",
    "up": "cyan",
    "down": "cyan",
    "delete": "red",
    "info": "blue",
    "detail": "dim",
    "warning": "yellow",
    "error": "bold red",
    "debug": "dim",
}


def is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except (OSError, ValueError):
        return False


def no_color_asked(env: Mapping[str, str]) -> bool:
    """``NO_COLOR`` set to anything but the empty string (https://no-color.org)."""
    return bool(env.get("NO_COLOR", ""))


def wants_color(stream: object, color: bool | None, env: Mapping[str, str]) -> bool:
    """``color`` when the CLI decided; else a terminal, ``TERM`` not dumb, no ``NO_COLOR``."""
    if color is not None:
        return color
    if no_color_asked(env):
        return False
    return is_terminal(stream) and env.get("TERM", "") != "dumb"


def plain_text(line: Line) -> list[str]:
    """The line as plain text: ``↑ weights.bin  2.9 MB  new``, then its indented details."""
    head = f"{SYMBOLS.get(line.kind, '·')} {line.text}"
    if line.note:
        head += f"  {line.note}"
    return [head, *(f"  {more}" for more in line.more)]


class Writer(Protocol):
    def line(self, line: Line) -> None: ...

    def plain(self, text: str) -> None: ...

    def rows(self, rows: list[tuple[str, str | None]]) -> None:
        """A table's rows as written, each in the colour of its kind (None: none)."""


class PlainWriter:
    """No colour, no escape sequence: a pipe, a CI log, ``NO_COLOR``."""

    def __init__(self, stream: TextIO, redact: Any) -> None:
        self.stream = stream
        self.redact = redact

    def line(self, line: Line) -> None:
        self.plain("\n".join(plain_text(line)))

    def plain(self, text: str) -> None:
        self.stream.write(self.redact(text) + "\n")
        self.stream.flush()

    def rows(self, rows: list[tuple[str, str | None]]) -> None:
        self.plain("\n".join(row for row, _ in rows))


class RichWriter:
    """Colour through rich: the symbol in its kind's colour, details dim."""

    def __init__(self, stream: TextIO, redact: Any) -> None:
        from rich.console import Console

        self.redact = redact
        self.console: Console = Console(
            file=stream,
            force_terminal=True,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        )

    def line(self, line: Line) -> None:
        from rich.text import Text

        style = STYLES.get(line.kind, "")
        text = Text()
        text.append(SYMBOLS.get(line.kind, "·") + " ", style=style)
        body_style = style if line.kind in ("error", "warning", "debug", "detail") else ""
        text.append(self.redact(line.text), style=body_style)
        if line.note:
            text.append("  " + self.redact(line.note), style="dim")
        for more in line.more:
            text.append("\n  " + self.redact(more), style="dim")
        self.console.print(text)

    def plain(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(self.redact(text)))

    def rows(self, rows: list[tuple[str, str | None]]) -> None:
        from rich.text import Text

        text = Text("\n").join(
            Text(self.redact(row), style=STYLES.get(kind or "", "")) for row, kind in rows
        )
        self.console.print(text)
