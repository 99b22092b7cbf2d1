"""``mlarena-sync logs``: the agent's status lines; ``--follow`` keeps polling; ``--games``
prints the stdout logs of recent games (see :mod:`mlarena_sync.engine.logs`)."""

from __future__ import annotations

import argparse

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.logs import logs

__all__ = ["run"]


def run(inv: Invocation, args: argparse.Namespace) -> int:
    return logs(
        open_workspace(inv, args),
        follow=bool(args.follow),
        games=bool(args.games),
        limit=int(args.limit),
        timeout=args.timeout,
    )
