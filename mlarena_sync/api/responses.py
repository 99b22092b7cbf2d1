"""The one place that turns HTTP replies into ``mlarena_sync.errors`` exceptions.

Mapping (every error carries the server's ``{"error": ...}`` text and the status code):

======================  =========================================================================
3xx                     :class:`ServerError` (an unexpected reply, exit 1): never followed (the
                        token must not travel to another host); the message says where it
                        pointed and the hint suggests ``server:`` if that target is right.
401 / 403               :class:`AuthError`, pointing at ``MLARENA_API_KEY`` and scope ``user``.
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
:func:`transport_error`. Nothing here ever includes the token: texts from the server pass through
:func:`~mlarena_sync.tokens.redact`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

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

_TOKEN_HINT = "check MLARENA_API_KEY: mlarena-sync needs a current token of scope `user`"
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
            code, message, body, what=what, deploy_route=deploy_route, file_name=file_name
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
) -> MlarenaSyncError:
    """The error for a 4xx (see the table in the module docstring)."""
    if code in (401, 403):
        refused = (
            f"the server refused the API token (401: {message})"
            if code == 401
            else f"permission refused for {what} (403: {message})"
        )
        return AuthError(refused, status_code=code, hint=_TOKEN_HINT, body=body)
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


def transport_error(
    exc: requests.RequestException, *, what: str, token: str | None
) -> MlarenaSyncError:
    """A requests exception as :class:`TransportError` (or :class:`ConfigError` for bad URLs)."""
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return ConfigError(f"bad URL for {what}: {redact(str(exc), token)}")
    if isinstance(exc, requests.exceptions.SSLError):
        reason, hint = "TLS verification failed", "check the server URL and your CA certificates"
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        reason, hint = "timed out connecting", "check your network and the server URL"
    elif isinstance(exc, DeadlineExceeded):
        reason = "no complete reply within the request deadline"
        hint = "the server is slow; try again later (the deadline: `sync.request_deadline`)"
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        reason, hint = "timed out waiting for the reply", "the server is slow; try again later"
    elif isinstance(exc, requests.exceptions.ConnectionError):
        reason, hint = "connection failed", "check your network and the server URL"
    else:
        reason, hint = "request failed", "try again later"
    detail = redact(_short(exc), token)
    return TransportError(f"{what}: {reason} ({detail})", hint=hint)


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
