"""``docs/events.md`` read as data: each event's levels and fields, and the common fields.

The page's format (what :func:`load` reads): an event is a ``### `name``` heading, followed by a
``- **Level:** `info`, `debug``` line and a Markdown table whose rows start with
``| `field` |``; the common fields are the table under ``## Common fields``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DOC", "EventDoc", "EventsDoc", "load"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"

_EVENT = re.compile(r"^###\s+`([a-z][a-z0-9_]*)`\s*$")
_SECTION = re.compile(r"^##\s+(.*?)\s*$")
_LEVEL = re.compile(r"^-\s+\*\*Level:\*\*(.*)$")
_ROW = re.compile(r"^\|\s*`([a-z_][a-z0-9_]*)`\s*\|\s*([^|]+?)\s*\|")
_CODE = re.compile(r"`([a-z]+)`")


@dataclass
class EventDoc:
    """One event's section: its levels (as in the JSON ``level``) and its fields → type."""

    name: str
    line: int
    levels: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class EventsDoc:
    events: dict[str, EventDoc]
    common: dict[str, str]

    def allowed(self, name: str) -> set[str]:
        """The fields ``name`` may carry: its own and the common ones."""
        return set(self.events[name].fields) | set(self.common)


def load(path: Path = DOC) -> EventsDoc:
    """Parse the page (see the module docstring); :class:`ValueError` on a repeated event."""
    events: dict[str, EventDoc] = {}
    common: dict[str, str] = {}
    current: EventDoc | None = None
    in_common = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := _EVENT.match(line):
            name = match.group(1)
            if name in events:
                raise ValueError(f"{path}:{number}: `{name}` documented twice")
            current = events[name] = EventDoc(name, number)
            in_common = False
        elif match := _SECTION.match(line):
            current = None
            in_common = match.group(1).lower() == "common fields"
        elif current is not None and (match := _LEVEL.match(line)):
            current.levels |= set(_CODE.findall(match.group(1).split("(")[0]))
        elif match := _ROW.match(line):
            target = common if in_common else current.fields if current is not None else None
            if target is not None:
                target[match.group(1)] = match.group(2)
    return EventsDoc(events, common)
