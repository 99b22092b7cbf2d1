"""Retries for idempotent API calls: urllib3's ``Retry`` as the policy, driven per call.

Why not simply mount ``HTTPAdapter(max_retries=Retry(...))`` on the session? Two reasons:

* requests binds one ``Retry`` per adapter, i.e. per URL prefix, while our policy is per
  *route*: a file upload and a deploy are both ``PUT`` under the same agent prefix, yet the upload
  must be retried and the deploy must never be (a deploy that timed out may have been accepted;
  sending it again would spend a second daily deploy). A method allowlist cannot tell them apart,
  and urllib3 retries connect-phase failures of any method.
* urllib3 replays the request body it was given. A streamed multipart body
  (``requests_toolbelt.MultipartEncoder``) is a one-shot reader: a replay would send an empty or
  truncated body. A retried upload must rebuild its body from the file.

So the session's adapter keeps requests' default of *no* retries, and :func:`send_with_retries`
runs the attempts itself, calling back into the caller for a fresh request each time (uploads
reopen the file there). urllib3's ``Retry`` still does the real work: it keeps the counts
(``total``), decides which statuses are retryable (``status_forcelist``: 429/502/503/504),
computes the capped exponential backoff (``backoff_factor``, ``backoff_max``) and parses
``Retry-After`` (seconds or an HTTP date); we cap that wait at :data:`RETRY_AFTER_MAX` ourselves
so the behaviour does not depend on the urllib3 version. Connection errors (refused, reset,
dropped) and read timeouts are retried too, but only for calls that are safe to repeat: reads
and file PUTs (an upload overwrites, a delete of a deleted file is harmless). Create-agent,
deploy and delete-agent pass ``retry=None`` and get exactly one attempt. A 503 that announces
an admin's maintenance (``"maintenance_mode": true``) is not retried: it lasts minutes, and the
user is better told at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
import structlog
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from mlarena_sync.api.transport import DeadlineExceeded

#: Statuses worth another attempt: rate limited, bad gateway, unavailable, gateway timeout.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Longest wait between attempts computed from the backoff (seconds).
BACKOFF_MAX = 10.0
#: Longest wait honoured from a ``Retry-After`` header (seconds).
RETRY_AFTER_MAX = 30.0

log = structlog.get_logger("mlarena_sync.api")


def make_retry(total: int, backoff_factor: float) -> Retry:
    """The policy for one idempotent call: ``total`` extra attempts at most."""
    return Retry(
        total=total,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # the caller only asks for retries on idempotent routes
        backoff_factor=backoff_factor,
        backoff_max=BACKOFF_MAX,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def retryable_error(exc: BaseException) -> bool:
    """Transport failures worth another attempt (not TLS failures: those do not heal; nor a
    passed request deadline: it covers the retries too)."""
    if isinstance(exc, (requests.exceptions.SSLError, DeadlineExceeded)):
        return False
    return isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ),
    )


def is_maintenance(response: requests.Response) -> bool:
    """A 503 whose body says ``"maintenance_mode": true`` (v4.6 servers, every route)."""
    if response.status_code != 503:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("maintenance_mode") is True


def _final(retry: Retry, method: str, response: requests.Response) -> bool:
    """No other attempt for this answer (an admin's maintenance lasts minutes: say so now)."""
    has_retry_after = "Retry-After" in response.headers
    if not retry.is_retry(method, response.status_code, has_retry_after):
        return True
    return is_maintenance(response)


def _retry_after(retry: Retry, response: requests.Response) -> float | None:
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        seconds = float(retry.parse_retry_after(header))
    except Urllib3Error:
        return None  # unparsable header: fall back to the backoff
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def send_with_retries(
    send: Callable[[], requests.Response],
    *,
    method: str,
    route: str,
    retry: Retry | None,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """``send()`` until it answers something final; the last response or error wins.

    ``send`` must build a fresh request each time it is called. Exceptions other than retryable
    transport errors propagate at once; a retryable error still failing after the last attempt
    is re-raised; a retryable status after the last attempt is returned for the caller to turn
    into an error.
    """
    attempt = 1
    while True:
        try:
            response = send()
        except requests.RequestException as exc:
            if retry is None or not retryable_error(exc):
                raise
            try:
                retry = retry.increment(method=method, url=route, error=exc)
            except MaxRetryError:
                raise exc from None
            delay = retry.get_backoff_time()
            log.debug(
                "api_retry",
                method=method,
                route=route,
                attempt=attempt,
                error=type(exc).__name__,
                delay_s=round(delay, 3),
            )
        else:
            if retry is None or _final(retry, method, response):
                return response
            raw = response.raw if isinstance(response.raw, BaseHTTPResponse) else None
            try:
                retry = retry.increment(method=method, url=route, response=raw)
            except MaxRetryError:
                return response
            after = _retry_after(retry, response) if retry.respect_retry_after_header else None
            delay = after if after is not None else retry.get_backoff_time()
            log.debug(
                "api_retry",
                method=method,
                route=route,
                attempt=attempt,
                status=response.status_code,
                retry_after_s=after,
                delay_s=round(delay, 3),
            )
            response.close()
        attempt += 1
        if delay > 0:
            sleep(delay)
