"""The fake arena: a local, faithful emulator of the ML Arena v0 API (docs/fake-arena.md)."""

from __future__ import annotations

from mlarena_sync.arena.fake import FakeArena
from mlarena_sync.arena.faults import Faults

__all__ = ["FakeArena", "Faults"]
