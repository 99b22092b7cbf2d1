"""The reads a reconcile of a bound agent starts before it scans the folder: its status and its
file listing, in parallel (two short-lived threads), so the scan and the two round trips overlap.
Reads only: nothing is changed before the local checks are done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import AgentStatus

__all__ = ["ParallelReads"]


class ParallelReads:
    """A bound agent's status and file listing, read in parallel while the folder is scanned
    (reads only: nothing is changed before the local checks are done)."""

    def __init__(self, client: Arena, cid: int, aid: int) -> None:
        self.client = client
        self.cid = cid
        self.aid = aid
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlarena-read")
        self.status = self._pool.submit(client.status, cid, aid)
        self.listing = self._pool.submit(client.list_files, cid, aid)

    def status_of(self, aid: int) -> AgentStatus:
        return self.status.result() if aid == self.aid else self.client.status(self.cid, aid)

    def close(self) -> None:
        """Wait for both (an unused or failed read is dropped)."""
        self._pool.shutdown(wait=True)
