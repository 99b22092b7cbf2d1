"""The one place that turns HTTP replies into ``mlarena_sync.errors`` exceptions.

Mapping (every error carries the server's ``{"error": ...}`` text and the status code):

======================  =========================================================================
3xx                     :class:`ServerError` (an unexpected reply, exit 1): never followed (the
                        token must not travel to another host); the message says where it
                        pointed and the hint suggests ``server:`` if that target is right.
401 / 403               :class:`AuthError`, pointing at where the token came from, scope ``user``.
404                     :class:`NotFoundError`: "not found or not yours" (the server never says).
409 on deploy routes    :class:`QuotaError` with ``next_available_at`` from ``deployment_limits``.
409 on a file PUT       :class:`UploadsHeldError`: the server holds uploads while a deploy is in
                        flight (v4.6); the engine holds its edits and syncs once it settles.
400/413/422 file PUT    :class:`RefusedFileError` (a :class:`ConfigError`): the file itself is
                        refused (bad name, too large, too many files). Our own name checks
                        should have caught it; the fix is to rename, shrink or exclude the file,
                        so it is an input problem (exit 2).
other 4xx               :class:`ClientError` with the server's message.
429 (after retries)     :class:`ServerError`: transient, like a 503; try again later.
503 maintenance_mode    :class:`MaintenanceError` with the admin's message (v4.6 servers).
5xx (after retries)     :class:`ServerError`.
======================  =========================================================================

Transport failures (refused, reset, timeout, TLS) become :class:`TransportError` in
:func:`transport_error`, in plain words (``could not connect to URL: connection refused``, with
a hint); the exception chain goes to the ``api_transport_error`` debug event only. Nothing
here ever includes the token: texts from the server pass through
:func:`~mlarena_sync.tokens.redact`.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import structlog
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from mlarena_sync.api.models import DeployLimits
from mlarena_sync.api.transport import DeadlineExceeded
from mlarena_sync.errors import (
    AuthError,
    ClientError,
    ConfigError,
    MaintenanceError,
    MlarenaSyncError,
    NotFoundError,
    QuotaError,
    RefusedFileError,
    ServerError,
    TransportError,
    UploadsHeldError,
)
from mlarena_sync.tokens import redact

log = structlog.get_logger("mlarena_sync.api")


def _token_hint(token: str | None) -> str:
    """Check the token where it came from: ``origin`` when the config layer marked it
    (:class:`mlarena_sync.config.overrides.Token`: a variable, or the key file), else
    ``MLARENA_API_KEY``."""
    origin = getattr(token, "origin", None) or "MLARENA_API_KEY"
    return f"check {origin}: mlarena-sync needs a current token of scope `user`"


_MAX_TEXT = 300


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def server_message(response: requests.Response, token: str | None) -> str:
    """The server's reason: ``{"error": ...}`` (or ``message``), else the start of the body."""
    return _message(response, _body(response), token)


def _message(response: requests.Response, body: Any, token: str | None) -> str:
    """:func:`server_message` from the already decoded ``body``."""
    text: str | None = None
    if isinstance(body, Mapping):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    if text is None:
        raw = (response.text or "").strip()
        if raw and not raw.lstrip().startswith("<"):  # skip HTML error pages
            text = " ".join(raw.split())
    if not text:
        text = response.reason or "no reason given"
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "…"
    return redact(text, token)


