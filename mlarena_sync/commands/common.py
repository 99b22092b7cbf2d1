"""What every command that talks to the server needs: config → target → token → client, state.

The CLI hands each command an ``argparse.Namespace`` with the parsed flags plus ``cwd`` (after
``-C``), ``env`` (the environment) and ``out`` (the configured output). :func:`open_workspace`
applies the precedence written once in :mod:`~.config.model`: flag > ``MLARENA_*`` > file.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.cli.output import Output
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config.model import (
    Config,
    Target,
    apply_overrides,
    find_config,
    load_config,
    resolve_token,
)
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.store.state import StateStore, target_key

__all__ = ["Workspace", "cwd_of", "env_of", "open_workspace", "out_of"]


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


@dataclass
class Workspace:
    config: Config
    target: Target
    token: str
    store: StateStore
    out: Output
    clock: Clock = SYSTEM_CLOCK

    @property
    def key(self) -> str:
        return target_key(self.target)

    @property
    def config_path(self) -> Path:
        return self.config.path

    def client(self) -> ArenaClient:
        return ArenaClient(self.target.server, self.token)

    def reconciler(self, client: ArenaClient) -> Reconciler:
        return Reconciler(
            self.target,
            client,
            self.store,
            token=self.token,
            clock=self.clock,
            on_event=self.out.event,
        )


def open_workspace(args: argparse.Namespace) -> Workspace:
    """Load the config and target, apply flags and environment, find the token."""
    out = out_of(args)
    env = env_of(args)
    path = config_path_of(args)
    config = load_config(path)
    target = config.target(getattr(args, "target", None))
    target = apply_overrides(target, getattr(args, "server", None), env=env)
    key_file = getattr(args, "api_key_file", None)
    token = resolve_token(target, env, (cwd_of(args) / key_file) if key_file else None)
    out.add_secret(token)
    return Workspace(config, target, token, StateStore.for_config(config.path), out)
