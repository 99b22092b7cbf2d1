"""``mlarena-sync logs``: the agent's status lines; ``--follow`` keeps polling; ``--games``
prints the stdout logs of recent games (see :mod:`mlarena_sync.engine.logs`)."""

from __future__ import annotations

import argparse

from mlarena_sync.commands.common import at_least_one, open_workspace, positive_seconds
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.logs import logs

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    parser.add_argument("--games", action="store_true", help="print recent games' stdout logs")
    parser.add_argument(
        "--limit", type=at_least_one, default=3, metavar="N", help="how many games (default: 3)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        metavar="S",
        help="with --follow: stop after S seconds (default: until Ctrl-C)",
    )


def run(inv: Invocation, args: argparse.Namespace) -> int:
    return logs(
        open_workspace(inv, args),
        follow=bool(args.follow),
        games=bool(args.games),
        limit=int(args.limit),
        timeout=args.timeout,
    )
