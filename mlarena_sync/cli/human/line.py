"""What one line for a person is: a kind (its symbol and colour), a sentence, dim details."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["KINDS", "Fields", "Formatter", "Line"]

#: What a line is about; the console gives each kind its symbol and colour.
KINDS = (
    "ok",
    "start",
    "up",
    "down",
    "delete",
    "info",
    "detail",
    "warning",
    "error",
    "debug",
    "result",
)


@dataclass(frozen=True)
class Line:
    """``kind`` (see :data:`KINDS`), the sentence, a dim ``note`` after it, indented ``more``."""

    kind: str
    text: str
    note: str = ""
    more: tuple[str, ...] = ()


#: An event's fields.
Fields = Mapping[str, Any]
#: An event's fields, and the time now → its line (None: nothing to show).
Formatter = Callable[[Fields, datetime], "Line | None"]
