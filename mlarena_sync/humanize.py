"""Sizes and times as a person reads them, written once for every room that shows them:
``2.9 MB`` (decimal units), ``11 h 52 min``, ``in 11 h 52 min``, ``5 min ago``, ``2 files``.

The renderer (:mod:`mlarena_sync.cli.human.fmt`), the tables of commands (history, diff, plan)
and the selection's limit messages (:mod:`mlarena_sync.local.names`) all use these.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["aware", "duration", "plural", "relative", "size"]

_UNITS = ("kB", "MB", "GB", "TB")


def size(n: int | float | None) -> str:
    """``812 B``, ``2.9 MB`` (decimal units, one decimal); ``?`` when unknown."""
    if n is None:
        return "?"
    if n < 1000:
        return f"{int(n)} B"
    value = float(n) / 1000
    for unit in _UNITS[:-1]:
        if value < 999.95:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} {_UNITS[-1]}"


def duration(seconds: float) -> str:
    """``0.3 s``, ``42 s``, ``5 min``, ``11 h 52 min``, ``2 d 3 h`` (two units at most)."""
    if 0 < seconds < 9.95 and round(seconds, 1) != round(seconds):
        return f"{seconds:.1f} s"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs and minutes < 10 else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def aware(when: datetime) -> datetime:
    """``when`` with a timezone: a naive datetime is taken as UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def relative(when: datetime, now: datetime) -> str:
    """``in 11 h 52 min``, ``5 min ago``, ``just now`` (within two seconds)."""
    delta = (aware(when) - aware(now)).total_seconds()
    if abs(delta) < 2:
        return "just now"
    seconds = round(abs(delta))  # whole seconds: "9 s ago", not "9.7 s ago"
    return f"in {duration(seconds)}" if delta > 0 else f"{duration(seconds)} ago"


def plural(n: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {word}" + ("" if n == 1 else "s")
