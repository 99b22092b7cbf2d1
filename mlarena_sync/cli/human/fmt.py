"""Numbers and times as a person reads them: ``2.9 MB``, ``in 11 h 52 min``, ``5 min ago``.

Also the clean-up of a sentence written elsewhere (an event's ``text``): ISO datetimes become
relative times, ``1 file(s)`` agrees with its number, nested parentheses are flattened.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = [
    "duration",
    "flatten_parentheses",
    "plural",
    "queue_place",
    "readable_name",
    "relative",
    "size",
    "tidy",
]

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


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def relative(when: datetime, now: datetime) -> str:
    """``in 11 h 52 min``, ``5 min ago``, ``just now`` (within two seconds)."""
    delta = (_aware(when) - _aware(now)).total_seconds()
    if abs(delta) < 2:
        return "just now"
    seconds = round(abs(delta))  # whole seconds: "9 s ago", not "9.7 s ago"
    return f"in {duration(seconds)}" if delta > 0 else f"{duration(seconds)} ago"


def plural(n: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def queue_place(position: object, index: object = None, total: object = None) -> str:
    """``2 of 5`` from v4.6's integers or v0's ``"2/5"``; the text as sent otherwise."""
    if isinstance(index, int) and isinstance(total, int) and total:
        return f"{index} of {total}"
    text = str(position or "?")
    head, sep, tail = text.partition("/")
    return f"{head} of {tail}" if sep and head.isdigit() and tail.isdigit() else text


def readable_name(event: str) -> str:
    """``deploy_reply_lost`` → ``deploy reply lost``."""
    return event.replace("_", " ").strip()


_ISO = re.compile(
    r"(?:(?P<lead>\b(?:at|until|since)) )?"
    r"(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
)
_COUNTED = re.compile(r"\b(\d+) ((?:[A-Za-z-]+ ){0,2})([A-Za-z]+)\(s\)")


def _agree(match: re.Match[str]) -> str:
    """``1 file problem(s)`` → ``1 file problem``; ``3 change(s)`` → ``3 changes``."""
    count, between, word = match[1], match[2], match[3]
    return f"{count} {between}{word}" + ("" if count == "1" else "s")


def _iso_to_relative(match: re.Match[str], now: datetime) -> str:
    try:
        when = datetime.fromisoformat(match["iso"].replace("Z", "+00:00"))
    except ValueError:
        return match[0]
    lead = match["lead"]
    delta = (_aware(when) - _aware(now)).total_seconds()
    if lead == "since" and delta <= 0:
        return f"for {duration(round(-delta))}"
    if lead == "until" and delta > 0:
        return f"for {duration(round(delta))}"
    return relative(when, now)


def flatten_parentheses(text: str) -> str:
    """``no deploy (deploys are off (--no-deploy))`` → ``no deploy (deploys are off:
    --no-deploy)``: a parenthesis inside another becomes a colon (or a comma when the inner part
    does not end the outer one)."""
    out: list[str] = []
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth > 1:
                if out and out[-1] == " ":
                    out.pop()
                out.append(": ")
                continue
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth >= 1:
                rest = text[i + 1 :]
                if rest[:1] not in (")", ""):
                    out.append(",")
                continue
        out.append(ch)
    return "".join(out)


def tidy(text: str, now: datetime) -> str:
    """An event's sentence, cleaned for a person (see the module docstring)."""
    text = _ISO.sub(lambda m: _iso_to_relative(m, now), text)
    text = _COUNTED.sub(_agree, text)
    return flatten_parentheses(text)