def json_body(response: requests.Response, what: str, token: str | None) -> Any:
    """The decoded JSON of a successful reply, or :class:`ServerError` when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        snippet = redact(" ".join((response.text or "")[:80].split()), token)
        raise ServerError(
            f"unexpected reply from the server for {what}: not JSON ({snippet!r})",
            status_code=response.status_code,
            hint="is `server:` the ML Arena API? It should be like https://ml-arena.com",
        ) from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def raise_for_status(
    response: requests.Response,
    *,
    what: str,
    token: str | None,
    deploy_route: bool = False,
    file_name: str | None = None,
) -> None:
    """Return for 2xx; otherwise raise the matching ``mlarena_sync.errors`` exception.

    ``what`` names the call's subject for messages ("agent 12 of competition 3").
    ``deploy_route`` turns a 409 into :class:`QuotaError`; ``file_name`` marks a file PUT whose
    400/413/422 is an input problem of that file.
    """
    code = response.status_code
    if 200 <= code < 300:
        return
    if 300 <= code < 400:
        location = response.headers.get("Location")
        target = urljoin(response.url or "", location) if location else "nowhere"
        raise ServerError(
            f"the server answered {code} redirecting {what} to {redact(target, token)}; "
            "mlarena-sync never follows redirects (the API token must not be sent elsewhere)",
            status_code=code,
            hint=f"if {redact(_origin(target), token)} is the right server, set `server:` to it",
        )
    body = _body(response)
    message = _message(response, body, token)
    if 400 <= code < 500:
        raise _refusal(
            code,
            message,
            body,
            what=what,
            deploy_route=deploy_route,
            file_name=file_name,
            token=token,
        )
    if code == 503 and isinstance(body, Mapping) and body.get("maintenance_mode") is True:
        raise MaintenanceError(
            f"ML Arena is under maintenance: {message}",
            admin_message=message,
            status_code=code,
            hint="nothing was changed; run again once the maintenance is over",
            body=body,
        )
    raise ServerError(
        f"the server failed on {what} ({code}: {message})",
        status_code=code,
        hint="the platform may be having trouble; try again later",
        body=body,
    )


def _refusal(
    code: int,
    message: str,
    body: Any,
    *,
    what: str,
    deploy_route: bool,
    file_name: str | None,
    token: str | None = None,
) -> MlarenaSyncError:
    """The error for a 4xx (see the table in the module docstring)."""
    if code in (401, 403):
        refused = (
            f"the server refused the API token (401: {message})"
            if code == 401
            else f"permission refused for {what} (403: {message})"
        )
        return AuthError(refused, status_code=code, hint=_token_hint(token), body=body)
    if code == 404:
        return NotFoundError(
            f"{what}: not found or not yours (404: {message})",
            status_code=code,
            hint="check `competition:` and `agent:` in mlarena.yaml and that the token is yours",
            body=body,
        )
    if code == 409 and deploy_route:
        limits = DeployLimits.from_reply(body)
        return QuotaError(
            f"deploy refused for {what}: {message}",
            status_code=code,
            body=body,
            next_available_at=limits.next_available_at if limits else None,
        )
    if file_name is not None and code == 409:
        return UploadsHeldError(
            f"the server holds uploads while a deploy is in flight: {file_name!r} was not "
            f"written (409: {message})",
            status_code=code,
            hint="the edit is kept locally and synced once the deploy has settled",
            body=body,
        )
    if file_name is not None and code in (400, 413, 422):
        return RefusedFileError(
            f"the server refused file {file_name!r} ({code}: {message})",
            file_name=file_name,
            hint="rename, shrink or exclude the file in mlarena.yaml, then run again",
        )
    if code == 429:
        return ServerError(
            f"the server is rate limiting requests for {what} (429: {message})",
            status_code=code,
            hint="wait a minute and run again",
            body=body,
        )
    return ClientError(f"{what} failed ({code}: {message})", status_code=code, body=body)


_WHERE = "--server / MLARENA_SERVER / server: in mlarena.yaml"


def transport_error(
    exc: requests.RequestException,
    *,
    what: str,
    token: str | None,
    server: str | None = None,
) -> MlarenaSyncError:
    """A requests exception as :class:`TransportError` (or :class:`ConfigError` for bad URLs),
    in plain words: ``could not connect to http://127.0.0.1:1: connection refused``.

    ``server`` is the origin the call went to (else taken from the failed request). The
    exception chain, which reads like debug output, goes to the ``api_transport_error`` debug
    event only (``-v``).
    """
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return ConfigError(f"bad URL for {what}: {redact(str(exc), token)}", hint=f"check {_WHERE}")
    where = server or _request_origin(exc) or "the server"
    chain = _chain(exc)
    log.debug(
        "api_transport_error",
        what=what,
        error=type(exc).__name__,
        reason=redact(_short(exc), token),
    )
    message, hint = _plain(exc, chain, where, what)
    return TransportError(redact(message, token), hint=hint)


def _plain(
    exc: requests.RequestException, chain: list[BaseException], where: str, what: str
) -> tuple[str, str]:
    """The message and the hint for a transport failure (see :func:`transport_error`)."""
    check = f"check your network, and the server address: {_WHERE}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"could not connect securely to {where}: {_tls_reason(chain)}", (
            "check that the address is right and starts with https:// only if the server "
            "speaks TLS; behind a proxy that re-signs TLS, set REQUESTS_CA_BUNDLE to its "
            "certificate"
        )
    if isinstance(exc, DeadlineExceeded):
        seconds = str(exc.args[0]).rstrip("s") if exc.args else ""
        limit = f"the {seconds} s request deadline" if seconds else "the request deadline"
        return f"no complete reply from {where} for {what} within {limit}", (
            "the server is slow; try again later, or raise `sync.request_deadline` in mlarena.yaml"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"could not connect to {where}: no answer{_within(chain)}", check
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return (
            f"{where} did not answer the request for {what}{_within(chain) or ' in time'}",
            "the server is slow; try again later",
        )
    if _find(chain, NameResolutionError, socket.gaierror):
        host = urlsplit(where).hostname if "://" in where else None
        name = f"the name {host}" if host else "the server's name"
        return f"could not connect to {where}: {name} was not found", (
            f"check the server address for typos: {_WHERE}"
        )
    if _find(chain, ConnectionRefusedError):
        return f"could not connect to {where}: connection refused", (
            f"is the server running? check {_WHERE}"
        )
    refused = _find(chain, NewConnectionError, ConnectTimeoutError)
    if refused is not None:
        reason = _os_reason(chain) or "no connection could be made"
        return f"could not connect to {where}: {reason}", check
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return (
            f"the reply of {where} to the request for {what} was cut off",
            "try again; check your network",
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"the connection to {where} broke off during the request for {what}", (
            "try again; check your network"
        )
    return f"the request for {what} to {where} failed", "try again later"


def _within(chain: list[BaseException]) -> str:
    """`` within 10 s`` from urllib3's ``timeout=10`` in the chain, else ``""``."""
    for e in chain:
        found = re.search(r"timeout=(\d+(?:\.\d+)?)", str(e))
        if found:
            return f" within {float(found[1]):g} s"
    return ""


