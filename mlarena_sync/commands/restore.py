"""``mlarena-sync restore A``: put deploy ``A``'s files back in the folder.

``A``: a ledger number (``5``: ``history``'s ``#5``), a server deployment id (``d6``: ``status``'s
``deployment 6``), ``live`` or ``previous``. What it overwrites or removes is first kept
aside in ``.mlarena-sync/restore/`` and listed with the command that undoes it
(``restore --undo``). It refuses when the folder has edits not yet synced (exit 3) unless
``--force``. The agent is not touched: ``watch`` (if running) syncs the folder, or run
``mlarena-sync push --deploy``. See :mod:`mlarena_sync.engine.restore`.
"""

from __future__ import annotations

import argparse

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.restore import restore, undo
from mlarena_sync.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument(
        "deploy",
        nargs="?",
        help="a ledger number (5, as history shows #5), a deployment id (d6, as status shows "
        "deployment 6), live or previous",
    )
    parser.add_argument(
        "--force", action="store_true", help="restore even over edits not yet synced"
    )
    parser.add_argument(
        "--undo", action="store_true", help="put back what the latest restore replaced"
    )


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    if args.undo:
        res = undo(ws)
        inv.out.result(
            "restore_undone",
            f"undone: {len(res.written)} file(s) put back, {len(res.removed)} removed",
            restored=res.written,
            removed=res.removed,
        )
        return 0
    if not args.deploy:
        raise ConfigError(
            "restore needs a deploy: a ledger number (5), a deployment id (d6), live or previous"
        )
    res = restore(ws, args.deploy, force=bool(args.force))
    assert res.record is not None
    n = res.record.id
    for path in res.unknown:
        inv.out.emit(
            "restore_refused",
            level="warning",
            path=path,
            text=f"{path}: not restored: deploy #{n} ran the server's version of it (changed "
            "there, left in place), whose bytes were not read; the folder's copy is left as is",
        )
    if res.kept_aside is None:
        inv.out.result(
            "restored",
            f"the folder already holds deploy #{n}",
            id=n,
            written=[],
            removed=[],
            unknown=res.unknown,
        )
        return 0
    done = f"{len(res.written)} file(s) written, {len(res.removed)} removed"
    lines = [f"restored deploy #{n} (deployment {res.record.deployment_id or '?'}): {done}"]
    lines += [f"  wrote   {p}" for p in res.written]
    lines += [f"  removed {p}" for p in res.removed]
    lines.append(f"what it replaced is kept in {res.kept_aside}; undo: `{res.undo}`")
    lines.append("next: `mlarena-sync push --deploy` (a running watch syncs it by itself)")
    inv.out.result(
        "restored",
        "\n".join(lines),
        id=n,
        deployment_id=res.record.deployment_id,
        written=res.written,
        removed=res.removed,
        kept_aside=str(res.kept_aside),
        undo=res.undo,
        unknown=res.unknown,
    )
    return 0
