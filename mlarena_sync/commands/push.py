"""``mlarena-sync push``: one reconcile, then a deploy when the rules allow it.

The work is :func:`mlarena_sync.engine.push.push`; this module turns the flags into its options.
Exit codes: 0 done (also "nothing to do"), 3 conflict / delete limit, 5 deploy refused (quota,
failed validation or check; the files *were* synced), 6 deploy failed (``--wait``).
"""

from __future__ import annotations

import argparse
import sys

from mlarena_sync.cli.render_plan import show_plan
from mlarena_sync.commands.common import open_workspace, positive_seconds
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.history import learn_outcomes
from mlarena_sync.engine.preview import preview
from mlarena_sync.engine.push import PushOptions, push
from mlarena_sync.errors import DeployFailedError

__all__ = ["add_arguments", "options_from_args", "run"]


def options_from_args(args: argparse.Namespace) -> PushOptions:
    return PushOptions(
        deploy=not bool(args.no_deploy),
        force_deploy=bool(args.deploy),
        force=bool(args.force),
        wait=bool(args.wait),
        timeout=float(args.timeout),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument("--dry-run", action="store_true", help="show the plan only (= plan)")
    deploy = parser.add_mutually_exclusive_group()
    deploy.add_argument("--no-deploy", action="store_true", help="sync files, never deploy")
    deploy.add_argument("--deploy", action="store_true", help="deploy even when nothing changed")
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite remote changes, exceed the delete limit, upload during a deploy",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="return when the deploy settles; exit 6 when it fails, 7 when --timeout runs out",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=900.0,
        metavar="S",
        help="give up waiting for a deploy after S seconds (default: 900)",
    )


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    if args.dry_run:  # = plan, with push's deploy flags
        result, decision = preview(
            ws, force=bool(args.force), forced_deploy=bool(args.deploy), enabled=not args.no_deploy
        )
        show_plan(inv.out, result, decision)
        return 0
    opts = options_from_args(args)
    if not opts.wait:
        return push(ws, opts)
    try:
        return push(ws, opts)
    finally:  # the deploy it waited for settled (or failed): the ledger learns its outcome
        if sys.exc_info()[0] in (None, DeployFailedError):
            learn_outcomes(ws)
