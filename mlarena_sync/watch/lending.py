"""``watch`` lends its folder to a command run beside it (product.md, "One folder, one owner").

The lock's hand-over is :mod:`mlarena_sync.store.handover`; this is the watcher's part: between
two steps of its loop it serves the commands waiting (one at a time), says so in one line each,
and afterwards reconciles (level-triggered: it sees what the borrower changed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from mlarena_sync.events import EventSink
from mlarena_sync.store.handover import Borrower, Lender
from mlarena_sync.store.state import StateStore

__all__ = ["FolderLending"]


class FolderLending:
    """Listens in ``.mlarena-sync/watch.sock`` while the watch runs (see :meth:`open`)."""

    def __init__(self, store: StateStore, sink: EventSink, stop: threading.Event) -> None:
        self.store = store
        self.sink = sink
        self.stop = stop
        self.lender: Lender | None = None

    def open(self, wake: Callable[[], None]) -> None:
        """Start listening; ``wake`` wakes the loop when a command waits."""
        lender = Lender(self.store.state_dir, wake)
        if lender.start():
            self.lender = lender
            return
        self.sink.emit(
            "lending_unavailable",
            level="warning",
            text="no control channel here (no Unix sockets, or .mlarena-sync/watch.sock cannot "
            "be made): push and pull run beside this watch are refused until it stops",
        )

    def close(self) -> None:
        if self.lender is not None:
            self.lender.close()
            self.lender = None

    def serve(self) -> int:
        """Lend the folder to every command waiting now; how many were served."""
        if self.lender is None or not self.lender.pending():
            return 0
        return self.lender.serve(self._lend, self.stop)

    def _lend(self, who: Borrower, until_returned: Callable[[], None]) -> None:
        pid = f"pid {who.pid}" if who.pid is not None else "pid unknown"
        self.sink.emit(
            "folder_lent",
            pid=who.pid,
            command=who.command,
            text=f"`{who.command}` ({pid}) works on this folder; watch waits for it to end",
        )
        with self.store.lent():
            until_returned()
        self.sink.emit(
            "folder_back",
            pid=who.pid,
            command=who.command,
            text=f"`{who.command}` ended; watch has the folder back and reconciles",
        )
