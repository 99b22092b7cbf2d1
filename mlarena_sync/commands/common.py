"""What every command that talks to the server needs: config → target → token → client, state.

The CLI hands each command an ``argparse.Namespace`` with the parsed flags plus ``cwd`` (after
``-C``), ``env`` (the environment) and ``out`` (the configured output). :func:`open_workspace`
applies the precedence written once in :mod:`~.config.model`: flag > ``MLARENA_*`` > file.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from mlarena_sync.cli.output import Output
from mlarena_sync.config.model import (
    apply_overrides,
    find_config,
    load_config,
    resolve_token,
)
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.store.state import StateStore

__all__ = ["Workspace", "cwd_of", "env_of", "open_workspace", "out_of", "workspace_at"]


def cwd_of(args: argparse.Namespace) -> Path:
    cwd = getattr(args, "cwd", None)
    return Path(cwd) if cwd is not None else Path.cwd()


def env_of(args: argparse.Namespace) -> Mapping[str, str]:
    return cast("Mapping[str, str]", getattr(args, "env", {}) or {})


def out_of(args: argparse.Namespace) -> Output:
    return cast(Output, args.out)


def config_path_of(args: argparse.Namespace) -> Path:
    """``--config FILE`` (relative to ``-C``), else the nearest ``mlarena.yaml``."""
    cwd = cwd_of(args)
    given = getattr(args, "config", None)
    if given:
        return (cwd / str(given)).absolute()
    return find_config(cwd)


def open_workspace(args: argparse.Namespace) -> Workspace:
    """Load the config and target, apply flags and environment, find the token."""
    key_file = getattr(args, "api_key_file", None)
    return workspace_at(
        cwd_of(args),
        env_of(args),
        out_of(args),
        config=config_path_of(args),
        target=getattr(args, "target", None),
        server=getattr(args, "server", None),
        api=getattr(args, "api", None),
        api_key_file=(cwd_of(args) / key_file) if key_file else None,
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
    return Workspace(loaded, chosen, token, StateStore.for_config(loaded.path), out)
