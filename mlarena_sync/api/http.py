"""``HttpCore``: the one request path every API adapter (v0, v4.6) sends through.

One pooled ``requests.Session`` (keep-alive) carries every authenticated call; the bearer token
is added per request, never stored on the session, and redirects are never followed, so the
token cannot travel to another host. Plain ``http://`` is refused except to loopback hosts.

* Timeouts follow the official clients (reads 30 s, uploads 120 s, create/deploy 60 s, deletes
  60 s, raw downloads 300 s, connect 10 s) and are configurable through :class:`Timeouts`.
  Beside these per-read timeouts, each call has a total deadline, retries included
  (``Timeouts.total``, 60 s; uploads and downloads ``total_transfer``, 900 s): past it the
  socket is shut down (:class:`~mlarena_sync.api.transport.Deadline`) and the call fails as a
  timeout, not retried.
* Reads and file PUTs are retried on 429/502/503/504 and connection failures (see
  :mod:`mlarena_sync.api.retry` for the design); a :class:`Call` with ``retried=False`` (create,
  deploy, delete) is sent exactly once.
* Uploads are streamed from disk (:mod:`mlarena_sync.api.multipart`).
* Replies become exceptions in one place, :mod:`mlarena_sync.api.responses`.

The adapters add one method per route on top; this module knows no route.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import requests.auth
import structlog

from mlarena_sync import __version__
from mlarena_sync.api.multipart import UploadBody
from mlarena_sync.api.responses import json_body, raise_for_status, server_message, transport_error
from mlarena_sync.api.retry import make_retry, send_with_retries
from mlarena_sync.api.transport import (
    Bearer,
    Deadline,
    NoAuth,
    close_session,
    new_session,
    segment,
)
from mlarena_sync.api.transport import Timeouts as Timeouts  # where the adapters import it
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    ClientError,
    GenerationChangedError,
    MlarenaSyncError,
    NotFoundError,
    ServerError,
)
from mlarena_sync.tokens import TokenParts, check_url, parse_token, redact

log = structlog.get_logger("mlarena_sync.api")

#: Builds a fresh streamed request body (a context manager, entered once per attempt).
BodyFactory = Callable[[], AbstractContextManager[UploadBody]]

_Self = TypeVar("_Self", bound="HttpCore")


@dataclass(frozen=True)
class Call:
    """One API call, as :meth:`HttpCore._send` sends it."""

    method: str
    route: str  # the path template (``{cid}``-style), logged instead of the URL
    segments: Mapping[str, int | str]
    what: str  # the call's subject in messages ("agent 12 of competition 3")
    read_timeout: float
    retried: bool
    auth: bool = True
    json: object | None = None
    data: Mapping[str, str] | None = None
    body: BodyFactory | None = None
    params: Mapping[str, str | int] | None = None
    #: A 404 goes through the adapter's :meth:`HttpCore._explain_404` (False for its probes).
    explain_404: bool = True


class HttpCore:
    """Session, token, timeouts and the retrying request path shared by the adapters.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeouts: Timeouts | None = None,
        retry_total: int = 4,
        backoff_factor: float = 0.2,
        session: requests.Session | None = None,
        mismatch: Callable[[], ApiError] | None = None,
    ) -> None:
        self.base_url = check_url(base_url).rstrip("/")
        #: The error for "the server speaks another generation than the one asked for", naming
        #: what asked for it (from :func:`~mlarena_sync.api.generation.open_arena`).
        self._mismatch = mismatch
        self._token = token
        self.token_parts: TokenParts | None = parse_token(token) if token is not None else None
        self.timeouts = timeouts or Timeouts()
        self.retry_total = max(0, int(retry_total))
        self.backoff_factor = backoff_factor
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        self._plain: requests.Session | None = None
        self._sleep: Callable[[float], None] = time.sleep
        self._headers = {"User-Agent": f"mlarena-sync/{__version__}", "Accept": "application/json"}

    # ---- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections now (of our own sessions; a caller's session is left open)."""
        if self._owns_session:
            close_session(self._session)
        if self._plain is not None:
            close_session(self._plain)
            self._plain = None

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        token = self.token_parts.masked if self.token_parts else None
        return f"{type(self).__name__}(base_url={self.base_url!r}, token={token!r})"

    def redact(self, text: str) -> str:
        """``text`` with this client's token masked."""
        return redact(text, self._token)

    # ---- the one request path --------------------------------------------------------------

    def _request(self, call: Call, *, file_name: str | None = None) -> requests.Response:
        """Send ``call`` (with retries if ``call.retried``); raise ours for any failure or non-2xx.

        ``file_name`` marks a file PUT whose 400/413/422 is an input problem of that file (and
        whose 409 means "uploads held while a deploy is in flight").
        """
        try:
            response = self._send(call)
        except requests.RequestException as exc:
            raise transport_error(
                exc, what=call.what, token=self._token, server=self.base_url
            ) from None
        return self._verdict(response, call, file_name=file_name)

    def _verdict(
        self,
        response: requests.Response,
        call: Call,
        *,
        deploy_route: bool = False,
        file_name: str | None = None,
    ) -> requests.Response:
        """:meth:`_checked`, with a 404 explained by the adapter first (see ``explain_404``)."""
        try:
            return self._checked(
                response, call.what, deploy_route=deploy_route, file_name=file_name
            )
        except NotFoundError as exc:
            if not call.explain_404:
                raise
            explained = self._explain_404(exc, call.segments)
            if explained is exc:
                raise
            if isinstance(explained, GenerationChangedError) and self._mismatch is not None:
                raise self._mismatch() from None
            raise explained from None

    def _explain_404(self, exc: NotFoundError, segments: Mapping[str, int | str]) -> ApiError:
        """What a 404 means: ``exc`` itself ("not found or not yours"), unless the adapter can
        tell that the route itself is gone (:class:`GenerationChangedError`)."""
        return exc

    def _probe(self, route: str, segments: Mapping[str, int | str]) -> int | None:
        """The status code ``GET route`` answers (None when no answer came): a 404 means the
        route, or the thing, is missing. Never explained, never raised."""
        what = f"probe of {route}"
        call = Call("GET", route, segments, what, self.timeouts.read, True, False)
        try:
            response = self._send(call)
        except requests.RequestException:
            return None
        response.close()
        return response.status_code

    def _checked(
        self,
        response: requests.Response,
        what: str,
        *,
        deploy_route: bool = False,
        file_name: str | None = None,
    ) -> requests.Response:
        """``response`` when it is a 2xx; otherwise closed, and ours raised for it."""
        try:
            raise_for_status(
                response,
                what=what,
                token=self._token,
                deploy_route=deploy_route,
                file_name=file_name,
            )
        except MlarenaSyncError:
            response.close()  # a traceback kept by the caller must not pin the socket
            raise
        return response

    def _send(self, call: Call) -> requests.Response:
        """The HTTP exchange itself: any reply is returned; transport failures propagate.

        ``call.body`` builds a fresh streamed body for every attempt (a retried upload rereads
        its file).
        """
        if call.auth and self._token is None:
            raise AuthError(
                f"{call.what}: an API token is required",
                hint="set MLARENA_API_KEY to a token of scope `user` from your ML Arena profile",
            )
        method, route, body = call.method, call.route, call.body
        url = self.base_url + route.format(**{k: segment(v) for k, v in call.segments.items()})
        credentials: requests.auth.AuthBase = (
            Bearer(self._token) if self._token is not None else NoAuth()
        )
        common: dict[str, Any] = {
            "auth": credentials,
            "timeout": (self.timeouts.connect, call.read_timeout),
            "allow_redirects": False,
            "params": call.params,
        }
        attempt = 0
        deadline = Deadline(self.timeouts.deadline(transfer=self._transfer(call)))

        def send() -> requests.Response:
            nonlocal attempt
            attempt += 1
            started = time.monotonic()

            def logged(**outcome: object) -> None:
                elapsed_ms = round((time.monotonic() - started) * 1000, 1)
                log.debug(
                    "api_request",
                    method=method,
                    route=route,
                    **outcome,
                    elapsed_ms=elapsed_ms,
                    attempt=attempt,
                )

            deadline.check()
            try:
                if body is not None:
                    with body() as upload:
                        headers = {**self._headers, "Content-Type": upload.content_type}
                        response = self._session.request(
                            method, url, data=upload.data, headers=headers, **common
                        )
                else:
                    response = self._session.request(
                        method, url, headers=self._headers, json=call.json, data=call.data, **common
                    )
            except requests.RequestException as exc:
                logged(error=type(exc).__name__)
                if deadline.expired:
                    deadline.check()  # raises DeadlineExceeded, from exc
                raise
            logged(status=response.status_code)
            return response

        def wait(delay: float) -> None:  # a retry's wait ends at the deadline
            self._sleep(min(delay, deadline.left()))

        retry = make_retry(self.retry_total, self.backoff_factor) if call.retried else None
        with deadline:
            return send_with_retries(send, method=method, route=route, retry=retry, sleep=wait)

    def _transfer(self, call: Call) -> bool:
        """An upload or a raw download: its body may be large (:attr:`Timeouts.total_transfer`)."""
        return call.body is not None or call.read_timeout >= self.timeouts.download

    def _json(self, response: requests.Response, what: str) -> Any:
        return json_body(response, what, self._token)

    def _get(
        self,
        route: str,
        segments: Mapping[str, int | str],
        what: str,
        *,
        auth: bool = True,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """A retried GET's decoded JSON (the token is sent whenever we have one)."""
        call = Call(
            "GET",
            route,
            segments,
            what=what,
            read_timeout=self.timeouts.read,
            retried=True,
            auth=auth,
            params=params,
        )
        return self._json(self._request(call), what)

    # ---- signed URLs (no token) ------------------------------------------------------------

    def fetch_signed(self, url: str, *, what: str = "game log") -> str:
        """The text at a signed storage URL, fetched without the Authorization header.

        Signed URLs carry their own credentials and point at another host: the bearer token
        must never go there, so a separate session without auth (and without ``~/.netrc``) is
        used, and redirects are not followed.
        """
        url = check_url(url, what=what)
        host = urlsplit(url).hostname or "?"
        subject = f"{what} on {host}"
        if self._plain is None:
            self._plain = new_session()
        plain = self._plain
        timeout = (self.timeouts.connect, self.timeouts.read)
        ua = {"User-Agent": self._headers["User-Agent"]}
        route = what.replace(" ", "_")

        def send() -> requests.Response:
            started = time.monotonic()
            response = plain.get(
                url, headers=ua, auth=NoAuth(), timeout=timeout, allow_redirects=False
            )
            log.debug(
                "api_request",
                method="GET",
                route=route,
                host=host,
                status=response.status_code,
                elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            )
            return response

        retry = make_retry(self.retry_total, self.backoff_factor)
        try:
            response = send_with_retries(
                send, method="GET", route=route, retry=retry, sleep=self._sleep
            )
        except requests.RequestException as exc:
            raise transport_error(
                exc, what=subject, token=self._token, server=f"{urlsplit(url).scheme}://{host}"
            ) from None
        return _signed_text(response, subject, self._token)


def _signed_text(response: requests.Response, what: str, token: str | None) -> str:
    """The body of a signed-URL reply, or the error that says why there is none."""
    code = response.status_code
    if 200 <= code < 300:
        return response.text
    if 300 <= code < 400:
        raise ApiError(
            f"{what}: the storage answered {code} (a redirect, not followed)",
            status_code=code,
        )
    message = server_message(response, token)
    if code >= 500 or code == 429:
        raise ServerError(f"{what} failed ({code}: {message})", status_code=code)
    raise ClientError(
        f"{what} is not available ({code}: {message})",
        status_code=code,
        hint="signed log URLs expire: list the games again for a fresh one",
    )
