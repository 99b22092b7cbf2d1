"""``mlarena-sync fake-arena``: run the local emulator (see ``docs/fake-arena.md``).

Stdout is reserved for the two ``MLARENA_SERVER=`` / ``MLARENA_API_KEY=`` lines a script evals, so
logging is re-pointed at stderr before the arena starts.
"""

from __future__ import annotations

import argparse
import sys

from mlarena_sync.arena import ArenaSetupError
from mlarena_sync.arena import cli as arena_cli
from mlarena_sync.cli.output import configure
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's own flags (``--api``, ``--port``, ``--data-dir``, ...)."""
    arena_cli.add_arguments(parser)


def run(inv: Invocation, args: argparse.Namespace) -> int:
    out = inv.out
    configure(json_mode=out.json_mode, verbosity=out.verbosity, stream=sys.stderr, redactor=None)
    try:
        return arena_cli.run(args)
    except ArenaSetupError as exc:  # the arena's own error (it stands alone): a usage error here
        raise ConfigError(str(exc)) from None
