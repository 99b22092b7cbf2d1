"""Bounded waits on a condition, for what has no event to wait on (a remote listing, a file,
a process). Never a bare ``sleep`` in a test."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests

T = TypeVar("T")

#: Errors that mean "not there yet" while polling (a server not up, a file not written).
NOT_YET = (requests.RequestException, OSError, AssertionError, KeyError)


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    what: str = "",
    *,
    interval: float = 0.02,
    tolerate: tuple[type[BaseException], ...] = NOT_YET,
) -> T:
    """Poll ``predicate`` until it returns something true; that value. ``AssertionError`` after
    ``timeout`` seconds (naming ``what`` and the last tolerated error)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = predicate()
        except tolerate as exc:
            last = exc
        else:
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate} (last: {last!r})"
            )
        time.sleep(interval)  # the polling interval of this one helper


def hold(
    seconds: float, check: Callable[[], object] = lambda: None, interval: float = 0.05
) -> None:
    """Let ``seconds`` pass, calling ``check`` (which raises on trouble) along the way: for the
    tests whose claim is that nothing happens within a window (no deploy is sent)."""
    deadline = time.monotonic() + seconds
    while True:
        check()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(interval, left))  # the window is the behaviour under test
