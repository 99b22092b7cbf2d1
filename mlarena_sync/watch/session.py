"""A ``watch`` session: the daemon beside the editor (the loop is :mod:`mlarena_sync.watch.loop`).

Holds the state lock for the whole session (a second watcher on the same folder exits 2 naming
the PID that holds it; ``push`` and ``pull`` borrow it: :mod:`.lending`), starts the change
source, runs the loop, and stops cleanly: the observer is stopped and joined and the state is
saved. Exit codes: 130 on Ctrl-C (SIGINT), 0 on SIGTERM, SIGHUP or when ``max_duration`` / the
``stop`` event ends it; errors are raised for the
CLI to map (``AuthError`` → 4, ...). Synced edits not deployed yet stay pending in the journal.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.local.ignore import Selector
from mlarena_sync.watch.lending import FolderLending
from mlarena_sync.watch.loop import Watcher, WatchOptions
from mlarena_sync.watch.source import ChangeSource, TreeWatcher

__all__ = ["INTERRUPTED", "watch"]

INTERRUPTED = 130
#: The signals that stop a watch cleanly (SIGHUP: the terminal went away; not on Windows).
_STOP_SIGNALS = tuple(
    sig for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig
)


@contextmanager
def _signals(on_signal: Callable[[int], None]) -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP (a closed terminal: handled like SIGTERM) → ``on_signal`` (main
    thread only; elsewhere nothing is installed). A second Ctrl-C raises KeyboardInterrupt at
    once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and seen:
            raise KeyboardInterrupt
        seen.append(signum)
        on_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def watch(
    ws: Workspace,
    *,
    stop: threading.Event | None = None,
    max_duration: float | None = None,
    options: WatchOptions | None = None,
    source: ChangeSource | None = None,
) -> int:
    """Run a watch session; the exit code."""
    opts = options or WatchOptions()
    if max_duration is not None:
        opts = dataclasses.replace(opts, max_duration=max_duration)
    received: list[int] = []
    with ws.client() as client:
        rec = ws.reconciler(client)
        with rec.locked(borrow=False):  # a second watch is refused; other commands borrow
            selector = Selector(ws.target.files, config_path=ws.target.config_path)
            src = source or TreeWatcher(selector, state_dir=ws.store.state_dir)
            watcher = Watcher(
                ws.target, rec, source=src, sink=ws.out, clock=ws.clock, stop=stop, options=opts
            )
            lending = FolderLending(ws.store, ws.out, watcher.stop_event)
            watcher.borrowers = lending.serve

            def on_signal(signum: int) -> None:
                received.append(signum)
                watcher.stop()

            src.start()
            lending.open(src.wake)
            try:
                with _signals(on_signal):
                    watcher.run()
            finally:
                lending.close()  # watch.sock removed
                src.stop()  # stopped and joined; the state is saved after every operation
            first = signal.SIGINT if signal.SIGINT in received else next(iter(received), None)
            reason = signal.Signals(first).name if first is not None else "stopped"
            held = watcher.held_unsynced
            text = f"watch stopped ({reason})"
            if held:
                noun = "edit" if held == 1 else "edits"
                text += f"; {held} held {noun} not synced: run `mlarena-sync push`"
            owed = watcher.deploys.wanted and rec.journal.deploy_pending()
            if owed:
                text += "; synced edits not deployed yet: `mlarena-sync push` deploys them"
            ws.out.emit(
                "watch_stopped",
                reason=reason,
                deploy_pending=owed,
                reconciles=watcher.stats.reconciles,
                deploys=watcher.stats.deploys,
                held_not_synced=held,
                text=text,
            )
    return INTERRUPTED if signal.SIGINT in received else 0
