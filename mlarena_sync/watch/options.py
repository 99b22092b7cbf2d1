"""The timing knobs of a ``watch`` session that are not user configuration (tests and the
benchmark shorten them); the user's settings are ``watch:`` and ``deploy:`` in mlarena.yaml."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WatchOptions"]


@dataclass(frozen=True)
class WatchOptions:
    poll: float = 0.5  # status polls while a deploy is in flight
    backoff_base: float = 0.5  # first retry after a lost connection; doubles up to the cap
    backoff_cap: float = 30.0
    max_duration: float | None = None  # stop after this many seconds (tests, benchmarks)
    quota_retry: float = 300.0  # quota used up and the server gave no next slot time
    start_grace: float = 10.0  # after a deploy request, a settled status this early may be stale
    max_wait_step: float = 1.0  # longest wait while a wall-clock time (a deploy slot) is awaited
    remote_every: float = 600.0  # a rescan contacts the server at least this often
    idle_wait: float = 3600.0  # longest single wait when nothing is due
