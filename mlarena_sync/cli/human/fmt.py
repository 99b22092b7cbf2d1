"""Numbers and times as a person reads them: ``2.9 MB``, ``in 11 h 52 min``, ``5 min ago``.

Also the clean-up of a sentence written elsewhere (an event's ``text``): ISO datetimes become
relative times, ``1 file(s)`` agrees with its number (a bare ``column(s)`` becomes ``columns``),
nested parentheses are flattened.
"""

from __future__ import annotations

import re
from datetime import datetime

from mlarena_sync.humanize import aware, duration, plural, relative, size

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
#: A plural marker with no number before it: ``missing column(s) x`` → ``missing columns x``.
_MARKER = re.compile(r"(?<=[A-Za-z])\(s\)")


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
    delta = (aware(when) - aware(now)).total_seconds()
    if lead == "since" and delta <= 0:
        return f"for {duration(round(-delta))}"
    if lead == "until" and delta > 0:
        return f"for {duration(round(delta))}"
    return relative(when, now)


def flatten_parentheses(text: str) -> str:
    """``no deploy (deploys are off (--no-deploy))`` → ``no deploy (deploys are off:
    --no-deploy)``: a parenthesis inside another becomes a colon (or a comma when the inner part
    does not end the outer one and no punctuation follows it). Code in backticks is left as
    written (`` `python -c "f(1)"` ``)."""
    out: list[str] = []
    depth = 0
    quoted = False
    for i, ch in enumerate(text):
        if _MARKER.match(text, i) or _MARKER.match(text, i - 1) or _MARKER.match(text, i - 2):
            pass  # ``word(s)``: a plural marker, not a parenthesis
        elif ch == "`":
            quoted = not quoted
        elif quoted:
            pass
        elif ch == "(":
            depth += 1
            if depth > 1:
                if out and out[-1] == " ":
                    out.pop()
                out.append(": ")
                continue
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth >= 1:
                if text[i + 1 : i + 2] not in (")", "", ",", ";", ":", "."):
                    out.append(",")
                continue
        out.append(ch)
    return "".join(out)


def tidy(text: str, now: datetime) -> str:
    """An event's sentence, cleaned for a person (see the module docstring)."""
    text = _ISO.sub(lambda m: _iso_to_relative(m, now), text)
    text = _COUNTED.sub(_agree, text)
    text = _MARKER.sub("s", text)
    return flatten_parentheses(text)
