"""``.mlarena-sync/api.json``: the API generation each server spoke when it was detected.

``api: auto`` (the default) asks a server once which generation it speaks (v0 or v4.6: a few
reads, see :func:`mlarena_sync.api.generation.detect_generation`) and remembers the answer here,
per server, so later runs send no probe. A pure cache: deleting the file costs one detection.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlarena_sync.store.atomic import atomic_write
from mlarena_sync.store.state import StateDir, server_key

__all__ = ["FILE_NAME", "remember", "remembered"]

FILE_NAME = "api.json"


def _read(state_dir: Path) -> dict[str, str] | None:
    """The remembered generations (``{}``: none, or a damaged file, rewritten on the next
    detection); ``None`` when it is a JSON object of another shape (a newer mlarena-sync's
    format, as ``{"version": 2, ...}``): then it is neither trusted nor overwritten."""
    try:
        data = json.loads((state_dir / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return data if all(isinstance(v, str) for v in data.values()) else None


def remembered(state_dir: Path, server: str) -> str | None:
    """The generation ``server`` spoke when last detected, or ``None``."""
    return (_read(state_dir) or {}).get(server_key(server))


def remember(store: StateDir, server: str, generation: str) -> None:
    """Keep ``generation`` for ``server`` (creating ``.mlarena-sync/`` if needed: only commands
    that write state call this; ``plan`` and ``status`` create nothing)."""
    known = _read(store.state_dir)
    if known is None or known.get(server_key(server)) == generation:
        return
    known[server_key(server)] = generation
    store.ensure_dir()
    atomic_write(store.state_dir / FILE_NAME, json.dumps(known, indent=1) + "\n", fsync=False)
