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
from mlarena_sync.errors import StateError
from mlarena_sync.local.ignore import Selector
from mlarena_sync.store.lock import LOCK_FILE, held_at
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


#: Seconds between two looks at ``.mlarena-sync/lock`` (one ``stat``): deleted, it is made anew.
STATE_DIR_CHECK = 0.5


def _watch_state_dir(ws: Workspace, stop: threading.Event, wake: Callable[[], None]) -> None:
    """Wake the loop when the lock file this watch holds is no longer at its path (``rm -rf
    .mlarena-sync/``): the loop restores it (:func:`_guarded`) before it does anything else."""
    lock_path = ws.store.state_dir / LOCK_FILE
    while not stop.wait(STATE_DIR_CHECK):
        held = held_at(ws.store.state_dir)
        if held is not None and not held.is_at(lock_path):
            wake()


def restore_state_dir(ws: Workspace) -> bool:
    """While this process holds the lock: if ``.mlarena-sync/`` or its lock was deleted under
    it, make the folder again, hold its lock file anew (so a command finds it held), and write
    back the binding, base and journal kept in memory. True when restored."""
    store, lock_path = ws.store, ws.store.state_dir / LOCK_FILE
    held = held_at(store.state_dir)
    if held is None or held.is_at(lock_path):
        return False
    try:
        store.ensure_dir()
        held.rehome(lock_path)
        store.save(ws.key, store.load(ws.key))  # every target's state, from memory
        store.write_journal(store.journal_targets(), durable=True)
    except (StateError, OSError):
        return False  # the deletion is still going on: the next look tries again
    return True


def _guarded(ws: Workspace, lending: FolderLending, wake: Callable[[], None]) -> Callable[[], int]:
    """The loop's look for borrowers, after restoring a deleted ``.mlarena-sync/``: its lock
    held anew, the binding kept in memory written back (never a new agent for it), the lending
    socket reopened, and one warning said."""

    def borrowers() -> int:
        if restore_state_dir(ws):
            lending.close()
            lending.open(wake)
            ws.out.emit(
                "state_dir_restored",
                level="warning",
                path=str(ws.store.state_dir),
                text=f"{ws.store.state_dir} was deleted while watch ran: made again, with its "
                "lock held and the agent binding this watch keeps",
            )
            return 1  # look again at everything, as after a borrower
        return lending.serve()

    return borrowers


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
            watcher.borrowers = _guarded(ws, lending, src.wake)

            def on_signal(signum: int) -> None:
                received.append(signum)
                watcher.stop()

            src.start()
            lending.open(src.wake)
            checker = threading.Thread(
                target=_watch_state_dir,
                args=(ws, watcher.stop_event, src.wake),
                name="mlarena-watch-state-dir",
                daemon=True,
            )
            checker.start()
            try:
                with _signals(on_signal):
                    watcher.run()
            finally:
                watcher.stop_event.set()
                checker.join()
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
