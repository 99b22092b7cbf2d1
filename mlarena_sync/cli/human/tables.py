"""Colour for the tables commands print as written (``status``, ``plan``): each row keeps its
text and layout; its kind (see :data:`~.line.KINDS`) only picks a colour at a terminal.

Green is what is fine (live, in sync, a deploy that will go), cyan what will be sent, red what
will be deleted or failed, yellow what needs a look (a conflict, files out of sync, no deploy
because something blocks it); the rest is left as it is.
"""

from __future__ import annotations

import re

__all__ = ["row_kind"]

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"^\s*upload\s", "up"),
        (r"^\s*(?:download|pull)\s", "down"),
        (r"^\s*delete\s", "delete"),
        (r"^\s*(?:conflict|changed on the server|remote)\b", "warning"),
        (r"^deploy: yes\b", "ok"),
        (r"^deploy: no \((?:nothing changed|deploys are off)", "detail"),
        (r"^deploy: no\b", "warning"),
        (r"^files: in sync\b", "ok"),
        (r"^files: ", "warning"),
        (r"^last deploy: .*\bsucceeded\b", "ok"),
        (r"^last deploy: .*\b(?:failed|rejected)\b", "error"),
        (r"^agent \d+\b.*: (?:deploy|upload)[_ ]failed\b", "error"),
        (r"^agent \d+\b.*: (?:live|active)\b", "ok"),
        (r"^agent \d+\b.*: (?:queued|running|deploying|deploy_queue|deploy_run\w*)\b", "info"),
        (r"^agent \d+\b.*: \w+", "warning"),  # synced, not live: off the leaderboard
    )
)


def row_kind(row: str) -> str | None:
    """The kind of one table row (None: no colour)."""
    for pattern, kind in _RULES:
        if pattern.search(row):
            return kind
    return None
