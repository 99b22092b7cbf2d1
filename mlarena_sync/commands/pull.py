"""``mlarena-sync pull``: bring remote files down (e.g. edited in the browser editor); never
overwrites a local edit without ``--force`` (see :mod:`mlarena_sync.engine.pull`)."""

from __future__ import annotations

import argparse

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.pull import pull

__all__ = ["run"]


def run(inv: Invocation, args: argparse.Namespace) -> int:
    return pull(open_workspace(inv, args), names=list(args.names or []), force=bool(args.force))
