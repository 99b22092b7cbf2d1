"""The fake arena: a local, faithful emulator of the ML Arena API, v4.6 and v0 (docs/fake-arena.md).

Its HTTP server needs the ``arena`` extra (Werkzeug, cheroot). ``FakeArena`` and ``Faults`` are
loaded on first use, so ``mlarena_sync.arena.cli`` (the ``fake-arena`` flags) imports without
the extra; :func:`load_fake_arena` says how to install it when it is missing, with
:class:`ArenaSetupError` (the arena's own error: it imports nothing else of ``mlarena_sync``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlarena_sync.arena.errors import ArenaSetupError

if TYPE_CHECKING:
    from mlarena_sync.arena.fake import FakeArena
    from mlarena_sync.arena.faults import Faults

__all__ = ["ARENA_EXTRA_MISSING", "ArenaSetupError", "FakeArena", "Faults", "load_fake_arena"]

ARENA_EXTRA_MISSING = "the fake arena needs the `arena` extra: pip install 'mlarena-sync[arena]'"
#: Top-level modules of the ``arena`` extra (pyproject.toml).
_EXTRA_MODULES = frozenset({"werkzeug", "cheroot"})


def load_fake_arena() -> type[FakeArena]:
    """The :class:`FakeArena` class; :class:`ArenaSetupError` (exit 2) without the extra."""
    try:
        from mlarena_sync.arena.fake import FakeArena
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in _EXTRA_MODULES:
            raise ArenaSetupError(ARENA_EXTRA_MISSING) from None
        raise
    return FakeArena


def __getattr__(name: str) -> Any:
    if name == "FakeArena":
        return load_fake_arena()
    if name == "Faults":
        from mlarena_sync.arena.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
