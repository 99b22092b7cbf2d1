"""The server's status names in words: ``active`` → ``live``, ``deploy_queue`` → ``queued``.

The one mapping a person reads, used by the renderer (status lines, the live deploy line, push's
result) and by the ``status`` table. ``--json`` keeps the server's names. A server message that
only repeats the status (``Deploy queued``, ``Deployed: ...``) is trimmed, and a reward or score
with many decimals is rounded (``Deployed: mean reward 42.3333`` → ``mean reward 42.3``).
"""

from __future__ import annotations

import re

__all__ = [
    "STATUS_WORDS",
    "server_message",
    "status_phrase",
    "status_word",
    "with_reward",
]

#: A status name → what a person reads.
STATUS_WORDS = {
    "deploy_queue": "queued",
    "deploy_run": "running",
    "deploy_running": "running",
    "deploying": "deploying",
    "upload_validated": "synced, not deployed",
    "active": "live",
    "deploy_failed": "deploy failed",
    "upload_failed": "upload failed",
    "deleted": "deleted",
}
#: While a deploy just requested is followed, the agent's old ``upload_validated`` means the
#: server has not picked the request up yet.
_FOLLOWING_WORDS = {"upload_validated": "waiting for the server"}

_ECHO = re.compile(
    r"^\s*(?:deploy(?:ment)?\s+(?:queued|running|started)|deploying|deployed)\s*[:.!-]?\s*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b(mean reward|reward|score)(:?\s+)(-?\d+\.\d+)\b", re.IGNORECASE)
_REWARD = re.compile(r"\b(?:mean reward|score)\s*:?\s*-?\d+(?:\.\d+)?\b", re.IGNORECASE)


def status_word(status: object, *, following: bool = False) -> str:
    """``active`` → ``live``; an unknown name made readable (``deploy_paused`` → ``deploy
    paused``); ``following``: the words of a deploy just requested."""
    name = str(status or "")
    if following and name in _FOLLOWING_WORDS:
        return _FOLLOWING_WORDS[name]
    return STATUS_WORDS.get(name, name.replace("_", " ").strip() or "unknown")


def _number(match: re.Match[str]) -> str:
    value = f"{float(match[3]):.1f}".removesuffix(".0")
    return f"{match[1]}{match[2]}{value}"


def server_message(message: object) -> str:
    """The server's message as a person reads it beside the status word: its first line, what
    only repeats the status dropped, a reward or score rounded to one decimal ('' when
    nothing is left)."""
    lines = str(message or "").strip().splitlines()
    if not lines:
        return ""
    text = _ECHO.sub("", lines[0]).strip()
    if not text:
        return ""
    return _NUMBER.sub(_number, text)


def with_reward(message: object) -> str | None:
    """``mean reward 42.3`` (or ``score 9``) as the server's message says it, else None."""
    found = _REWARD.search(server_message(message))
    return found[0] if found else None


def status_phrase(
    status: object, message: object = None, *, score: object = None, off: bool = False
) -> str:
    """``live · mean reward 42.3``, ``queued``, ``deploy failed · ValueError: x``; a live
    agent's ``score`` when the message names no reward; ``off``: the agent is settled and not
    live (``synced, not deployed (off the leaderboard)``)."""
    parts = [status_word(status) + (" (off the leaderboard)" if off else "")]
    said = server_message(message)
    if said:
        parts.append(said)
    if status == "active" and isinstance(score, (int, float)) and with_reward(said) is None:
        parts.append(f"score {float(score):.1f}".removesuffix(".0"))
    return " · ".join(parts)
