"""The fake arena in tests: the session's servers (one per API generation: the ``api_generation``,
``arena_server`` and ``arena`` fixtures of the root conftest), reads of it over real HTTP through
the routes of its generation, and its request counters.

Everything here takes the arena (anything with ``.url`` and ``.api``: a :class:`FakeArena`, or a
test's own arena process) and picks the generation's routes from ``.api``; a test never spells a
route itself: ``routes(arena).deploy`` is the counter key of a deploy in either generation.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import requests

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.generation import open_arena
from mlarena_sync.api.interface import Arena, Generation
from mlarena_sync.api.v4 import V4Arena
from mlarena_sync.arena import FakeArena

MUTATING = ("PUT", "POST", "DELETE", "PATCH")
#: The v0 agents prefix, for the v0 route tests of ``tests/arena`` (``routes(arena)`` elsewhere).
API = "/api/direct_attache_agents"


class Served(Protocol):
    """A fake arena a test can reach: its base URL and the generation it speaks."""

    @property
    def url(self) -> str: ...

    @property
    def api(self) -> str: ...


@dataclass(frozen=True)
class Routes:
    """The counter keys (``"METHOD /template"``) of one generation, and its URL paths."""

    #: ``/api/.../{cid}/{aid}``: one agent / submission (``agent_path`` fills it in).
    agent: str
    #: What a test counts: create, pin the runtime, upload/delete a file, deploy, list the
    #: files, read the agent's status, read the competition / challenge, delete the agent.
    create: str
    runtime: str
    file: str
    deploy: str
    listing: str
    status: str
    competition: str
    delete: str
    #: The read-back of one file before it is overwritten (v4.6: raw bytes; v0 has none).
    read_back: str | None
    #: The endpoint name of the status read, for a fault rule (``faults.drop_next(route=)``).
    status_endpoint: str

    def agent_path(self, cid: int, aid: int) -> str:
        return self.agent.format(cid=cid, aid=aid, sid=aid)


def _v0_routes() -> Routes:
    agents = API
    one = f"{agents}/competition/{{cid}}/{{aid}}"
    return Routes(
        agent=one,
        create=f"POST {agents}/competition/{{cid}}",
        runtime=f"PUT {agents}/agent_runtime/{{aid}}",
        file=f"PUT {one}/file",
        deploy=f"PUT {one}/deploy",
        listing=f"GET {one}/file",
        status=f"GET {one}/status",
        competition="GET /api/competitions/{cid}",
        delete=f"DELETE {one}",
        read_back=None,
        status_endpoint="status",
    )


def _v4_routes() -> Routes:
    subs = "/api/submissions"
    one = f"{subs}/challenge/{{cid}}/{{sid}}"
    return Routes(
        agent=one,
        create=f"POST {subs}/challenge/{{cid}}",
        runtime=f"PUT {subs}/agent_runtime/{{sid}}",
        file=f"PUT {one}/file",
        deploy=f"PUT {one}/deploy",
        listing=f"GET {one}/file",
        status=f"GET {subs}/submission/{{sid}}",
        competition="GET /api/challenges/{cid}",
        delete=f"DELETE {one}",
        read_back=f"GET {one}/file/{{name}}",
        status_endpoint="submission",
    )


ROUTES: dict[str, Routes] = {"v0": _v0_routes(), "v4.6": _v4_routes()}


def path_of(route: str, **ids: int | str) -> str:
    """The URL path of counter key ``route`` with its ``{placeholders}`` filled in."""
    return route.split(" ", 1)[1].format(**ids)


def routes(arena: Served) -> Routes:
    """The routes of ``arena``'s generation."""
    return ROUTES[arena.api]


@contextlib.contextmanager
def running_arena(api: Generation, host: str = "127.0.0.1") -> Iterator[FakeArena]:
    """A fake arena speaking ``api``, serving on ``host`` and a free port until the block ends."""
    server = FakeArena(api=api)
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


