"""How to settle a conflict, written once: the hint ``plan``, ``push``, ``pull`` and ``watch``
print, and the errors that stop a push on conflicts or at the delete limit. It depends
on whether the server's copy can be brought down: a text file always can (its
text is listed, or read back), a binary one only where the API serves bytes (v4.6); on v0
``pull --force NAME`` would bring nothing, so the hint says what works there instead.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence

from mlarena_sync.engine.plan import Conflict, Plan
from mlarena_sync.errors import ConflictError

__all__ = [
    "KEEP_YOURS",
    "conflict_error",
    "conflict_hint",
    "conflicts_hint",
    "delete_cap_error",
]

KEEP_YOURS = "keep yours: `mlarena-sync push --force`"


def conflict_hint(pullable: Sequence[str], stuck: Sequence[str] = ()) -> str:
    """``pullable``: names ``pull --force`` can bring down; ``stuck``: names it cannot (a
    binary file on a server whose API serves no binary bytes)."""
    parts: list[str] = []
    if pullable:
        names = " ".join(shlex.quote(n) for n in pullable)
        parts.append(f"take the remote: `mlarena-sync pull --force {names}`")
    if stuck:
        parts.append(
            f"to take the remote {', '.join(stuck)}: this server's API cannot download binary "
            "files (`pull` brings nothing), so save it from the arena's web page over your copy, "
            "then run `mlarena-sync push --force` (it sends the same bytes back)"
        )
    parts.append(KEEP_YOURS)
    return "; ".join(parts)


def conflicts_hint(conflicts: Iterable[Conflict]) -> str:
    """:func:`conflict_hint` for a plan's conflicts."""
    items = list(conflicts)
    return conflict_hint(
        [c.name for c in items if c.downloadable], [c.name for c in items if not c.downloadable]
    )


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _stopped(head: str, lines: list[str], names: list[str], hint: str) -> ConflictError:
    return ConflictError(
        f"{head}; nothing was changed:\n  " + "\n  ".join(lines), hint=hint, files=names
    )


def _also_overwritten(plan: Plan, *, conflicts: bool) -> list[str]:
    """Every server change the error's ``--force`` would overwrite besides what it is about:
    an error never hides a browser edit that its flag would lose."""
    lines = [f"{c.name}: {c.reason}" for c in plan.conflicts] if conflicts else []
    lines += [f"{name}: changed on the server only" for name in plan.remote_changes]
    if not lines:
        return []
    return ["--force would also overwrite these changes made on the server:", *lines]


def conflict_error(plan: Plan) -> ConflictError:
    """Push stops on conflicts: both sides of each, what ``--force`` would also overwrite,
    and how to settle them."""
    lines = []
    for c in plan.conflicts:
        local = (
            f"local {c.local_path} (sha256 {c.local_sha256[:12] if c.local_sha256 else '?'})"
            if c.local_path
            else "deleted locally"
        )
        remote = (
            f"remote sha256 {c.remote_sha256[:12]}"
            if c.remote_sha256
            else f"remote {c.remote_size if c.remote_size is not None else '?'} bytes"
        )
        lines.append(f"{c.name}: {c.reason}: {local} vs {remote}")
    names = [c.name for c in plan.conflicts]
    return _stopped(
        f"{_files(len(names))} changed on the server since the last sync",
        lines + _also_overwritten(plan, conflicts=False),
        names,
        conflicts_hint(plan.conflicts),
    )


def delete_cap_error(plan: Plan, max_delete: int) -> ConflictError:
    """Push stops at the delete limit; its ``--force`` would also overwrite the conflicts and
    the server-only changes, so they are listed too."""
    names = [d.name for d in plan.deletes]
    also = _also_overwritten(plan, conflicts=True)
    return _stopped(
        f"push would delete {len(names)} remote files, over sync.max_delete = {max_delete}",
        names + also,
        names,
        "check that files.root is the right folder, then pass --force (or raise sync.max_delete)",
    )
