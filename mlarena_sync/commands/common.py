"""What every command that talks to the server needs: config → target → token → client, state.

The CLI hands each command its :class:`~.invocation.Invocation` (``cwd`` after ``-C``, ``env``,
``out``) and the parsed flags. :func:`open_workspace`
applies the precedence written once in :mod:`~.config.model`: flag > ``MLARENA_*`` > file.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from mlarena_sync.cli.output import Output
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.config.model import (
    apply_overrides,
    find_config,
    load_config,
    resolve_token,
)
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.store.state import StateStore

__all__ = [
    "Invocation",
    "Workspace",
    "at_least_one",
    "open_workspace",
    "positive_seconds",
    "workspace_at",
]


def open_workspace(inv: Invocation, args: argparse.Namespace) -> Workspace:
    """Load the config and target, apply flags and environment, find the token."""
    key_file = getattr(args, "api_key_file", None)
    given = getattr(args, "config", None)
    return workspace_at(
        inv.cwd,
        inv.env,
        inv.out,
        config=(inv.cwd / str(given)).absolute() if given else None,
        target=getattr(args, "target", None),
        server=getattr(args, "server", None),
        api=getattr(args, "api", None),
        api_key_file=(inv.cwd / key_file) if key_file else None,
    )


def workspace_at(
    cwd: Path,
    env: Mapping[str, str],
    out: Output,
    *,
    config: Path | None = None,
    target: str | None = None,
    server: str | None = None,
    api: str | None = None,
    api_key_file: Path | None = None,
) -> Workspace:
    """The workspace of the ``mlarena.yaml`` at ``config`` (default: the nearest one above
    ``cwd``), with the precedence flag > ``MLARENA_*`` > file applied once, here."""
    loaded = load_config(config or find_config(cwd))
    chosen = apply_overrides(loaded.target(target), server, env=env, api=api)
    token = resolve_token(chosen, env, api_key_file)
    out.add_secret(token)
    return Workspace(loaded, chosen, token, StateStore.for_config(loaded.path, sink=out), out)


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return value


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more (``--limit``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more")
    return value
