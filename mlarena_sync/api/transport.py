"""Session plumbing for the client: auth handlers, path segments, pool closing, "was it sent?".

Kept apart from :mod:`mlarena_sync.api.client` so that the client reads as one method per route.
"""

from __future__ import annotations

from urllib.parse import quote

import requests
import requests.auth
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from mlarena_sync.errors import ConfigError


def new_session() -> requests.Session:
    """A keep-alive session whose adapters never retry (retries are ours, per call)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=8, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Bearer(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, set per request.

    Passing it as ``auth=`` (rather than a plain header) also stops requests from replacing it
    with credentials from ``~/.netrc``.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "Bearer(***)"


class NoAuth(requests.auth.AuthBase):
    """No credentials at all (signed URLs): nothing from ``~/.netrc`` either."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def segment(value: int | str) -> str:
    """One URL path segment, percent-encoded (ids must be real ints)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"invalid id or name in an API path: {value!r}")
    return quote(str(value), safe="")


def maybe_sent(exc: requests.RequestException) -> bool:
    """False when the request surely never reached the server (connect-phase failure)."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, (NewConnectionError, NameResolutionError, ConnectTimeoutError)):
            return False
        nxt = getattr(seen, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = nxt
    return True


def close_session(session: requests.Session) -> None:
    """``session.close()``, and close its pools at once.

    Recent urllib3 closes a dropped pool only when it is garbage-collected; a traceback that
    still references a response would keep the keep-alive socket open until then.
    """
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        pools = getattr(manager, "pools", None)
        if pools is None:
            continue
        for key in list(pools.keys()):  # the container refuses iteration
            pool = pools.get(key)
            if pool is not None:
                pool.close()
    session.close()
