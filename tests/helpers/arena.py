"""The fake arena in tests: the session's server (the ``arena_server``/``arena`` fixtures of the
root conftest), reads of it over real HTTP, and its request counters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from mlarena_sync.arena import FakeArena

API = "/api/direct_attache_agents"
FILE_ROUTE = f"PUT {API}/competition/{{cid}}/{{aid}}/file"
DEPLOY_ROUTE = f"PUT {API}/competition/{{cid}}/{{aid}}/deploy"
CREATE_ROUTE = f"POST {API}/competition/{{cid}}"
RUNTIME_ROUTE = f"PUT {API}/agent_runtime/{{aid}}"
MUTATING = ("PUT", "POST", "DELETE", "PATCH")


@contextlib.contextmanager
def running_arena(host: str = "127.0.0.1") -> Iterator[FakeArena]:
    """A fake arena serving on ``host`` and a free port until the block ends."""
    server = FakeArena(api="v0")  # until the suite runs on both generations
    server.start(host, 0)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def fresh(arena: FakeArena) -> Iterator[FakeArena]:
    """``arena`` reset (fresh seeded store, no faults, counters at zero); faults cleared after."""
    arena.reset()
    try:
        yield arena
    finally:
        arena.faults.clear()


def auth(token: str) -> dict[str, str]:
    """The ``Authorization`` header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


def remote_files(url: str, token: str, aid: int, cid: int = 1) -> dict[str, Any]:
    """The file listing of agent ``aid`` (name → ``{content, size, is_binary, ...}``)."""
    resp = requests.get(
        f"{url}{API}/competition/{cid}/{aid}/file",
        headers=auth(token),
        timeout=10,
        allow_redirects=False,
    )
    resp.raise_for_status()
    files = resp.json()["files"]
    assert isinstance(files, dict)
    return files


def remote_text(url: str, token: str, aid: int, cid: int = 1) -> dict[str, str | None]:
    """Name → text content (None for a binary file) of agent ``aid``'s files."""
    return {name: f["content"] for name, f in remote_files(url, token, aid, cid).items()}


def remote_bytes(arena: Any, aid: int, name: str) -> bytes | None:
    """Exact bytes of a stored file, read from the fake arena's storage folder."""
    store = getattr(arena, "store", None)
    files = getattr(store, "files", None)
    if files is None:
        return None
    path = files.path(aid, name)
    return None if path is None else Path(path).read_bytes()


def hits(counters: Mapping[str, int], route: str) -> int:
    """Requests to ``route`` (e.g. :data:`DEPLOY_ROUTE`)."""
    return counters.get(route, 0)


def mutations(counters: Mapping[str, int]) -> dict[str, int]:
    """The requests of a counters snapshot that may change something on the server."""
    return {k: v for k, v in counters.items() if k.split(" ", 1)[0] in MUTATING and v}


def count(counters: Mapping[str, int], method: str, suffix: str) -> int:
    """Requests of ``method`` to a route ending with ``suffix`` (e.g. ``"/deploy"``)."""
    return sum(
        v
        for k, v in counters.items()
        if k.split(" ", 1)[0] == method and k.split(" ", 1)[-1].rstrip("/").endswith(suffix)
    )
