"""``mlarena-sync watch``: the daemon beside the editor (see :mod:`mlarena_sync.watch.session`).

Exit codes: 130 on Ctrl-C (SIGINT), 0 on SIGTERM; errors are raised for the CLI to map.
"""

from __future__ import annotations

import argparse
from typing import Any

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.watch.session import watch

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags of its own (the common ones are the CLI's)."""


def run(inv: Invocation, args: argparse.Namespace, **kwargs: Any) -> int:
    return watch(open_workspace(inv, args), **kwargs)