def adapter_class(arena: Served) -> type[ArenaClient] | type[V4Arena]:
    """The client adapter the CLI uses against ``arena`` (to wrap one of its methods)."""
    return ArenaClient if arena.api == "v0" else V4Arena


def open_client(arena: Served, token: str | None = None, **options: Any) -> Arena:
    """The product's client for ``arena``'s generation (``token``: Alice's by default)."""
    return open_arena(arena.url, token or FakeArena.user_token, arena.api, **options)


def _get(arena: Served, path: str, token: str) -> requests.Response:
    return requests.get(
        f"{arena.url}{path}", headers=auth(token), timeout=10, allow_redirects=False
    )


def _file_path(arena: Served, cid: int, aid: int, name: str) -> str:
    return f"{routes(arena).agent_path(cid, aid)}/file/{quote(name, safe='/')}"


def remote_files(arena: Served, token: str, aid: int, cid: int = 1) -> dict[str, Any]:
    """Agent ``aid``'s files: name → ``{size, content, is_binary}`` (``content`` None for a
    binary). v0 lists the contents; v4.6 lists names and sizes, so each text is read through
    ``.../file/{name}/content`` (a listing with ``language: null`` is not served as text)."""
    resp = _get(arena, f"{routes(arena).agent_path(cid, aid)}/file", token)
    resp.raise_for_status()
    files = resp.json()["files"]
    if arena.api == "v0":
        assert isinstance(files, dict)
        return files
    assert isinstance(files, list)
    out: dict[str, Any] = {}
    for f in files:
        content = None
        if f.get("language") is not None:
            text = _get(arena, _file_path(arena, cid, aid, f["name"]) + "/content", token)
            if text.status_code == 404:
                continue  # deleted since the listing (a watch at work): absent
            text.raise_for_status()
            content = text.json()["content"]
        out[f["name"]] = {"size": f["size"], "content": content, "is_binary": content is None}
    return out


def remote_text(arena: Served, token: str, aid: int, cid: int = 1) -> dict[str, str | None]:
    """Name → text content (None for a binary file) of agent ``aid``'s files."""
    return {name: f["content"] for name, f in remote_files(arena, token, aid, cid).items()}


def remote_bytes(
    arena: FakeArena, aid: int, name: str, token: str | None = None, cid: int = 1
) -> bytes | None:
    """Exact bytes of a stored file (None when absent): v4.6 serves them
    (``GET .../file/{name}``); v0 cannot, so they are read from the arena's storage folder."""
    if arena.api != "v0":
        resp = _get(arena, _file_path(arena, cid, aid, name), token or arena.user_token)
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp.content
    store = getattr(arena, "store", None)
    files = getattr(store, "files", None)
    if files is None:
        return None
    path = files.path(aid, name)
    return None if path is None else Path(path).read_bytes()


def delete_agent(arena: Served, token: str, aid: int, cid: int = 1) -> requests.Response:
    """Delete agent ``aid`` on the server (as in the browser); the reply."""
    return requests.delete(
        f"{arena.url}{routes(arena).agent_path(cid, aid)}", headers=auth(token), timeout=10
    )


class AnsweredRequests:
    """A fake arena's ``request_log``, counting the ``/api`` requests it has answered: with
    :func:`api_requests` of its counters (requests received), a test waits until the server has
    finished what a killed client had sent (``FakeArena(request_log=answered)``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, line: str) -> None:  # '127.0.0.1 "PUT /api/..." 200 3ms'
        if line.split('"')[1].split(" ")[-1].startswith("/api/"):
            with self._lock:
                self.count += 1

    def reset(self) -> None:
        with self._lock:
            self.count = 0


def api_requests(counters: Mapping[str, int]) -> int:
    """The ``/api`` requests of a counters snapshot (received, answered or not yet)."""
    return sum(v for k, v in counters.items() if k.split(" ", 1)[-1].startswith("/api/"))


def hits(counters: Mapping[str, int], route: str) -> int:
    """Requests to ``route`` (e.g. ``routes(arena).deploy``)."""
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
