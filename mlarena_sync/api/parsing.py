"""Tolerant JSON readers shared by the reply parsers of every API generation.

A missing or mistyped value becomes ``None`` (the servers drift: see ``docs/api-v0.md`` and
``api-v4.md``); a reply of the wrong *type* is the one thing refused, with
:class:`~mlarena_sync.errors.ServerError`. Kept apart from :mod:`.models` so that the model
module holds the reply types and the v4.6 parsers (:mod:`.v4_parse`) reuse the same readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from mlarena_sync.errors import ServerError

JsonObject = Mapping[str, Any]


def as_object(data: object, what: str) -> JsonObject:
    """``data`` as a JSON object, or :class:`ServerError` naming the reply."""
    if isinstance(data, Mapping):
        return data
    raise ServerError(f"unexpected reply from the server for {what}: expected a JSON object")


def as_list(data: object, what: str) -> list[Any]:
    """``data`` as a JSON array, or :class:`ServerError` naming the reply."""
    if isinstance(data, list):
        return data
    raise ServerError(f"unexpected reply from the server for {what}: expected a JSON array")


def obj_or_empty(data: object) -> JsonObject:
    """``data`` when it is a JSON object, else an empty one (for optional sub-objects)."""
    return data if isinstance(data, Mapping) else {}


def first(data: JsonObject, *keys: str) -> Any:
    """The value of the first of ``keys`` present (and not null) in ``data``."""
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def to_str(value: object) -> str | None:
    """A string (other scalars stringified), or None for null."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def to_int(value: object) -> int | None:
    """An int from an int, an integral float or a numeric string; else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def to_float(value: object) -> float | None:
    """A float from a number or a numeric string (never from a bool); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def to_bool(value: object) -> bool | None:
    """A bool from a bool, a number or ``true``/``false``-like text; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return None


def parse_datetime(value: object) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or offset or naive = UTC) as an aware datetime, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


#: The first page of a list route, as large as the servers give (a challenge list).
FIRST_PAGE: Mapping[str, int] = {"per_page": 100}


def id_name_list(data: object) -> list[tuple[int, str]]:
    """``(id, name)`` of each item of a list reply (``{"items": [...]}`` or a bare list); an
    item without an integer id is skipped."""
    items = data.get("items") if isinstance(data, Mapping) else data
    return [
        (item["id"], str(item.get("name") or ""))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping) and isinstance(item.get("id"), int)
    ]
