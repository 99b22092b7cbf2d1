"""What the HTTP layer needs from the running arena (implemented by ``FakeArena``)."""

from __future__ import annotations

import threading
from typing import Protocol

from mlarena_sync.arena.faults import Counters, Faults
from mlarena_sync.arena.store import ArenaStore


class ArenaHost(Protocol):
    api: str
    store: ArenaStore
    faults: Faults
    request_counters: Counters
    stopping: threading.Event

    @property
    def deploy_limit(self) -> int: ...

    def log_request(self, line: str) -> None: ...

    def put_during_deploy_policy(self) -> str: ...

    # Control operations (the /_arena routes).
    def reset(self) -> None: ...

    def reset_counters(self) -> None: ...

    def browser_edit(self, aid: int, name: str, content: str) -> None: ...

    def set_deploy_limit(self, limit: int) -> None: ...

    def set_clock_offset(self, seconds: float) -> None: ...

    def wait_deploys_idle(self, timeout: float = 10.0) -> bool: ...
