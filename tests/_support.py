"""Test support shared across the suites: CLI results and reads of the fake arena over HTTP.

Importable as ``_support`` (``tests/`` is on ``sys.path`` through its rootdir ``conftest.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

API = "/api/direct_attache_agents"


@dataclass
class Result:
    """A CLI run: exit code and captured output."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


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
