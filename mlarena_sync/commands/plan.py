"""``mlarena-sync plan`` (= ``push --dry-run``): what a push would do. Changes nothing.

Reads the competition, the agent's status, its files, its deploy quota and (with ``runtime:``)
the runtime options, refusing a runtime as push would; writes nothing, not even the state, and
takes no lock (so it runs beside a ``watch``).
"""

from __future__ import annotations

import argparse

from mlarena_sync.cli.render_plan import show_plan
from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.preview import preview

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument("--force", action="store_true", help="plan as push --force would")


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    result, decision = preview(ws, force=bool(getattr(args, "force", False)))
    show_plan(inv.out, result, decision)
    return 0
