"""``sync.live: keep``: edits to a live agent wait until a deploy can follow them.

Every upload moves an ``active`` agent out of ``active`` (the server re-validates it), and it
stays off the leaderboard until a deploy. With ``sync.live: follow`` (the default) ``watch``
uploads every save and says when no deploy can follow; with ``keep`` it holds the edits locally
while the agent is live and the deploy gate says no (quota, reserve, ``min_interval``, a failing
check), says so once, and syncs and deploys them together when the gate allows (the next slot).
``push`` is deliberate: it is never held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlarena_sync.clock import Clock
from mlarena_sync.config.model import Target
from mlarena_sync.watch.scheduler import DeployScheduler

__all__ = ["LiveGuard"]

#: Why a deploy cannot follow an edit now (the others: in flight, off, validation).
_HOLDING = ("quota", "reserve", "check", "interval")


class LiveGuard:
    def __init__(
        self,
        target: Target,
        deploys: DeployScheduler,
        clock: Clock,
        warn_once: Callable[..., None],
        retry: float,
    ) -> None:
        self.keep = target.sync.live == "keep"
        self.deploys = deploys
        self.clock = clock
        self.warn_once: Callable[..., Any] = warn_once
        self.retry = retry  # seconds, when the gate names no time
        self.retry_at: float | None = None  # monotonic: look again (the next slot)

    def hold(self, agent_id: int | None, status: str | None) -> bool:
        """Whether the edits waiting must stay local now (the agent is live, no deploy could
        follow them); when so, said once and :attr:`retry_at` set."""
        if not self.keep or agent_id is None or status != "active":
            return False
        d = self.deploys.gate_now(agent_id)
        if d.deploy or d.blocker not in _HOLDING:
            return False
        now, wall = self.clock.monotonic(), self.clock.now()
        wait = (d.wait_until - wall).total_seconds() if d.wait_until is not None else self.retry
        self.retry_at = now + max(wait, 0.0)
        self.warn_once(
            f"live:{d.blocker}:{d.wait_until}",
            "held_live",
            blocker=d.blocker,
            until=d.wait_until,
            text=f"the agent is live: your edits stay here until a deploy can follow them "
            f"(sync.live: keep; {d.reason}); `mlarena-sync push --deploy` sends them now",
        )
        return True

    def due(self) -> bool:
        """Whether the time to look again has come (then the loop reconciles)."""
        if self.retry_at is None or self.clock.monotonic() < self.retry_at:
            return False
        self.retry_at = None
        return True
