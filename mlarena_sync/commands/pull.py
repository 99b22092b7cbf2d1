"""``mlarena-sync pull``: bring remote files down (e.g. edited in the browser editor); never
overwrites a local edit without ``--force`` (see :mod:`mlarena_sync.engine.pull`)."""

from __future__ import annotations

import argparse

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.pull import pull

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these remote files")
    parser.add_argument("--force", action="store_true", help="overwrite local edits")


def run(inv: Invocation, args: argparse.Namespace) -> int:
    return pull(open_workspace(inv, args), names=list(args.names or []), force=bool(args.force))
