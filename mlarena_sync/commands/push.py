"""``mlarena-sync push``: one reconcile, then a deploy when the rules allow it.

The work is :func:`mlarena_sync.engine.push.push`; this module turns the flags into its options.
Exit codes: 0 done (also "nothing to do"), 3 conflict / delete limit, 5 deploy refused (quota,
failed validation or check; the files *were* synced), 6 deploy failed (``--wait``).
"""

from __future__ import annotations

import argparse

from mlarena_sync.cli.render_plan import show_plan
from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.preview import preview
from mlarena_sync.engine.push import PushOptions, push

__all__ = ["options_from_args", "run"]


def options_from_args(args: argparse.Namespace) -> PushOptions:
    return PushOptions(
        deploy=not bool(args.no_deploy),
        force_deploy=bool(args.deploy),
        force=bool(args.force),
        wait=bool(args.wait),
        timeout=float(args.timeout),
    )


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    if args.dry_run:  # = plan, with push's deploy flags
        result, decision = preview(
            ws, force=bool(args.force), forced_deploy=bool(args.deploy), enabled=not args.no_deploy
        )
        show_plan(inv.out, result, decision)
        return 0
    return push(ws, options_from_args(args))
