"""Baseline for scenario 5: a plain recursive watchdog Observer on a folder, doing nothing.

``python -m bench.raw_watch DIR`` prints ``ready`` once the observer runs, then idles until its
stdin closes (or a signal). This is what a naive watcher costs: it watches every folder,
ignored ones included.
"""

from __future__ import annotations

import sys

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer


def main() -> int:
    observer = Observer()
    observer.schedule(FileSystemEventHandler(), sys.argv[1], recursive=True)
    observer.start()
    try:
        print("ready", flush=True)
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
