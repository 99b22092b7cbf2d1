"""Which API generation a server speaks, and the adapter that speaks it.

``api-v4.md`` ("Detecting the generation"): with a known submission ``sid``,
``GET /api/submissions/submission/{sid}`` answering 200 means today's routes; a 404 there while
``GET /api/submissions/challenge/{cid}/{sid}/deploy`` answers means a 2.x–4.4 server (older
shapes, unsupported); without a ``sid`` (or when that submission is gone),
``GET /api/challenges/{cid}`` against ``GET /api/competitions/{cid}`` tells v4.6 from v0.
Without even a challenge id, the two list routes (``/api/challenges/``, ``/api/competitions/``)
do. A route "answers" when it is not a 404: a 401/403 is a route that exists.

:func:`open_arena` is what the commands call: an explicit generation is used as is, ``auto``
uses the generation remembered in ``.mlarena-sync/`` (no request at all) and probes only when
nothing is remembered. A remembered generation that went stale shows up as
:class:`~mlarena_sync.errors.GenerationChangedError` from the adapter; the caller then forgets
it and opens again.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Literal, cast

import requests

from mlarena_sync.api.http import Call, HttpCore, Timeouts
from mlarena_sync.api.interface import GENERATIONS, Arena, Generation
from mlarena_sync.api.responses import transport_error
from mlarena_sync.api.v0 import ArenaClient
from mlarena_sync.api.v4 import V4Arena
from mlarena_sync.errors import ConfigError, GenerationMismatchError, UnsupportedServerError

__all__ = ["CHOICES", "detect_generation", "open_arena"]

#: What ``api:`` in mlarena.yaml may say.
CHOICES = ("auto", *GENERATIONS)


class _Prober(HttpCore):
    """Asks "does this route exist?" (any answer but a 404), nothing more."""

    def exists(self, route: str, segments: Mapping[str, int | str]) -> bool:
        """True unless ``GET route`` answers 404; an error that says nothing about the route
        (maintenance, 5xx, a redirect, no answer) is raised, since guessing would be worse."""
        what = f"API generation probe ({route})"
        call = Call("GET", route, segments, what, self.timeouts.read, retried=True, auth=False)
        try:
            response = self._send(call)
        except requests.RequestException as exc:
            raise transport_error(exc, what=what, token=self._token, server=self.base_url) from None
        code = response.status_code
        if code not in (401, 403, 404):
            self._checked(response, what)  # a 2xx passes; maintenance, 5xx, 3xx... raise ours
        response.close()
        return code != 404


def detect_generation(
    server: str,
    token: str | None,
    *,
    cid: int | None = None,
    sid: int | None = None,
    timeouts: Timeouts | None = None,
    session: requests.Session | None = None,
) -> Generation:
    """``"v4.6"`` or ``"v0"``, from as few reads as the known ids allow.

    :class:`UnsupportedServerError` (one sentence) when the server speaks neither (or speaks
    the 2.x–4.4 shapes); :class:`MaintenanceError`, :class:`TransportError`... as any call.
    """
    with _Prober(server, token, timeouts=timeouts, session=session) as probe:
        if sid is not None and cid is not None:
            if probe.exists("/api/submissions/submission/{sid}", {"sid": sid}):
                return "v4.6"
            older = "/api/submissions/challenge/{cid}/{sid}/deploy"
            if probe.exists(older, {"cid": cid, "sid": sid}):
                raise UnsupportedServerError(
                    f"the server at {probe.base_url} speaks an older submissions API "
                    "(SDK 2.x–4.4) that mlarena-sync does not support; it needs the v4.6 routes"
                )
        if cid is not None:
            if probe.exists("/api/challenges/{cid}", {"cid": cid}):
                return "v4.6"
            if probe.exists("/api/competitions/{cid}", {"cid": cid}):
                return "v0"
        if probe.exists("/api/challenges/", {}):
            return "v4.6"
        if probe.exists("/api/competitions/", {}):
            return "v0"
        raise UnsupportedServerError(
            f"the server at {probe.base_url} answers neither the ML Arena v4.6 routes nor the "
            "v0 ones (404 on /api/challenges/ and /api/competitions/), so it is not an ML Arena "
            "API that mlarena-sync speaks",
            hint="check `server:` in mlarena.yaml (like https://ml-arena.com)",
        )


def open_arena(
    server: str,
    token: str | None,
    generation: str = "auto",
    remembered: str | None = None,
    *,
    cid: int | None = None,
    sid: int | None = None,
    timeouts: Timeouts | None = None,
    retry_total: int = 4,
    backoff_factor: float = 0.2,
    session: requests.Session | None = None,
    asked_by: str = "asked",
) -> Arena:
    """The adapter for ``generation`` (``auto``: ``remembered``, else detected); ``asked_by``
    is what set an explicit ``generation`` (``--api``, ``MLARENA_API``, ``api:``; ``asked``: a
    command's own ``--api``), named by the hint when the server does not speak it.

    ``remembered`` is what ``.mlarena-sync/`` kept from a previous detection (ignored unless
    it names a known generation); the chosen one is ``arena.capabilities.generation``, which
    the caller remembers in turn.
    """
    if generation not in CHOICES:
        raise ConfigError(
            f"unknown API generation {generation!r}",
            hint=f"set `api:` in mlarena.yaml to one of {', '.join(CHOICES)}",
        )
    chosen: Generation
    source: GenerationSource | None = None
    if generation != "auto":
        chosen = cast(Generation, generation)
        source = _source(asked_by)
    elif remembered in GENERATIONS:
        chosen = remembered
        source = "remembered"
    else:  # detected now: the server speaks it
        chosen = detect_generation(
            server, token, cid=cid, sid=sid, timeouts=timeouts, session=session
        )
    adapter = ArenaClient if chosen == "v0" else V4Arena
    return adapter(
        server,
        token,
        timeouts=timeouts,
        retry_total=retry_total,
        backoff_factor=backoff_factor,
        session=session,
        mismatch=partial(generation_mismatch, server, chosen, source) if source else None,
    )


def _source(asked_by: str) -> GenerationSource:
    """``asked_by`` as one of the sources :func:`generation_mismatch` words."""
    if asked_by in ("--api", "MLARENA_API", "api:"):
        return cast(GenerationSource, asked_by)
    return "asked"


#: Where the API generation in use came from (see :func:`generation_mismatch`).
GenerationSource = Literal["--api", "MLARENA_API", "api:", "remembered", "asked"]


def generation_mismatch(
    server: str, asked: Generation, source: GenerationSource
) -> GenerationMismatchError:
    """The server does not speak the generation ``asked`` for: said in plain words, the hint
    naming what asked for it (``source``; a configuration error, exit 2)."""
    server = server.rstrip("/")
    other = "v0" if asked == "v4.6" else "v4.6"
    detects = "auto detects the server's API"
    by, hint = {
        "--api": (f"--api {asked}", f"leave out --api: {detects}; or pass --api {other}"),
        "MLARENA_API": (
            f"MLARENA_API={asked}",
            f"unset MLARENA_API: {detects}; or set it to {other}",
        ),
        "api:": (
            f"`api: {asked}` in mlarena.yaml",
            f"set `api:` in mlarena.yaml to `auto`: it detects the server's API; or to `{other}`",
        ),
        "remembered": (
            "mlarena-sync remembered for it in .mlarena-sync/api.json",
            "delete .mlarena-sync/api.json and run again: the server's API is detected anew",
        ),
        "asked": (
            "was asked for with --api",
            f"leave out --api: {detects}; or pass --api {other}",
        ),
    }[source]
    if source == "remembered":
        message = f"the server at {server} no longer speaks the {asked} API that {by}"
    elif source == "asked":
        message = f"the server at {server} does not speak the {asked} API that {by}"
    else:
        message = f"the server at {server} does not speak the {asked} API that {by} asks for"
    return GenerationMismatchError(message, status_code=404, hint=hint)
