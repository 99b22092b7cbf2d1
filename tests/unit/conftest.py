"""The pure suite: no server, no network. Every test here runs with sockets disabled
(pytest-socket's ``socket_disabled``: creating any socket raises)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_sockets(socket_disabled: None) -> None:
    """Requested by every unit test: pytest-socket sees ``socket_disabled`` and blocks sockets."""