def _request_origin(exc: requests.RequestException) -> str | None:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    if not isinstance(url, str) or "://" not in url:
        return None
    return _origin(url)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps (urllib3's ``reason``, ``args[0]``, the cause)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        cur = todo.pop(0)
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        reason = getattr(cur, "reason", None)
        for nxt in (
            reason,
            cur.args[0] if cur.args else None,
            cur.__cause__,
            cur.__context__,
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return seen


def _find(chain: list[BaseException], *kinds: type[BaseException]) -> BaseException | None:
    return next((e for e in chain if isinstance(e, kinds)), None)


def _os_reason(chain: list[BaseException]) -> str | None:
    """``network is unreachable``: the OS's words for the innermost error with an errno."""
    for e in reversed(chain):
        if isinstance(e, OSError) and e.errno is not None and e.strerror:
            return e.strerror[0].lower() + e.strerror[1:]
    return None


def _tls_reason(chain: list[BaseException]) -> str:
    text = " ".join(str(e) for e in chain)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "Hostname mismatch" in text or "doesn't match" in text:
            return "its TLS certificate is for another name"
        if "expired" in text:
            return "its TLS certificate has expired"
        return "its TLS certificate could not be verified"
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return "it does not speak TLS; is it an http:// address?"
    return "the TLS handshake failed"


def _short(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 exception chain."""
    inner: BaseException = exc
    for _ in range(4):
        arg = inner.args[0] if inner.args else None
        reason = getattr(arg, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        elif isinstance(arg, BaseException):
            inner = arg
        else:
            break
    text = str(inner) or type(inner).__name__
    return text[:200]
