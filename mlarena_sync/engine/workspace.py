"""What one command run works on: the target, its token, the state folder, the clock, the sink.

Built by the command layer (:func:`mlarena_sync.commands.common.open_workspace`, which applies
the config precedence); the engine takes it and opens the arena connection through it, so no
command module talks HTTP itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlarena_sync.api.generation import open_arena
from mlarena_sync.api.http import Timeouts
from mlarena_sync.api.interface import Arena
from mlarena_sync.clock import SYSTEM_CLOCK, Clock
from mlarena_sync.config.model import Config, Target
from mlarena_sync.engine.reconcile import Reconciler
from mlarena_sync.events import EventSink
from mlarena_sync.store.generations import remember, remembered
from mlarena_sync.store.state import StateStore, target_key

__all__ = ["Workspace", "request_timeouts"]


def request_timeouts(deadline: float) -> Timeouts:
    """The API timeouts with ``sync.request_deadline`` as each call's total deadline (uploads
    and raw downloads, whose bodies may be large: 15 times as long)."""
    return Timeouts(total=deadline, total_transfer=deadline * 15)


@dataclass
class Workspace:
    config: Config
    target: Target
    token: str
    store: StateStore
    out: EventSink  # the CLI's Output, a RecordingSink in tests
    clock: Clock = SYSTEM_CLOCK

    @property
    def key(self) -> str:
        return target_key(self.target)

    @property
    def config_path(self) -> Path:
        return self.config.path

    def client(self, *, read_only: bool = False) -> Arena:
        """The arena connection, in the generation ``api:`` names; ``auto`` (the default) uses
        the one remembered for this server in ``.mlarena-sync/``, else detects it and (unless
        ``read_only``: ``plan``, ``status`` write nothing) remembers it."""
        folder = self.store.state_dir
        known = remembered(folder, self.target.server) if self.target.api == "auto" else None
        arena = open_arena(
            self.target.server,
            self.token,
            self.target.api,
            known,
            cid=self.target.competition,
            sid=self.target.agent.id,
            timeouts=request_timeouts(self.target.sync.request_deadline),
            asked_by=self.target.api_source,
        )
        spoken = arena.capabilities.generation
        if self.target.api == "auto" and spoken != known and not read_only:
            remember(self.store, self.target.server, spoken)
        return arena

    def reconciler(self, client: Arena) -> Reconciler:
        return Reconciler(
            self.target,
            client,
            self.store,
            token=self.token,
            clock=self.clock,
            sink=self.out,
        )
