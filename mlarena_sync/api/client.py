"""Kept importable: ``ArenaClient`` (the v0 adapter) now lives in :mod:`mlarena_sync.api.v0`.

New code asks :func:`mlarena_sync.api.generation.open_arena` for an
:class:`~mlarena_sync.api.interface.Arena` instead of naming a generation's class.
"""

from __future__ import annotations

from mlarena_sync.api.http import Timeouts
from mlarena_sync.api.v0 import DEPLOY_CLOCK_SKEW, ArenaClient

__all__ = ["DEPLOY_CLOCK_SKEW", "ArenaClient", "Timeouts"]
